/**
 * Allreduce latency and bandwidth over a joined world, for a list of message sizes. Run it on every
 * rank with the SAME options: each size does a fixed number of warm-up and timed calls, never a
 * time budget, because ranks that disagree on the number of calls deadlock. (That is also why this is
 * a plain loop and not tinybench, whose time-driven loops and probe calls are not fixed counts.)
 *
 * Bandwidths, from the median time t of a call on B bytes over N ranks:
 *   algorithm bandwidth = B / t (what the caller experiences);
 *   bus bandwidth = 2(N-1)/N * B / t: the bytes each rank actually sends (and receives) per second in
 *   a ring allreduce, comparable with a link's raw throughput whatever N is (NCCL's convention).
 * Timings are this rank's; ranks differ only by the small skew of their start.
 */
import type { Collective } from './collective.js';
import { summarizeLatencies, type LatencySummary } from './latencyStats.js';

export const DEFAULT_PROBE_SIZES = [4, 16, 64, 256, 1024, 4096, 16384, 65536].map((kib) => kib * 1024);

export interface AllreduceProbeOptions {
  /** Message sizes in bytes (rounded down to whole elements); default 4 KiB .. 64 MiB, x4 steps. */
  sizesBytes?: readonly number[];
  /** Timed calls per size: a number, or a function of the size (default: 512 MiB / size, clamped to 10..100). */
  iterations?: number | ((bytes: number) => number);
  /** Untimed calls per size before timing (default 3). */
  warmupIterations?: number;
  dtype?: 'float32' | 'float64';
}

export interface AllreduceSizeResult extends LatencySummary {
  bytes: number;
  elements: number;
  dtype: 'float32' | 'float64';
  /** bytes / p50 time, bytes per second. */
  algorithmBandwidth: number;
  /** 2(N-1)/N * bytes / p50 time, bytes per second. */
  busBandwidth: number;
  /** The timed calls, milliseconds (for callers that summarize them their own way). */
  samplesMs: number[];
}

export interface AllreduceProbeResult {
  rank: number;
  worldSize: number;
  sizes: AllreduceSizeResult[];
}

export function defaultProbeIterations(bytes: number): number {
  return Math.min(100, Math.max(10, Math.round((512 * 1024 * 1024) / Math.max(1, bytes))));
}

export async function probeAllreduce(collective: Collective, options: AllreduceProbeOptions = {}): Promise<AllreduceProbeResult> {
  const dtype = options.dtype ?? 'float32';
  const elementBytes = dtype === 'float64' ? 8 : 4;
  const iterationsFor =
    typeof options.iterations === 'number' ? () => options.iterations as number : (options.iterations ?? defaultProbeIterations);
  const warmup = options.warmupIterations ?? 3;
  const busFactor = (2 * (collective.worldSize - 1)) / collective.worldSize;
  const sizes: AllreduceSizeResult[] = [];
  for (const requested of options.sizesBytes ?? DEFAULT_PROBE_SIZES) {
    const elements = Math.max(1, Math.floor(requested / elementBytes));
    const bytes = elements * elementBytes;
    const data = dtype === 'float64' ? new Float64Array(elements).fill(1) : new Float32Array(elements).fill(1);
    for (let i = 0; i < warmup; i++) await collective.allreduceMean(data);
    await collective.barrier(); // start the timed calls together
    const samplesMs: number[] = [];
    const iterations = iterationsFor(bytes);
    for (let i = 0; i < iterations; i++) {
      const start = performance.now();
      await collective.allreduceMean(data);
      samplesMs.push(performance.now() - start);
    }
    const summary = summarizeLatencies(samplesMs);
    const algorithmBandwidth = bytes / (summary.p50Ms / 1000);
    sizes.push({ ...summary, bytes, elements, dtype, algorithmBandwidth, busBandwidth: busFactor * algorithmBandwidth, samplesMs });
  }
  return { rank: collective.rank, worldSize: collective.worldSize, sizes };
}
