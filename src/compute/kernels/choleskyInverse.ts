/**
 * Inverse of a symmetric positive-definite matrix in float64 via Cholesky (A = L L^T, then
 * A^-1 = L^-T L^-1). Pure JS: the fallback when the LAPACK addon is unavailable.
 */
export class FactorInversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FactorInversionError';
  }
}

/** Extreme eigenvalues by power iteration: only for the error message, never on the hot path. */
export function conditionEstimate(a: Float64Array, n: number): { max: number; min: number; condition: number } {
  const power = (shift: number) => {
    let v = new Float64Array(n).fill(1 / Math.sqrt(n));
    let lambda = 0;
    for (let it = 0; it < 200; it++) {
      const w = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = -shift * v[i];
        for (let j = 0; j < n; j++) s += a[i * n + j] * v[j];
        w[i] = s;
      }
      const norm = Math.hypot(...w);
      if (!(norm > 0)) return 0;
      lambda = 0;
      for (let i = 0; i < n; i++) lambda += v[i] * w[i];
      v = w.map((x) => x / norm);
    }
    return lambda;
  };
  const max = power(0);
  const min = power(max) + max;
  return { max, min, condition: min > 0 ? max / min : Infinity };
}

export function choleskyInverse(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0)) {
      const est = conditionEstimate(a, n);
      throw new FactorInversionError(
        `Cholesky failed at pivot ${j} of ${n} (value ${d}); matrix not positive definite: ` +
          `condition number ~${est.condition.toExponential(2)} (eigenvalues ${est.min.toExponential(2)}..${est.max.toExponential(2)}); increase damping`,
      );
    }
    const djj = Math.sqrt(d);
    l[j * n + j] = djj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / djj;
    }
  }
  // L^-1 by forward substitution, column by column (lower triangular).
  const linv = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    linv[c * n + c] = 1 / l[c * n + c];
    for (let i = c + 1; i < n; i++) {
      let s = 0;
      for (let k = c; k < i; k++) s -= l[i * n + k] * linv[k * n + c];
      linv[i * n + c] = s / l[i * n + i];
    }
  }
  // A^-1 = L^-T L^-1, symmetric: compute the upper triangle and mirror it.
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = j; k < n; k++) s += linv[k * n + i] * linv[k * n + j];
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}
