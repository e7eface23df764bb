/**
 * How a global batch splits over workers and an epoch into steps: pure checks the command line runs
 * before loading any tensor code.
 */
import type { TrainConfig } from './trainConfig.js';
import { BadInputError } from '../util/errors.js';

export class ImpossibleConfigError extends BadInputError {}

/** Every worker takes an equal share of the global batch. */
export function assertBatchSplits(batchSize: number, workers: number): void {
  if (batchSize % workers !== 0) {
    throw new ImpossibleConfigError(
      `global batch size ${batchSize} does not split evenly over ${workers} workers (use a multiple of ${workers})`,
    );
  }
}

/**
 * Full batches per epoch (the last incomplete batch is dropped); an ImpossibleConfigError if none, or
 * if the global batch does not split evenly over the workers.
 */
export function stepsPerEpoch(trainCount: number, batchSize: number, workers = 1): number {
  assertBatchSplits(batchSize, workers);
  const steps = Math.floor(trainCount / batchSize);
  if (steps === 0) {
    throw new ImpossibleConfigError(
      `batch size ${batchSize} exceeds the ${trainCount} training examples: no full batch can be formed (lower --batch-size or raise --train-size)`,
    );
  }
  return steps;
}

/** Why a config's ghost batches do not tile each worker's batch, or null when they do (or there are none). */
export function ghostBatchProblem(config: Pick<TrainConfig, 'batchSize' | 'optimizer'>, workers: number): string | null {
  const ghost = config.optimizer.smoothing?.ghostBatchSize;
  const perWorker = config.batchSize / workers;
  if (ghost === undefined || perWorker % ghost === 0) return null;
  return `ghost batch size ${ghost} does not divide the per-worker batch of ${perWorker} (global batch ${config.batchSize} on ${workers} worker${workers === 1 ? '' : 's'})`;
}

export function assertGhostBatches(config: Pick<TrainConfig, 'batchSize' | 'optimizer'>, workers: number): void {
  const problem = ghostBatchProblem(config, workers);
  if (problem !== null) throw new ImpossibleConfigError(problem);
}

/**
 * Why a config's K-FAC low-rank gradient cannot run on `workers` workers, or null: it needs every row
 * of the batch in one process (each worker holds only its share of the rows).
 */
export function lowRankGradientProblem(config: Pick<TrainConfig, 'optimizer'>, workers: number): string | null {
  if (!config.optimizer.kfac?.lowRankGradient || workers === 1) return null;
  return `K-FAC's low-rank gradient needs the whole batch's rows in one process, and ${workers} workers each hold a share; use 1 worker or drop lowRankGradient`;
}

export function assertLowRankGradient(config: Pick<TrainConfig, 'optimizer'>, workers: number): void {
  const problem = lowRankGradientProblem(config, workers);
  if (problem !== null) throw new ImpossibleConfigError(problem);
}
