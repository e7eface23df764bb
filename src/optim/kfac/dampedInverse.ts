/**
 * Factored Tikhonov damping with the pi-correction (Martens & Grosse 2015, sec. 6.3):
 *   (A + pi sqrt(lambda) I)^-1  and  (G + sqrt(lambda)/pi I)^-1,
 *   pi = sqrt( (tr(A)/dim A) / (tr(G)/dim G) ),
 * which keeps the damping of the Kronecker product balanced between the two factors.
 * Inversion is done in float64 on the symmetrized matrix.
 */
import { DivergenceError, firstNonFinite } from '../divergence.js';
import { choleskyInverse, FactorInversionError } from '../../compute/kernels/choleskyInverse.js';

export type SpdInverse = (a: Float64Array, n: number) => Float64Array;

export function piCorrection(a: Float64Array, aDim: number, g: Float64Array, gDim: number): number {
  let trA = 0;
  let trG = 0;
  for (let i = 0; i < aDim; i++) trA += a[i * aDim + i];
  for (let i = 0; i < gDim; i++) trG += g[i * gDim + i];
  const pi = Math.sqrt(trA / aDim / (trG / gDim));
  // A zero factor (e.g. a dead layer) would make pi 0 or infinite: fall back to even damping.
  return Number.isFinite(pi) && pi > 0 ? pi : 1;
}

/** (M + M^T)/2 + shift I, in float64. */
export function symmetrizeAndShift(m: ArrayLike<number>, n: number, shift: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) out[i * n + j] = 0.5 * (m[i * n + j] + m[j * n + i]);
    out[i * n + i] += shift;
  }
  return out;
}

export function dampedInverses(
  a: ArrayLike<number>,
  aDim: number,
  g: ArrayLike<number>,
  gDim: number,
  damping: number,
  inverse: SpdInverse = choleskyInverse,
): { aInverse: Float64Array; gInverse: Float64Array; pi: number } {
  for (const [name, m, n] of [
    ['A', a, aDim],
    ['G', g, gDim],
  ] as const) {
    const bad = firstNonFinite(m);
    if (bad >= 0)
      throw new DivergenceError(
        `K-FAC factor ${name} (${n}x${n}) has a non-finite entry at (${Math.floor(bad / n)}, ${bad % n}): training diverged`,
      );
  }
  const a64 = symmetrizeAndShift(a, aDim, 0);
  const g64 = symmetrizeAndShift(g, gDim, 0);
  const pi = piCorrection(a64, aDim, g64, gDim);
  const root = Math.sqrt(damping);
  for (let i = 0; i < aDim; i++) a64[i * aDim + i] += pi * root;
  for (let i = 0; i < gDim; i++) g64[i * gDim + i] += root / pi;
  return { aInverse: invertDamped(inverse, a64, aDim, 'A'), gInverse: invertDamped(inverse, g64, gDim, 'G'), pi };
}

/**
 * A damped factor is positive definite in exact arithmetic (a PSD average of outer products plus a
 * positive shift), so a failed Cholesky means the factor's scale has run away from the damping
 * (e.g. eigenvalues of 1e10..1e14 against a shift of 1e-2): a numerical breakdown of training, and
 * recorded as divergence like a non-finite factor, with LAPACK's message kept.
 */
function invertDamped(inverse: SpdInverse, m: Float64Array, n: number, name: 'A' | 'G'): Float64Array {
  try {
    return inverse(m, n);
  } catch (error) {
    if (error instanceof FactorInversionError) {
      throw new DivergenceError(
        `K-FAC factor ${name} (${n}x${n}) is not positive definite after damping: ${error.message}; training diverged`,
      );
    }
    throw error;
  }
}
