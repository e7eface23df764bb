/** The contract between optimizers and whoever drives training. */
import type { Tensor } from '../tf.js';
import type { PhaseTimer } from '../util/phaseTimer.js';

export interface TrainingBatch {
  /** NHWC inputs. */
  readonly x: Tensor;
  /** int32 class labels [N]. */
  readonly y: Tensor;
}

export interface StepContext {
  /** 0-based global step. */
  readonly step: number;
  /** Learning rate for this step (schedule already applied). */
  readonly lr: number;
  /** Fraction of training done, in [0, 1): drives smoothing-amplitude decay. */
  readonly progress: number;
  readonly timer: PhaseTimer;
}

export interface Optimizer {
  readonly name: string;
  /** One update; returns the mini-batch loss at the point where the gradient was taken. */
  step(batch: TrainingBatch, context: StepContext): number;
  /** Run-level statistics of the optimizer's own decisions (e.g. how often KL-clipping bound), if any. */
  diagnostics?(): Record<string, number>;
  dispose(): void;
}
