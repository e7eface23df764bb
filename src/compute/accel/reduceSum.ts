/**
 * Sum over a leading or a trailing block of axes (bias gradients sum over N, H, W of an NHWC
 * tensor; the tfjs CPU kernel transposes the whole tensor first). Float32, summed in double in
 * index order like the tfjs kernel, so the result is the same float. Other axis sets and dtypes go
 * to the original kernel.
 */
import { util, type KernelFunc } from '@tensorflow/tfjs-core';
import { float32Values, sizeOf, type AccelKernel, type KernelArgs } from './cpuBackend.js';
import type { NativeBlas } from './native.js';
import { outputPool } from './outputPool.js';

export const sum: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const { x } = args.inputs;
  const xv = float32Values(args.backend, x);
  if (!x || !xv) return original(args as never);
  const { axis, keepDims } = (args.attrs ?? {}) as { axis?: number | number[]; keepDims?: boolean };
  let axes: number[];
  try {
    axes = [...new Set(util.parseAxisParam(axis as number | number[], x.shape))].sort((p, q) => p - q);
  } catch {
    return original(args as never);
  }
  const rank = x.shape.length;
  if (axes.length === 0 || rank === 0) return original(args as never); // identity-like: not worth it
  const leading = axes.every((a, i) => a === i);
  const trailing = axes.every((a, i) => a === rank - axes.length + i);
  if (!leading && !trailing) return original(args as never);
  const reduced = sizeOf(axes.map((a) => x.shape[a]));
  const kept = sizeOf(x.shape) / Math.max(1, reduced);
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const out = outputPool.take(sizeOf(outShape));
  if (reduced > 0 && out.length > 0) {
    if (leading) blas.reduceSum(xv, reduced, kept, true, out);
    else blas.reduceSum(xv, kept, reduced, false, out);
  }
  return args.backend.makeTensorInfo(outShape, 'float32', out);
};
