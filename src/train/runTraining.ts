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
import { DivergenceError } from '../optim/divergence.js';
import { learningRateAt, peakLearningRate } from '../optim/learningRate.js';
import { ReplicaGroupError, SINGLE_REPLICA, type ReplicaGroup } from '../optim/replicaGroup.js';
import type { EpochMetrics, FinalMetrics, RunStatus } from '../results/runResult.js';
import { tf, type Variable } from '../tf.js';
import { PhaseTimer, type Phase } from '../util/phaseTimer.js';
import { evaluate } from './evaluate.js';
import { assertReplicasAgree } from './replicaAgreement.js';

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

export interface TrainingOptions {
  hooks?: TrainingHooks;
  /** Float64 SPD inverse for K-FAC factors (LAPACK on cpu-blas). */
  spdInverse?: SpdInverse;
  /** Data-parallel group: this process trains on its 1/worldSize share of every global batch. */
  replicas?: ReplicaGroup;
  /** Hash the weights after every step and check all replicas agree bit for bit. */
  verifyReplicas?: boolean;
  /** Sees the trained parameters of a run that finished ok, before they are disposed. */
  onTrained?(params: readonly Variable[]): void;
}

export interface TrainingOutcome {
  status: RunStatus;
  divergedAtStep?: number;
  /** Why a 'failed' run failed. */
  error?: string;
  /** 'infrastructure' when the replica group broke (worth a retry), 'run' when training itself failed. */
  failureKind?: 'run' | 'infrastructure';
  epochs: EpochMetrics[];
  final: FinalMetrics | null;
  phases: Record<Phase, number>;
  steps: number;
  trainSeconds: number;
  /** The optimizer's own run statistics (K-FAC: how often KL-clipping bound). */
  optimizerDiagnostics: Record<string, number>;
  /** Steps after which replicas were checked to agree bit for bit (0 unless asked). */
  replicaChecks: number;
}

/** JSON has no NaN/Infinity: non-finite losses are recorded as null. */
const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

export class ImpossibleConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImpossibleConfigError';
  }
}

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

export async function runTraining(config: TrainConfig, dataset: Dataset, options: TrainingOptions = {}): Promise<TrainingOutcome> {
  const { hooks = {}, replicas = SINGLE_REPLICA } = options;
  const perEpoch = stepsPerEpoch(dataset.train.count, config.batchSize, replicas.worldSize);
  const totalSteps = perEpoch * config.epochs;
  const localRows = config.batchSize / replicas.worldSize;
  const rowOffset = replicas.rank * localRows;
  const model = createModel(config.model, dataset.inputShape, dataset.numClasses, config.seed);
  const optimizer = createOptimizer(config.optimizer, model, config.seed, options.spdInverse, replicas);
  const peak = peakLearningRate(config.optimizer.lr, config.schedule, config.batchSize);
  const timer = new PhaseTimer();
  const epochs: EpochMetrics[] = [];
  let step = 0;
  let trainSeconds = 0;
  let replicaChecks = 0;
  // What every ending shares; read before the finally block disposes the optimizer.
  const ended = (rest: Pick<TrainingOutcome, 'status' | 'final' | 'steps' | 'divergedAtStep' | 'error' | 'failureKind'>): TrainingOutcome => ({
    ...rest,
    epochs,
    phases: timer.snapshot(),
    trainSeconds,
    optimizerDiagnostics: optimizer.diagnostics?.() ?? {},
    replicaChecks,
  });
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const epochStart = performance.now();
      let lossSum = 0;
      let lr = peak;
      for (const globalIndices of epochBatches(dataset.train.count, config.batchSize, config.seed, epoch)) {
        lr = learningRateAt(peak, config.schedule, step, perEpoch, totalSteps);
        const indices = globalIndices.subarray(rowOffset, rowOffset + localRows);
        const { x, y } = gatherBatch(dataset.train, indices, dataset.inputShape);
        const [h, w, c] = dataset.inputShape;
        const xt = tf.tensor4d(x, [indices.length, h, w, c]);
        const yt = tf.tensor1d(y, 'int32');
        let loss: number;
        try {
          const batch = { x: xt, y: yt, rowOffset, globalRows: config.batchSize };
          loss = await optimizer.step(batch, { step, lr, progress: step / totalSteps, timer });
        } finally {
          xt.dispose();
          yt.dispose();
        }
        // The loss is the replicas' mean, so every replica sees the same divergence at the same step.
        if (!Number.isFinite(loss)) {
          trainSeconds += (performance.now() - epochStart) / 1000;
          return ended({ status: 'diverged', divergedAtStep: step, final: null, steps: step + 1 });
        }
        if (options.verifyReplicas) {
          await assertReplicasAgree(model.params, replicas, step);
          replicaChecks++;
        }
        lossSum += loss;
        step++;
        hooks.onStep?.({ epoch, epochs: config.epochs, step, totalSteps, loss });
      }
      trainSeconds += (performance.now() - epochStart) / 1000;
      const split = (which: 'train' | 'test') =>
        timer.timeAsync('evaluation', () => evaluate(model, dataset[which], dataset.inputShape, config.evalBatchSize, replicas));
      const train = await split('train');
      const test = await split('test');
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
    options.onTrained?.(model.params);
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
    if (error instanceof DivergenceError) {
      return ended({ status: 'diverged', divergedAtStep: step, error: error.message, final: null, steps: step + 1 });
    }
    // A failure mid-run (e.g. a lost peer, an exception in a kernel) is an outcome: keep the epochs done.
    const failureKind = error instanceof ReplicaGroupError ? 'infrastructure' : 'run';
    return ended({ status: 'failed', error: (error as Error).message, failureKind, final: null, steps: step });
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
