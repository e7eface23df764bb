/**
 * SmoothOut's ghost batches (Wen et al. 2018): a worker's batch split into equal sub-batches, each
 * passed at its own noise draw, the gradients (and K-FAC statistics) their mean. Equal sizes make the
 * mean of sub-batch means the batch mean. A sub-batch is named by its global index (rows from the
 * start of the global batch / size), so N workers draw the noise one worker would.
 */
import { tf, type Tensor } from '../tf.js';
import type { TrainingBatch } from './optimizer.js';

export interface GhostBatch {
  readonly batch: TrainingBatch;
  /** Global index of the sub-batch; undefined: the whole batch in one pass (no ghost batches). */
  readonly ghost: number | undefined;
}

/** The sub-batches of `size` rows (the batch itself when size is undefined or the whole batch). */
export function ghostBatches(batch: TrainingBatch, size: number | undefined): GhostBatch[] {
  const rows = batch.x.shape[0];
  if (size === undefined || size >= rows) return [{ batch, ghost: undefined }];
  const offset = batch.rowOffset ?? 0;
  return Array.from({ length: rows / size }, (_, k) => ({
    batch: {
      x: tf.slice(batch.x, k * size, size),
      y: tf.slice(batch.y, k * size, size),
      rowOffset: offset + k * size,
      globalRows: batch.globalRows ?? rows,
    },
    ghost: offset / size + k,
  }));
}

/** Disposes the sub-batches' own tensors (never the batch's). */
export function disposeGhostBatches(ghosts: readonly GhostBatch[]): void {
  for (const g of ghosts) if (g.ghost !== undefined) tf.dispose([g.batch.x, g.batch.y]);
}

/**
 * Runs `pass` on each sub-batch and returns the mean loss and the elementwise mean of its tensors
 * (same order every pass). One sub-batch: its result as it is, so no ghost batches is bit for bit the
 * plain step.
 */
export async function meanOverGhostBatches(
  ghosts: readonly GhostBatch[],
  pass: (ghost: GhostBatch) => Promise<{ loss: number; tensors: Tensor[] }>,
): Promise<{ loss: number; tensors: Tensor[] }> {
  if (ghosts.length === 1) return pass(ghosts[0]);
  let loss = 0;
  let sums: Tensor[] | undefined;
  try {
    for (const ghost of ghosts) {
      const result = await pass(ghost);
      loss += result.loss;
      if (!sums) sums = result.tensors;
      else {
        const previous = sums;
        sums = previous.map((s, i) => tf.add(s, result.tensors[i]));
        tf.dispose([...previous, ...result.tensors]);
      }
    }
    const means = sums!.map((s) => tf.div(s, ghosts.length));
    tf.dispose(sums!);
    sums = undefined;
    return { loss: loss / ghosts.length, tensors: means };
  } finally {
    if (sums) tf.dispose(sums);
  }
}
