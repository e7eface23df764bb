/**
 * The few internals of the tfjs CPU backend that a replacement kernel needs: the stored values of
 * an input (used in place, zero-copy) and the way to hand back a new output. Also the shape of a
 * kernel function and the one rule every replacement follows: anything it does not handle goes to
 * the original kernel, unchanged.
 */
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeBlas } from './native.js';

export interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): TensorInfo;
  disposeIntermediateTensorInfo(info: TensorInfo): void;
}

export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: CpuBackendLike;
  attrs?: NamedAttrMap;
}

/** A replacement kernel: `original` is the cpu kernel it replaces, for every case it does not handle. */
export type AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => TensorInfo | TensorInfo[];

/** The float32 values of a tensor held by the CPU backend, or undefined if it is anything else. */
export function float32Values(backend: CpuBackendLike, info: TensorInfo | undefined): Float32Array | undefined {
  if (info?.dtype !== 'float32') return undefined;
  const values = backend.data.get(info.dataId)?.values;
  if (!(values instanceof Float32Array)) return undefined;
  let size = 1;
  for (const d of info.shape) size *= d;
  return values.length >= size ? values : undefined;
}

/** NumPy-style broadcast of two batch shapes, or undefined when they are incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(da === 1 ? db : da);
  }
  return out;
}

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * A scratch buffer reused across calls (kernels are synchronous, and it never escapes a call), so
 * im2col does not allocate tens of MB per convolution.
 */
let scratch = new Float32Array(0);
export function scratchBuffer(elements: number): Float32Array {
  if (scratch.length < elements) scratch = new Float32Array(elements);
  return scratch.subarray(0, elements);
}
/** Frees the scratch buffer (disable / tests). */
export function releaseScratch(): void {
  scratch = new Float32Array(0);
}
