/**
 * One training run: model, optimizer and data from a resolved config, stepped over seeded epochs until
 * its budget (epochs, steps, or a target with a maximum) ends, evaluated after each epoch and every
 * evalEverySteps steps. Knows nothing of CLIs or files: it returns what happened, including
 * divergence (a non-finite loss) as an outcome rather than an exception.
 */
import { geometricSteps, resolveBudget } from '../config/budget.js';
import { optimizerUses, type TrainConfig } from '../config/trainConfig.js';
import { assertMemoryFits, measurePassMemory } from './memoryFit.js';
import { epochBatches, gatherBatch, type Dataset, type Split } from '../data/index.js';
import { createModel } from '../models/createModel.js';
import { createOptimizer } from '../optim/createOptimizer.js';
import type { SpdInverse } from '../optim/kfac/dampedInverse.js';
import { DivergenceError } from '../optim/divergence.js';
import { learningRateAt, peakLearningRate } from '../optim/learningRate.js';
import { ReplicaGroupError, SINGLE_REPLICA, type ReplicaGroup } from '../optim/replicaGroup.js';
import type { EpochMetrics, Evaluation, FinalMetrics, RunStatus, TargetOutcome } from '../results/runResult.js';
import { tf, type Variable } from '../tf.js';
import { PhaseTimer, type Phase } from '../util/phaseTimer.js';
import { evaluate } from './evaluate.js';
import { assertReplicasAgree } from './replicaAgreement.js';
import { TargetTracker } from './targetTracker.js';
import { stepsPerEpoch } from '../config/batchSplits.js';

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
  /** What to evaluate on (default: the dataset's train, validation and test splits). */
  evaluationSplits?: EvaluationSplits;
  /** Sees the trained parameters of a run that finished ok, before they are disposed. */
  onTrained?(params: readonly Variable[]): void | Promise<void>;
  /** Refuse (ImpossibleConfigError, before the first step) a batch whose training pass would not fit. */
  memoryBudgetBytes?: number;
}

