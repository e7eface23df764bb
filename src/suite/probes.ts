/** The timing-probe settings of a suite, with the defaults that depend on the rest of the suite filled in. */
import { allWorkerCounts, labelOf, ProbesSchema, type Suite } from './suiteSchema.js';

export interface ProbeSettings {
  /** Global batch sizes to time training steps at (default: the suite's batchSizes). */
  readonly batchSizes: readonly number[];
  /** Optimizer labels to time (default: every optimizer of the suite). */
  readonly optimizers: readonly string[];
  /** Timed iterations per probe. */
  readonly iterations: number;
  /** Allreduce payloads, bytes. */
  readonly allreduceSizes: readonly number[];
  /** Workers for the allreduce probes (default: the largest worker count of the suite). */
  readonly workers: number;
  /** N of the N x N matMul probe; null: none. */
  readonly matmulSize: number | null;
}

const schemaDefault = <T>(key: 'iterations' | 'allreduceSizes'): T => structuredClone(ProbesSchema.properties[key].default) as T;

/** Settings for the suite's probes; also when the suite has no `probes` section. */
export function probeSettings(suite: Suite): ProbeSettings {
  const p = suite.probes;
  return {
    batchSizes: p?.batchSizes ?? [...suite.batchSizes],
    optimizers: p?.optimizers ?? suite.optimizers.map(labelOf),
    iterations: p?.iterations ?? schemaDefault<number>('iterations'),
    allreduceSizes: p?.allreduceSizes ?? schemaDefault<number[]>('allreduceSizes'),
    workers: p?.workers ?? Math.max(...allWorkerCounts(suite)),
    matmulSize: p?.matmulSize ?? null,
  };
}
