/**
 * Independent float64 reference math for tests: explicit Kronecker products and a Gaussian
 * elimination solve with partial pivoting. Deliberately shares no code with src/.
 */
export function kron(a: Float64Array, n: number, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(n * m * n * m);
  const size = n * m;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (let k = 0; k < m; k++) for (let l = 0; l < m; l++) out[(i * m + k) * size + (j * m + l)] = a[i * n + j] * b[k * m + l];
  return out;
}

export function solve(matrix: Float64Array, size: number, rhs: Float64Array): Float64Array {
  const a = Float64Array.from(matrix);
  const x = Float64Array.from(rhs);
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let r = col + 1; r < size; r++) if (Math.abs(a[r * size + col]) > Math.abs(a[pivot * size + col])) pivot = r;
    if (pivot !== col) {
      for (let c = 0; c < size; c++) [a[col * size + c], a[pivot * size + c]] = [a[pivot * size + c], a[col * size + c]];
      [x[col], x[pivot]] = [x[pivot], x[col]];
    }
    for (let r = col + 1; r < size; r++) {
      const f = a[r * size + col] / a[col * size + col];
      for (let c = col; c < size; c++) a[r * size + c] -= f * a[col * size + c];
      x[r] -= f * x[col];
    }
  }
  for (let r = size - 1; r >= 0; r--) {
    let s = x[r];
    for (let c = r + 1; c < size; c++) s -= a[r * size + c] * x[c];
    x[r] = s / a[r * size + r];
  }
  return x;
}

/** (1/rows) X^T X for X [rows, cols] row-major. */
export function meanOuter(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols * cols);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) out[i * cols + j] += (x[r * cols + i] * x[r * cols + j]) / rows;
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Factored Tikhonov damping with the pi-correction (Martens & Grosse 2015, sec. 6.3), in place:
 * A += pi sqrt(l) I, G += sqrt(l)/pi I, pi = sqrt((tr A / aDim) / (tr G / gDim)).
 */
export function dampFactorsInPlace(A: Float64Array, aDim: number, G: Float64Array, gDim: number, damping: number): void {
  const trace = (x: Float64Array, d: number) => Array.from({ length: d }, (_, i) => x[i * d + i]).reduce((s, v) => s + v, 0);
  const pi = Math.sqrt(trace(A, aDim) / aDim / (trace(G, gDim) / gDim));
  for (let i = 0; i < aDim; i++) A[i * aDim + i] += pi * Math.sqrt(damping);
  for (let i = 0; i < gDim; i++) G[i * gDim + i] += Math.sqrt(damping) / pi;
}
