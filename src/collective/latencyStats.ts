/** Summary statistics of timing samples (milliseconds), computed the way tinybench reports them. */

export interface LatencySummary {
  samples: number;
  meanMs: number;
  /** Median. */
  p50Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  /** Relative margin of error of the mean: half-width of the 95% t-interval, in percent of the mean (NaN below 2 samples). */
  rme: number;
}

export function summarizeLatencies(samplesMs: readonly number[]): LatencySummary {
  const n = samplesMs.length;
  if (n === 0) throw new RangeError('no samples to summarize');
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / n;
  const variance = n > 1 ? sorted.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (n - 1) : NaN;
  const marginOfError = studentT975(n - 1) * Math.sqrt(variance / n);
  return {
    samples: n,
    meanMs: mean,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    minMs: sorted[0],
    maxMs: sorted[n - 1],
    rme: n > 1 && mean > 0 ? (marginOfError / mean) * 100 : NaN,
  };
}

/** Linear interpolation between order statistics of an ascending array. */
export function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

// Two-sided 95% critical values of Student's t for 1..30 degrees of freedom; 1.96 beyond.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08,
  2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

function studentT975(degreesOfFreedom: number): number {
  if (degreesOfFreedom < 1) return NaN;
  return T975[degreesOfFreedom - 1] ?? 1.96;
}