export interface TrainingOutcome {
  status: RunStatus;
  divergedAtStep?: number;
  /** Why a 'failed' run failed. */
  error?: string;
  /** 'infrastructure' when the replica group broke (worth a retry), 'run' when training itself failed. */
  failureKind?: 'run' | 'infrastructure';
  epochs: EpochMetrics[];
  /** Every evaluation in step order (epoch ends, every evalEverySteps, the last step). */
  evaluations: Evaluation[];
  /** Why an ok run stopped. */
  stopReason?: 'budget' | 'target';
  /** For a target budget: when it was met, and the best value seen. */
  target?: TargetOutcome;
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

/** The per-split metrics of an evaluation, in the order results record them (validation only when held out). */
function splitMetrics(point: Evaluation) {
  return {
    trainLoss: point.trainLoss,
    trainAccuracy: point.trainAccuracy,
    testLoss: point.testLoss,
    testAccuracy: point.testAccuracy,
    ...(point.validationAccuracy !== undefined
      ? { validationLoss: point.validationLoss, validationAccuracy: point.validationAccuracy }
      : {}),
  };
}

/** The splits a run is evaluated on: train (or its train_eval subset), validation if held out, test. */
export interface EvaluationSplits {
  train: Split;
  validation?: Split;
  test: Split;
}

export async function runTraining(config: TrainConfig, dataset: Dataset, options: TrainingOptions = {}): Promise<TrainingOutcome> {
  const { hooks = {}, replicas = SINGLE_REPLICA } = options;
  const perEpoch = stepsPerEpoch(dataset.train.count, config.batchSize, replicas.worldSize);
  const budget = resolveBudget(config, perEpoch);
  const totalSteps = budget.maxSteps;
  const localRows = config.batchSize / replicas.worldSize;
  const rowOffset = replicas.rank * localRows;
  const splits = options.evaluationSplits ?? { train: dataset.train, validation: dataset.validation, test: dataset.test };
  const model = createModel(config.model, dataset.inputShape, dataset.numClasses, config.seed);
  const optimizer = createOptimizer(config.optimizer, model, config.seed, options.spdInverse, replicas);
  if (options.memoryBudgetBytes !== undefined) {
    try {
      assertMemoryFits({
        pass: await measurePassMemory(model, dataset.inputShape, optimizerUses(config.optimizer.name, 'kfac')),
        residentBytes: process.memoryUsage().rss,
        perWorkerBatch: localRows,
        microBatchSize: config.microBatchSize,
        budgetBytes: options.memoryBudgetBytes,
        canMicroBatch: model.otherParams.length === 0,
      });
    } catch (error) {
      optimizer.dispose();
      model.dispose();
      throw error;
    }
  }
  const peak = peakLearningRate(config.optimizer.lr, config.schedule, config.batchSize);
  const timer = new PhaseTimer();
  const epochs: EpochMetrics[] = [];
  const evaluations: Evaluation[] = [];
  const target = budget.target ? new TargetTracker(budget.target) : null;
  const logSpaced = config.evalGrowth !== undefined ? geometricSteps(config.evalGrowth, totalSteps) : null;
  let step = 0;
  let trainSeconds = 0;
  let replicaChecks = 0;
  // What every ending shares; read before the finally block disposes the optimizer.
  const ended = (
    rest: Pick<TrainingOutcome, 'status' | 'final' | 'steps' | 'divergedAtStep' | 'error' | 'failureKind' | 'stopReason'>,
  ): TrainingOutcome => ({
    ...rest,
    epochs,
    evaluations,
    ...(target ? { target: target.outcome() } : {}),
    phases: timer.snapshot(),
    trainSeconds,
    optimizerDiagnostics: optimizer.diagnostics?.() ?? {},
    replicaChecks,
  });
  /** Every split, in inference mode; its time is the 'evaluation' phase, never training time. */
  const evaluateAt = async (lr: number): Promise<Evaluation> => {
    const on = (split: Split) =>
      timer.timeAsync('evaluation', () => evaluate(model, split, dataset.inputShape, config.evalBatchSize, replicas));
    const train = await on(splits.train);
    const validation = splits.validation ? await on(splits.validation) : undefined;
    const test = await on(splits.test);
    const point: Evaluation = {
      step,
      epoch: step / perEpoch,
      samples: step * config.batchSize,
      trainSeconds,
      learningRate: lr,
      trainLoss: finiteOrNull(train.loss),
      trainAccuracy: train.accuracy,
      ...(validation ? { validationLoss: finiteOrNull(validation.loss), validationAccuracy: validation.accuracy } : {}),
      testLoss: finiteOrNull(test.loss),
      testAccuracy: test.accuracy,
    };
    evaluations.push(point);
    target?.observe(point);
    return point;
  };
  try {
    let stopReason: 'budget' | 'target' = 'budget';
    training: for (let epoch = 1; epoch <= budget.maxEpochs; epoch++) {
      const epochStart = performance.now();
      let intervalStart = epochStart;
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
          loss = await optimizer.step(batch, { step, lr, progress: step / totalSteps, timer, microBatchSize: config.microBatchSize });
        } finally {
          xt.dispose();
          yt.dispose();
        }
        // The loss is the replicas' mean, so every replica sees the same divergence at the same step.
        if (!Number.isFinite(loss)) {
          trainSeconds += (performance.now() - intervalStart) / 1000;
          return ended({ status: 'diverged', divergedAtStep: step, final: null, steps: step + 1 });
        }
        if (options.verifyReplicas) {
          await assertReplicasAgree(model.params, replicas, step);
          replicaChecks++;
        }
        lossSum += loss;
        step++;
        hooks.onStep?.({ epoch, epochs: budget.maxEpochs, step, totalSteps, loss });
        const epochEnds = step === epoch * perEpoch;
        const budgetEnds = step === totalSteps;
        const periodic = (config.evalEverySteps !== undefined && step % config.evalEverySteps === 0) || logSpaced?.has(step) === true;
        if (!(epochEnds || budgetEnds || periodic)) continue;
        trainSeconds += (performance.now() - intervalStart) / 1000;
        const point = await evaluateAt(lr);
        intervalStart = performance.now();
        if (epochEnds) {
          const metrics: EpochMetrics = {
            epoch,
            steps: step,
            learningRate: lr,
            meanBatchLoss: finiteOrNull(lossSum / perEpoch),
            ...splitMetrics(point),
            seconds: (performance.now() - epochStart) / 1000,
          };
          epochs.push(metrics);
          hooks.onEpoch?.(metrics);
        }
        if (target?.reached && budget.stopAtTarget) {
          stopReason = 'target';
          break training;
        }
        if (budgetEnds) break training;
      }
    }
    await options.onTrained?.(model.params);
    const last = evaluations[evaluations.length - 1];
    return ended({
      status: 'ok',
      stopReason,
      final: {
        ...splitMetrics(last),
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
