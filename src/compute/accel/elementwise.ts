/**
 * The elementwise kernels that dominate a CNN training step once convolutions run on BLAS: Add,
 * Sub, Multiply (bias adds and the ReLU gradient's dy * step(x)), Relu and Step, and our own two
 * (compute/kernels): the ReLU's backward in one pass and the heavy-ball update, as plain C loops.
 * Float32 only; a binary op is ours when each input is broadcast along leading axes only (same
 * shape, a bias over the last axes, or a scalar) — the tfjs CPU kernel's generic broadcasting
 * computes an index per element. Results are bit-identical to the tfjs kernels (one correctly
 * rounded float op per element either way). Everything else goes to the original kernels.
 */
import type { KernelFunc } from '@tensorflow/tfjs-core';
import { broadcastShapes, float32Values, sameShape, sizeOf, type AccelKernel, type KernelArgs } from './cpuBackend.js';
import type { MomentumStepAttrs } from '../kernels/momentumStep.js';
import type { NativeBlas } from './native.js';
import { outputPool } from './outputPool.js';

/**
 * The broadcast shape of a and b when each is broadcast along leading axes only (its shape without
 * leading 1s is the trailing part of the result), else undefined. Then the element of an input for
 * flat output index i is simply its element i % size.
 */
function leadingBroadcastShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  const out = broadcastShapes(a, b);
  if (!out) return undefined;
  const isTrailing = (s: readonly number[]) => {
    let first = 0;
    while (first < s.length && s[first] === 1) first++;
    const core = s.slice(first);
    return core.every((d, i) => d === out[out.length - core.length + i]);
  };
  return isTrailing(a) && isTrailing(b) ? out : undefined;
}

function binaryKernel(op: 0 | 1 | 2): AccelKernel {
  return (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
    const { a, b } = args.inputs;
    const av = float32Values(args.backend, a);
    const bv = float32Values(args.backend, b);
    if (!a || !b || !av || !bv) return original(args as never);
    const shape = leadingBroadcastShape(a.shape, b.shape);
    if (!shape) return original(args as never);
    const n = sizeOf(shape);
    const na = sizeOf(a.shape);
    const nb = sizeOf(b.shape);
    if (na !== n && nb !== n) return original(args as never); // cannot happen for leading broadcasts
    const out = outputPool.take(n);
    if (n > 0) blas.binary(op, av.subarray(0, na), bv.subarray(0, nb), out);
    return args.backend.makeTensorInfo(shape, 'float32', out);
  };
}

export const add = binaryKernel(0);
export const sub = binaryKernel(1);
export const multiply = binaryKernel(2);

function unaryKernel(op: 0 | 1): AccelKernel {
  return (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
    const { x } = args.inputs;
    const xv = float32Values(args.backend, x);
    if (!x || !xv) return original(args as never);
    const alpha = op === 1 ? (args.attrs?.alpha as number | undefined) : 0;
    if (op === 1 && typeof alpha !== 'number') return original(args as never);
    const n = sizeOf(x.shape);
    const out = outputPool.take(n);
    blas.unary(op, xv.subarray(0, n), out, alpha ?? 0);
    return args.backend.makeTensorInfo(x.shape.slice(), 'float32', out);
  };
}

/** RELU_BACKPROP_KERNEL: dy * step(y) in one C pass (inputs of one shape; anything else to the original). */
export const reluBackprop: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const { dy, y } = args.inputs;
  const dyv = float32Values(args.backend, dy);
  const yv = float32Values(args.backend, y);
  if (!dy || !y || !dyv || !yv || !sameShape(dy.shape, y.shape)) return original(args as never);
  const n = sizeOf(dy.shape);
  const out = outputPool.take(n);
  if (n > 0) blas.binary(3, dyv.subarray(0, n), yv.subarray(0, n), out);
  return args.backend.makeTensorInfo(dy.shape.slice(), 'float32', out);
};

/** MOMENTUM_STEP_KERNEL: the heavy-ball step in one C pass, two outputs (inputs of one shape, else the original). */
export const momentumStep: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const { w, v, d } = args.inputs;
  const [wv, vv, dv] = [w, v, d].map((t) => float32Values(args.backend, t));
  if (!w || !v || !d || !wv || !vv || !dv || !sameShape(w.shape, v.shape) || !sameShape(w.shape, d.shape)) return original(args as never);
  const { momentum, lr } = args.attrs as unknown as MomentumStepAttrs;
  const n = sizeOf(w.shape);
  const vOut = outputPool.take(n);
  const wOut = outputPool.take(n);
  if (n > 0) blas.momentumStep(wv.subarray(0, n), vv.subarray(0, n), dv.subarray(0, n), momentum, lr, vOut, wOut);
  return [args.backend.makeTensorInfo(w.shape.slice(), 'float32', vOut), args.backend.makeTensorInfo(w.shape.slice(), 'float32', wOut)];
};

export const relu = unaryKernel(0);
export const step = unaryKernel(1);
