/** One timing probe through tinybench: mean and median milliseconds per call. */
import { Bench } from 'tinybench';

export interface Measurement {
  meanMs: number;
  medianMs: number;
  samples: number;
  /** Relative margin of error of the mean, in percent (NaN with a single sample). */
  rme: number;
}

export async function measure(
  name: string,
  fn: () => void | Promise<void>,
  options: { iterations: number; warmupIterations: number },
): Promise<Measurement> {
  const bench = new Bench({
    name,
    iterations: options.iterations,
    time: 0,
    warmup: options.warmupIterations > 0,
    warmupIterations: options.warmupIterations,
    warmupTime: 0,
    throws: true,
  });
  bench.add(name, fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`benchmark ${name} did not complete (${result.state})`);
  return {
    meanMs: result.latency.mean,
    medianMs: result.latency.p50 ?? result.latency.mean,
    samples: result.latency.samplesCount ?? options.iterations,
    rme: result.latency.rme,
  };
}
