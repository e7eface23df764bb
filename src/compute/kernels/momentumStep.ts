/**
 * A custom tfjs kernel: one heavy-ball SGD step, v' = v * m + d and w' = w - v' * lr, in one pass with
 * two outputs. tfjs writes it as Multiply, Add, Multiply, Sub: four passes and four new arrays of the
 * parameter's size (2c2d's 3.2 M-weight dense kernel: 13 MB each, ~17 ms of a 145 ms batch-128 step).
 * Same values bit for bit: m and lr are float32 scalars as tfjs makes them, and each product, sum and
 * difference is rounded to float32 as those kernels round it. Registered here for backend 'cpu' as a
 * typed-array loop; the BLAS layer replaces it with C. Other backends have no such kernel, and the update
 * rule composes the four ops.
 */
import { float32OfOneLength, registerCpuKernel } from './cpuKernel.js';

export const MOMENTUM_STEP_KERNEL = 'NgdBenchMomentumStep';

export interface MomentumStepAttrs {
  momentum: number;
  lr: number;
}

/** vOut = fround(fround(v * m) + d), wOut = fround(w - fround(vOut * lr)), m and lr rounded to float32. */
export function momentumStepInto(
  w: Float32Array,
  v: Float32Array,
  d: Float32Array,
  attrs: MomentumStepAttrs,
  vOut: Float32Array,
  wOut: Float32Array,
): void {
  const m = Math.fround(attrs.momentum);
  const lr = Math.fround(attrs.lr);
  for (let i = 0; i < wOut.length; i++) {
    const velocity = Math.fround(Math.fround(v[i] * m) + d[i]);
    vOut[i] = velocity;
    wOut[i] = w[i] - Math.fround(velocity * lr);
  }
}

registerCpuKernel(MOMENTUM_STEP_KERNEL, ({ inputs, cpu, attrs }) => {
  const { w, v, d } = inputs;
  const [wv, vv, dv] = float32OfOneLength(cpu, MOMENTUM_STEP_KERNEL, [w, v, d]);
  const vOut = new Float32Array(wv.length);
  const wOut = new Float32Array(wv.length);
  momentumStepInto(wv, vv, dv, attrs as unknown as MomentumStepAttrs, vOut, wOut);
  return [cpu.makeTensorInfo(w.shape, 'float32', vOut), cpu.makeTensorInfo(w.shape, 'float32', wOut)];
});
