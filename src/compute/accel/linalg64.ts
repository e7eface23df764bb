/**
 * Float64 symmetric linear algebra for the K-FAC factors, on LAPACK through our addon:
 * `symmetricInverse64` (Cholesky: dpotrf + dpotri) and `symmetricEigen64` (dsyevd). Both read only
 * the lower triangle (row-major) of the input, never modify it, and return new arrays. Without the
 * addon they throw `BlasUnavailableError` (the optimizer keeps its own pure-JS fallback); a matrix
 * that is not positive definite throws the optimizer's `FactorInversionError`, as the JS path does.
 */
import { conditionEstimate, FactorInversionError } from '../kernels/choleskyInverse.js';
import { nativeBlas, nativeLoadError, type NativeBlas } from './native.js';

export class BlasUnavailableError extends Error {
  constructor(what: string) {
    super(`${what}: ${nativeLoadError ?? 'native BLAS addon unavailable'}`);
    this.name = 'BlasUnavailableError';
  }
}

/** True when the LAPACK helpers below can run. */
export function linalg64Available(): boolean {
  return nativeBlas !== undefined;
}

function prepare(what: string, a: Float64Array, n: number): { blas: NativeBlas; copy: Float64Array } {
  if (!nativeBlas) throw new BlasUnavailableError(what);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what}: n must be a non-negative integer, got ${n}`);
  if (a.length < n * n) throw new RangeError(`${what}: matrix has ${a.length} entries, ${n}x${n} needs ${n * n}`);
  const copy = a.slice(0, n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      if (!Number.isFinite(copy[i * n + j])) {
        throw new FactorInversionError(
          `${what}: entry (${i}, ${j}) of the ${n}x${n} matrix is ${copy[i * n + j]}; the factor has diverged`,
        );
      }
    }
  }
  return { blas: nativeBlas, copy };
}

/** Inverse of a symmetric positive-definite n x n matrix (row-major), symmetric to the last bit. */
export function symmetricInverse64(a: Float64Array, n: number): Float64Array {
  const { blas, copy } = prepare('symmetricInverse64', a, n);
  const info = blas.spdInverse(copy, n);
  if (info > 0) {
    const est = conditionEstimate(a, n);
    throw new FactorInversionError(
      `LAPACK Cholesky failed at pivot ${info - 1} of ${n}; matrix not positive definite: ` +
        `condition number ~${est.condition.toExponential(2)} (eigenvalues ${est.min.toExponential(2)}..${est.max.toExponential(2)}); increase damping`,
    );
  }
  if (info < 0) throw new Error(`symmetricInverse64: LAPACK dpotrf/dpotri rejected argument ${-info} (n=${n})`);
  return copy;
}

/**
 * Eigendecomposition a = V diag(values) V^T of a symmetric n x n matrix (row-major): values
 * ascending, `vectors` row-major n x n with the eigenvectors as COLUMNS (numpy.linalg.eigh's layout).
 */
export function symmetricEigen64(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const { blas, copy } = prepare('symmetricEigen64', a, n);
  const values = new Float64Array(n);
  const info = blas.symmetricEigen(copy, n, values);
  if (info !== 0) {
    throw new Error(
      info > 0
        ? `symmetricEigen64: LAPACK dsyevd did not converge (info ${info}, n=${n})`
        : `symmetricEigen64: LAPACK dsyevd rejected argument ${-info} (n=${n})`,
    );
  }
  return { values, vectors: copy };
}
