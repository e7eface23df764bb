/**
 * One training run: model, optimizer and data from a resolved config, stepped over seeded epochs,
 * evaluated after each epoch. Knows nothing of CLIs or files: it returns what happened, including
 * divergence (a non-finite loss) as an outcome rather than an exception.
 */
import type { TrainConfig } from '../config/trainConfig.js';
import { epochBatches, gatherBatch, type Dataset } from '../data/index.js';
import { createModel } from '../models/createModel.js';
import { createOptimizer } from '../optim/createOptimizer.js';
import type { SpdInverse } from '../optim/kfac/dampedInverse.js';
import { learningRateAt, peakLearningRate } from '../optim/learningRate.js';
import type { EpochMetrics, FinalMetrics, RunStatus } from '../results/runResult.js';
import { tf } from '../tf.js';
import { PhaseTimer, type Phase } from '../util/phaseTimer.js';
import { evaluate } from './evaluate.js';

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  loss: number;
}

export interface TrainingHooks {
  onStep?(progress: TrainingProgress): void;
  onEpoch?(metrics: EpochMetrics): void;
}

export interface TrainingOutcome {
  status: RunStatus;
  divergedAtStep?: number;
  /** Why a 'failed' run failed. */
  error?: string;
  epochs: EpochMetrics[];
  final: FinalMetrics | null;
  phases: Record<Phase, number>;
  steps: number;
  trainSeconds: number;
  /** The optimizer's own run statistics (K-FAC: how often KL-clipping bound). */
  optimizerDiagnostics: Record<string, number>;
}

/** JSON has no NaN/Infinity: non-finite losses are recorded as null. */
const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

export class ImpossibleConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImpossibleConfigError';
  }
}

/** Full batches per epoch (the last incomplete batch is dropped); an ImpossibleConfigError if none. */
export function stepsPerEpoch(trainCount: number, batchSize: number): number {
  const steps = Math.floor(trainCount / batchSize);
  if (steps === 0) {
    throw new ImpossibleConfigError(
      `batch size ${batchSize} exceeds the ${trainCount} training examples: no full batch can be formed (lower --batch-size or raise --train-size)`,
    );
  }
  return steps;
}

export function runTraining(config: TrainConfig, dataset: Dataset, hooks: TrainingHooks = {}, spdInverse?: SpdInverse): TrainingOutcome {
  const perEpoch = stepsPerEpoch(dataset.train.count, config.batchSize);
  const totalSteps = perEpoch * config.epochs;
  const model = createModel(config.model, dataset.inputShape, dataset.numClasses, config.seed);
  const optimizer = createOptimizer(config.optimizer, model, config.seed, spdInverse);
  const peak = peakLearningRate(config.optimizer.lr, config.schedule, config.batchSize);
  const timer = new PhaseTimer();
  const epochs: EpochMetrics[] = [];
  let step = 0;
  let trainSeconds = 0;
  // What every ending shares; read before the finally block disposes the optimizer.
  const ended = (rest: Pick<TrainingOutcome, 'status' | 'final' | 'steps' | 'divergedAtStep' | 'error'>): TrainingOutcome => ({
    ...rest,
    epochs,
    phases: timer.snapshot(),
    trainSeconds,
    optimizerDiagnostics: optimizer.diagnostics?.() ?? {},
  });
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const epochStart = performance.now();
      let lossSum = 0;
      let lr = peak;
      for (const indices of epochBatches(dataset.train.count, config.batchSize, config.seed, epoch)) {
        lr = learningRateAt(peak, config.schedule, step, perEpoch, totalSteps);
        const { x, y } = gatherBatch(dataset.train, indices, dataset.inputShape);
        const [h, w, c] = dataset.inputShape;
        const xt = tf.tensor4d(x, [indices.length, h, w, c]);
        const yt = tf.tensor1d(y, 'int32');
        let loss: number;
        try {
          loss = optimizer.step({ x: xt, y: yt }, { step, lr, progress: step / totalSteps, timer });
        } finally {
          xt.dispose();
          yt.dispose();
        }
        if (!Number.isFinite(loss)) {
          trainSeconds += (performance.now() - epochStart) / 1000;
          return ended({ status: 'diverged', divergedAtStep: step, final: null, steps: step + 1 });
        }
        lossSum += loss;
        step++;
        hooks.onStep?.({ epoch, epochs: config.epochs, step, totalSteps, loss });
      }
      trainSeconds += (performance.now() - epochStart) / 1000;
      const train = timer.time('evaluation', () => evaluate(model, dataset.train, dataset.inputShape, config.evalBatchSize));
      const test = timer.time('evaluation', () => evaluate(model, dataset.test, dataset.inputShape, config.evalBatchSize));
      const metrics: EpochMetrics = {
        epoch,
        steps: step,
        learningRate: lr,
        meanBatchLoss: finiteOrNull(lossSum / perEpoch),
        trainLoss: finiteOrNull(train.loss),
        trainAccuracy: train.accuracy,
        testLoss: finiteOrNull(test.loss),
        testAccuracy: test.accuracy,
        seconds: (performance.now() - epochStart) / 1000,
      };
      epochs.push(metrics);
      hooks.onEpoch?.(metrics);
    }
    const last = epochs[epochs.length - 1];
    return ended({
      status: 'ok',
      final: {
        trainLoss: last.trainLoss,
        trainAccuracy: last.trainAccuracy,
        testLoss: last.testLoss,
        testAccuracy: last.testAccuracy,
        generalizationGap: last.trainAccuracy - last.testAccuracy,
      },
      steps: step,
    });
  } catch (error) {
    // A failure mid-run (e.g. a factor that cannot be inverted) is an outcome: keep the epochs done.
    return ended({ status: 'failed', error: (error as Error).message, final: null, steps: step });
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
