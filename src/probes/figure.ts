/**
 * One timed quantity as a probe reports it: tinybench's statistics of its samples. Quantities measured
 * inside a larger call (a step's phases) are replayed into tinybench as `overriddenDuration` samples,
 * so every figure in a probe report comes from the same statistics code.
 */
import { Bench } from 'tinybench';
import type { Figure } from '../results/probeReport.js';

export type { Figure };

interface TinybenchLatency {
  mean: number;
  p50?: number;
  p99?: number;
  rme: number;
  samplesCount?: number;
}

export function figureOf(latency: TinybenchLatency, fallbackSamples: number): Figure {
  const samples = latency.samplesCount ?? fallbackSamples;
  return {
    meanMs: latency.mean,
    medianMs: latency.p50 ?? latency.mean,
    p99Ms: latency.p99 ?? latency.mean,
    rmePercent: samples > 1 && Number.isFinite(latency.rme) ? latency.rme : null,
    samples,
  };
}

/**
 * Times `fn` exactly `iterations` times after `warmup` untimed calls (fixed counts, so replays and
 * stateful steps stay aligned). Saying whether `fn` is async spares tinybench its extra detection call.
 */
export async function timeCalls(name: string, fn: () => unknown, iterations: number, warmup: number, isAsync = true): Promise<Figure> {
  const bench = new Bench({ name, iterations, time: 0, warmup: warmup > 0, warmupIterations: warmup, warmupTime: 0, throws: true });
  bench.add(name, fn as () => Promise<void>, { async: isAsync });
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`probe ${name} did not complete (${result.state})`);
  return figureOf(result.latency, iterations);
}

/** tinybench statistics of samples (milliseconds) measured elsewhere. */
export async function figureOfSamples(name: string, samplesMs: readonly number[]): Promise<Figure> {
  if (samplesMs.length === 0) throw new Error(`probe ${name}: no samples`);
  let next = 0;
  return timeCalls(name, () => ({ overriddenDuration: samplesMs[next++] }), samplesMs.length, 0, false);
}
