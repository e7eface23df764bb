/**
 * BatchMatMul and _FusedMatMul over cblas_sgemm. Semantics of the tfjs CPU kernels: a is
 * [...batchA, m, k] (or [..., k, m] with transposeA), b is [...batchB, k, n] (or [..., n, k]), the
 * batch dims broadcast, the output is float32 [...broadcast(batchA, batchB), m, n]. Float32 only;
 * other dtypes, and any shape error, go to the original kernel (which raises tfjs's own errors).
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { broadcastShapes, float32Values, sizeOf, type AccelKernel, type CpuBackendLike, type KernelArgs } from './cpuBackend.js';
import { applyEpilogue, isKnownActivation } from './epilogue.js';
import type { NativeBlas } from './native.js';
import { outputPool } from './outputPool.js';

/** For each flat output batch index, the flat batch index of an input of shape `dims` broadcast to `outDims`. */
function broadcastIndex(dims: readonly number[], outDims: readonly number[]): Int32Array {
  const total = sizeOf(outDims);
  const map = new Int32Array(total);
  const offset = outDims.length - dims.length;
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    let src = 0;
    let srcStride = 1;
    for (let axis = outDims.length - 1; axis >= 0; axis--) {
      const coord = rem % outDims[axis];
      rem = Math.floor(rem / outDims[axis]);
      const ia = axis - offset;
      if (ia >= 0) {
        if (dims[ia] !== 1) src += coord * srcStride;
        srcStride *= dims[ia];
      }
    }
    map[flat] = src;
  }
  return map;
}

/**
 * The float32 product as a fresh output, or undefined when this case is not ours (the caller then
 * uses the original kernel).
 */
export function matMulFloat32(
  blas: NativeBlas,
  backend: CpuBackendLike,
  a: TensorInfo | undefined,
  b: TensorInfo | undefined,
  transposeA: boolean,
  transposeB: boolean,
): { info: TensorInfo; values: Float32Array } | undefined {
  const av = float32Values(backend, a);
  const bv = float32Values(backend, b);
  if (!a || !b || !av || !bv) return undefined;
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  if (aRank < 2 || bRank < 2) return undefined;
  const k = transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1];
  if (k !== (transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2])) return undefined;
  const m = transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2];
  const n = transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1];
  const batchDimsA = a.shape.slice(0, -2);
  const batchDimsB = b.shape.slice(0, -2);
  const outBatchDims = broadcastShapes(batchDimsA, batchDimsB);
  if (!outBatchDims) return undefined;
  const batchA = sizeOf(batchDimsA);
  const batchB = sizeOf(batchDimsB);
  const batch = sizeOf(outBatchDims);
  const out = outputPool.take(batch * m * n);
  // Stored layouts: A is [m, k] (lda k) or [k, m] (lda m); B is [k, n] (ldb n) or [n, k] (ldb k).
  const lda = Math.max(1, transposeA ? m : k);
  const ldb = Math.max(1, transposeB ? k : n);
  const ldc = Math.max(1, n);
  const sizeA = m * k;
  const sizeB = k * n;
  const sizeC = m * n;
  if (batch > 0 && sizeC > 0) {
    if ((batchA === batch || batchA === 1) && (batchB === batch || batchB === 1)) {
      // Equal batches, or one side shared by every entry: one strided-batch call.
      blas.sgemm(
        transposeA,
        transposeB,
        m,
        n,
        k,
        1,
        av,
        lda,
        bv,
        ldb,
        0,
        out,
        ldc,
        batch,
        batchA === 1 ? 0 : sizeA,
        batchB === 1 ? 0 : sizeB,
        sizeC,
      );
    } else {
      const mapA = broadcastIndex(batchDimsA, outBatchDims);
      const mapB = broadcastIndex(batchDimsB, outBatchDims);
      for (let i = 0; i < batch; i++) {
        blas.sgemm(
          transposeA,
          transposeB,
          m,
          n,
          k,
          1,
          av.subarray(mapA[i] * sizeA, (mapA[i] + 1) * sizeA),
          lda,
          bv.subarray(mapB[i] * sizeB, (mapB[i] + 1) * sizeB),
          ldb,
          0,
          out.subarray(i * sizeC, (i + 1) * sizeC),
          ldc,
        );
      }
    }
  }
  return { info: backend.makeTensorInfo([...outBatchDims, m, n], 'float32', out), values: out };
}

export const batchMatMul: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const { a, b } = args.inputs;
  const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  const result = matMulFloat32(blas, args.backend, a, b, !!transposeA, !!transposeB);
  return result ? result.info : original(args as never);
};

export const fusedMatMul: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const { a, b, bias, preluActivationWeights } = args.inputs;
  const { transposeA, transposeB, activation, leakyreluAlpha } = (args.attrs ?? {}) as {
    transposeA?: boolean;
    transposeB?: boolean;
    activation?: string;
    leakyreluAlpha?: number;
  };
  if (!isKnownActivation(activation)) return original(args as never);
  const result = matMulFloat32(blas, args.backend, a, b, !!transposeA, !!transposeB);
  if (!result) return original(args as never);
  return applyEpilogue(blas, args.backend, result.info, result.values, bias, activation, preluActivationWeights, leakyreluAlpha);
};
