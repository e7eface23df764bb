/** Summary statistics of timing samples (milliseconds), computed the way tinybench reports them (util/stats.ts). */
import { mean, quantile, relativeMarginOfError } from '../../util/stats.js';

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
  return {
    samples: n,
    meanMs: mean(sorted),
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    minMs: sorted[0],
    maxMs: sorted[n - 1],
    rme: relativeMarginOfError(sorted),
  };
}
