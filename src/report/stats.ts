/** Summaries over seeds: mean and sample standard deviation (n - 1), nothing fancier. */

export interface Summary {
  /** How many values (seeds) went in. */
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1 denominator); null with fewer than two values. */
  std: number | null;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary | null {
  const n = values.length;
  if (n === 0) return null;
  // Sum in a fixed order so that the same values always give the same bits.
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let std: number | null = null;
  if (n > 1) {
    let ss = 0;
    for (const v of values) ss += (v - mean) ** 2;
    std = Math.sqrt(ss / (n - 1));
  }
  return { n, mean, std, min: Math.min(...values), max: Math.max(...values) };
}
