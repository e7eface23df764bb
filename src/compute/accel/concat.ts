/**
 * Concat into an output array from the output pool. tfjs's kernel allocates every output fresh, and on
 * a microVM the first touch of fresh pages is a fault per page (outputPool.ts): K-FAC's gradient matrix
 * of fmnist_2c2d's dense layer, [dW; db] of 3,137 x 1,024 floats, took 40-50 ms to concatenate on fresh
 * pages and 2-4 ms on warm ones, on every step. A copy, so the result is tfjs's bit for bit; anything but
 * float32 inputs of one rank, equal off the axis and none empty, goes to the original kernel.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { float32Values, sizeOf, type AccelKernel, type KernelArgs } from './cpuBackend.js';
import type { NativeBlas } from './native.js';
import { outputPool } from './outputPool.js';

export const concat: AccelKernel = (_blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const inputs = Object.values(args.inputs) as TensorInfo[];
  const rank = inputs[0]?.shape.length ?? 0;
  const rawAxis = args.attrs?.axis;
  if (inputs.length < 2 || rank === 0 || typeof rawAxis !== 'number' || !Number.isInteger(rawAxis)) return original(args as never);
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  if (axis < 0 || axis >= rank) return original(args as never);
  const values = inputs.map((t) => float32Values(args.backend, t));
  const compatible = inputs.every(
    (t, i) =>
      values[i] && t.shape.length === rank && sizeOf(t.shape) > 0 && t.shape.every((d, k) => k === axis || d === inputs[0].shape[k]),
  );
  if (!compatible) return original(args as never);
  // Rows of the result: everything before the axis; each input contributes a block of its own width per row.
  const outer = sizeOf(inputs[0].shape.slice(0, axis));
  const widths = inputs.map((t) => sizeOf(t.shape.slice(axis)));
  const rowWidth = widths.reduce((s, w) => s + w, 0);
  const out = outputPool.take(outer * rowWidth);
  for (let row = 0; row < outer; row++) {
    let offset = row * rowWidth;
    for (let i = 0; i < inputs.length; i++) {
      const w = widths[i];
      out.set((values[i] as Float32Array).subarray(row * w, row * w + w), offset);
      offset += w;
    }
  }
  const shape = inputs[0].shape.slice();
  shape[axis] = inputs.reduce((s, t) => s + t.shape[axis], 0);
  return args.backend.makeTensorInfo(shape, 'float32', out);
};
