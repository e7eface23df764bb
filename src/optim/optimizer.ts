/** The contract between optimizers and whoever drives training. */
import type { Tensor } from '../tf.js';
import type { PhaseTimer } from '../util/phaseTimer.js';

export interface TrainingBatch {
  /** NHWC inputs. */
  readonly x: Tensor;
  /** int32 class labels [N]. */
  readonly y: Tensor;
  /**
   * Data parallelism: where this replica's rows sit in the global batch, so per-row randomness (MC
   * Fisher labels) is drawn as one process would draw it for the whole batch.
   */
  readonly rowOffset?: number;
  readonly globalRows?: number;
}

export interface StepContext {
  /** 0-based global step. */
  readonly step: number;
  /** Learning rate for this step (schedule already applied). */
  readonly lr: number;
  /** Fraction of training done, in [0, 1): drives smoothing-amplitude decay. */
  readonly progress: number;
  readonly timer: PhaseTimer;
  /** At most this many rows per forward/backward pass (TrainConfig.microBatchSize); absent: whole batches. */
  readonly microBatchSize?: number;
}

export interface Optimizer {
  readonly name: string;
  /**
   * One update; resolves to the (global) mini-batch loss at the point where the gradient was taken.
   * Async because data-parallel replicas average their gradients over the network mid-step.
   */
  step(batch: TrainingBatch, context: StepContext): Promise<number>;
  /** Run-level statistics of the optimizer's own decisions (e.g. how often KL-clipping bound), if any. */
  diagnostics?(): Record<string, number>;
  dispose(): void;
}
