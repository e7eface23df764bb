/**
 * Does a process's training step fit its memory budget? Checked before the first step, so a batch that
 * cannot fit is bad input (one line, exit 2, nothing written) instead of a process the kernel kills
 * minutes later. The activation memory of a training pass grows linearly with its rows; its slope and
 * intercept come from tfjs's own accounting (tf.profile's peak bytes) of the model's pass at two small
 * batches, so every model and optimizer is measured, not described:
 *   estimate = resident memory now (runtime, data, weights) + fixed + perExample * rows of a pass,
 * a pass having microBatchSize rows or the whole per-worker batch. tfjs counts every tensor alive at its
 * peak, so the estimate errs high (2c2d ngd at 8192 rows: 6.0 GiB estimated, 5.6 GiB peak RSS measured).
 */
import { ImpossibleConfigError } from '../config/batchSplits.js';
import { LayerTrace } from '../models/layerTrace.js';
import type { Model } from '../models/model.js';
import { disposeGradients, lossAndGradients } from '../optim/lossAndGradients.js';
import { tf } from '../tf.js';

export interface PassMemory {
  /** Peak bytes per row of a training pass. */
  perExampleBytes: number;
  /** Peak bytes of a pass that do not grow with its rows. */
  fixedBytes: number;
}

const PROBE_ROWS = [8, 16] as const;

/**
 * The peak tensor bytes of one training pass (forward, backward, K-FAC's recorded inputs and logits
 * when `kfac`) at PROBE_ROWS rows of zeros. Draws no random numbers and updates no running statistics:
 * the run that follows is the same run.
 */
export async function measurePassMemory(model: Model, inputShape: readonly number[], kfac: boolean): Promise<PassMemory> {
  const peaks: number[] = [];
  for (const rows of PROBE_ROWS) {
    const x = tf.zeros([rows, ...inputShape]);
    const y = tf.zeros([rows], 'int32');
    try {
      const before = tf.memory().numBytes;
      const info = await tf.profile(async () => {
        const trace = kfac ? new LayerTrace(true, false) : undefined;
        try {
          const pass = await lossAndGradients(model, { x, y }, { trace, keepLogits: kfac, updateRunningStats: false });
          disposeGradients(pass.grads);
          pass.logits?.dispose();
        } finally {
          trace?.dispose();
        }
        return [];
      });
      peaks.push(Math.max(0, info.peakBytes - before));
    } finally {
      tf.dispose([x, y]);
    }
  }
  const perExampleBytes = Math.max(0, (peaks[1] - peaks[0]) / (PROBE_ROWS[1] - PROBE_ROWS[0]));
  return { perExampleBytes, fixedBytes: Math.max(0, peaks[0] - perExampleBytes * PROBE_ROWS[0]) };
}

export interface FitQuestion {
  pass: PassMemory;
  residentBytes: number;
  /** This process's share of the global batch. */
  perWorkerBatch: number;
  microBatchSize?: number;
  budgetBytes: number;
  /** False for models with batch norm: their batch cannot be split. */
  canMicroBatch: boolean;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** Why the step does not fit, with what to do about it, or null when it fits. Pure. */
export function memoryFitProblem(q: FitQuestion): string | null {
  const rows = Math.min(q.perWorkerBatch, q.microBatchSize ?? q.perWorkerBatch);
  const estimate = q.residentBytes + q.pass.fixedBytes + q.pass.perExampleBytes * rows;
  if (estimate <= q.budgetBytes) return null;
  const what = `a training pass of ${rows} examples needs about ${gib(estimate)} (${gib(q.residentBytes)} resident now + ${(q.pass.perExampleBytes / 2 ** 20).toFixed(2)} MiB per example, measured) and the memory budget is ${gib(q.budgetBytes)}`;
  const room = q.budgetBytes - q.residentBytes - q.pass.fixedBytes;
  const fits = q.pass.perExampleBytes > 0 ? Math.floor(room / q.pass.perExampleBytes) : 0;
  if (fits < 1) return `${what}: not even one example fits; raise --memory-budget`;
  if (!q.canMicroBatch)
    return `${what}: this model has batch norm, so lower the batch size (or add workers) to ${fits} examples per process, or raise --memory-budget`;
  return `${what}: set --micro-batch-size ${fits} or lower (microBatchSize in a config or suite), or raise --memory-budget`;
}

/** Throws an ImpossibleConfigError (exit 2) when the step does not fit. */
export function assertMemoryFits(q: FitQuestion): void {
  const problem = memoryFitProblem(q);
  if (problem !== null) throw new ImpossibleConfigError(problem);
}
