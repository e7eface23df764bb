/**
 * A custom tfjs kernel: the ReLU's backward, dy * step(y), in one pass. tfjs writes it as Step then
 * Multiply, two tensors of the activation's size (the first conv of 2c2d at batch 8192: 0.8 GB each),
 * where one will do. Same values bit for bit: dy * 1, dy * 0 (a signed zero; NaN for an infinite dy) and
 * NaN where y is NaN, as Multiply and Step give them. Registered here for backend 'cpu' as a typed-array
 * loop; the BLAS layer replaces it with C. Other backends have no such kernel: `reluBackprop` then
 * composes Step and Multiply.
 */
import { getKernel, registerKernel, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

export const RELU_BACKPROP_KERNEL = 'NgdBenchReluBackprop';

/** out[i] = dy[i] * step(y[i]), step as tfjs's Step kernel (alpha 0) computes it. */
export function reluBackpropInto(dy: Float32Array, y: Float32Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) {
    const v = y[i];
    out[i] = dy[i] * (Number.isNaN(v) ? Number.NaN : v > 0 ? 1 : 0);
  }
}

interface CpuBackendData {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): TensorInfo;
}

const cpuKernel: KernelConfig = {
  kernelName: RELU_BACKPROP_KERNEL,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend }) => {
    const { dy, y } = inputs as { dy: TensorInfo; y: TensorInfo };
    const cpu = backend as unknown as CpuBackendData;
    const dyValues = cpu.data.get(dy.dataId).values;
    const yValues = cpu.data.get(y.dataId).values;
    if (!(dyValues instanceof Float32Array) || !(yValues instanceof Float32Array) || dyValues.length !== yValues.length)
      throw new Error(`${RELU_BACKPROP_KERNEL}: expects two float32 tensors of one shape`);
    const out = new Float32Array(dyValues.length);
    reluBackpropInto(dyValues, yValues, out);
    return cpu.makeTensorInfo(dy.shape, 'float32', out);
  },
};

/** Idempotent: the BLAS layer may already have replaced it. */
export function registerReluBackpropCpuKernel(): void {
  if (!getKernel(RELU_BACKPROP_KERNEL, 'cpu')) registerKernel(cpuKernel);
}

registerReluBackpropCpuKernel();
