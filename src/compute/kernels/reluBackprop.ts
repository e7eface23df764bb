/**
 * A custom tfjs kernel: the ReLU's backward, dy * step(y), in one pass. tfjs writes it as Step then
 * Multiply, two tensors of the activation's size (the first conv of 2c2d at batch 8192: 0.8 GB each),
 * where one will do. Same values bit for bit: dy * 1, dy * 0 (a signed zero; NaN for an infinite dy) and
 * NaN where y is NaN, as Multiply and Step give them. Registered here for backend 'cpu' as a typed-array
 * loop; the BLAS layer replaces it with C. Other backends have no such kernel: `reluBackprop` then
 * composes Step and Multiply.
 */
import { float32OfOneLength, registerCpuKernel } from './cpuKernel.js';

export const RELU_BACKPROP_KERNEL = 'NgdBenchReluBackprop';

/** out[i] = dy[i] * step(y[i]), step as tfjs's Step kernel (alpha 0) computes it. */
export function reluBackpropInto(dy: Float32Array, y: Float32Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) {
    const v = y[i];
    out[i] = dy[i] * (Number.isNaN(v) ? Number.NaN : v > 0 ? 1 : 0);
  }
}

registerCpuKernel(RELU_BACKPROP_KERNEL, ({ inputs, cpu }) => {
  const [dy, y] = float32OfOneLength(cpu, RELU_BACKPROP_KERNEL, [inputs.dy, inputs.y]);
  const out = new Float32Array(dy.length);
  reluBackpropInto(dy, y, out);
  return cpu.makeTensorInfo(inputs.dy.shape, 'float32', out);
});
