/**
 * A quick check, before any kernel is replaced, that the linked BLAS computes correct products on
 * this CPU (some OpenBLAS builds pick kernels that are wrong on some processors). A few small
 * sgemm calls, including transposes and a strided batch, against a plain float64 loop: ~1 ms.
 */
import type { NativeBlas } from './native.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** Undefined when the BLAS is right, else one line saying what was wrong. */
export function blasSelfTest(blas: NativeBlas): string | undefined {
  const rand = lcg(12345);
  for (const [m, n, k, ta, tb, batch] of [
    [67, 45, 131, false, false, 1],
    [33, 70, 64, true, false, 1],
    [64, 17, 96, false, true, 3],
    [65, 64, 129, true, true, 1],
  ] as const) {
    const a = Float32Array.from({ length: batch * m * k }, rand);
    const b = Float32Array.from({ length: batch * k * n }, rand);
    const c = new Float32Array(batch * m * n);
    blas.sgemm(ta, tb, m, n, k, 1, a, ta ? m : k, b, tb ? k : n, 0, c, n, batch, m * k, k * n, m * n);
    for (let p = 0; p < batch; p++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          let abs = 0;
          for (let l = 0; l < k; l++) {
            const x = a[p * m * k + (ta ? l * m + i : i * k + l)] * b[p * k * n + (tb ? j * k + l : l * n + j)];
            sum += x;
            abs += Math.abs(x);
          }
          const got = c[p * m * n + i * n + j];
          if (!(Math.abs(got - sum) <= 1e-4 * abs + 1e-6)) {
            return (
              `BLAS self-test failed: sgemm ${m}x${n}x${k} (transA=${ta}, transB=${tb}) gave ${got} at (${i},${j}), expected ${sum}; ` +
              `try OPENBLAS_CORETYPE=Haswell, or use --backend cpu`
            );
          }
        }
      }
    }
  }
  const x = new Float64Array([4, 1, 1, 3]);
  const y = new Float64Array([1, 2, 3, 4]);
  const z = new Float64Array(4);
  blas.dgemm(false, false, 2, 2, 2, 1, x, 2, y, 2, 0, z, 2);
  if (z[0] !== 7 || z[1] !== 12 || z[2] !== 10 || z[3] !== 14) return `BLAS self-test failed: dgemm 2x2 gave [${Array.from(z)}]`;
  return undefined;
}
