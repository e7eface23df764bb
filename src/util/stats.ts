/**
 * The one statistics module (as tinybench has one): means, medians, quantiles and sample spreads over
 * seeds or timing samples. Sums run in the given order, so the same values always give the same bits.
 */

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('mean of no values');
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Linear interpolation between order statistics of an ascending array. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** Sample standard deviation (n - 1 in the denominator); null for fewer than two values: a spread needs two. */
export function sampleStdDev(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) ** 2;
  return Math.sqrt(ss / (values.length - 1));
}

export interface Summary {
  /** How many values (seeds) went in. */
  n: number;
  mean: number;
  /** Sample standard deviation; null with fewer than two values. */
  std: number | null;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary | null {
  if (values.length === 0) return null;
  return { n: values.length, mean: mean(values), std: sampleStdDev(values), min: Math.min(...values), max: Math.max(...values) };
}

// Two-sided 95% critical values of Student's t for 1..30 degrees of freedom; 1.96 beyond.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Relative margin of error of the mean, as tinybench reports it: half-width of the 95% t-interval in percent of the mean (NaN below 2 values). */
export function relativeMarginOfError(values: readonly number[]): number {
  const std = sampleStdDev(values);
  if (std === null) return NaN;
  const m = mean(values);
  const t = T975[values.length - 2] ?? 1.96;
  return m > 0 ? ((t * std) / Math.sqrt(values.length) / m) * 100 : NaN;
}
