/**
 * What one training step costs, phase by phase (forward/backward, curvature statistics, inversion,
 * preconditioning, update), on real batches of the run's dataset. Phases that run every k steps
 * (K-FAC inversion) show as a mean amortized over steps and a median of 0: both are reported.
 */
import type { TrainConfig } from '../config/trainConfig.js';
import { epochBatches, gatherBatch, type Dataset } from '../data/index.js';
import { createModel } from '../models/createModel.js';
import { createOptimizer } from '../optim/createOptimizer.js';
import type { SpdInverse } from '../optim/kfac/dampedInverse.js';
import { peakLearningRate } from '../optim/learningRate.js';
import { tf } from '../tf.js';
import { STEP_PHASES, type StepPhase } from '../results/probeReport.js';
import { PhaseTimer } from '../util/phaseTimer.js';
import { figureOfSamples, timeCalls, type Figure } from './figure.js';

export interface StepPhaseFigures {
  step: Figure;
  samplesPerSecond: number;
  phases: Record<StepPhase, Figure>;
  /** Each timed step's wall time, milliseconds (to pool with other samples). */
  stepSamplesMs: number[];
}

export async function probeStepPhases(
  config: TrainConfig,
  dataset: Dataset,
  options: { iterations: number; warmup: number; spdInverse?: SpdInverse },
): Promise<StepPhaseFigures> {
  const model = createModel(config.model, dataset.inputShape, dataset.numClasses, config.seed);
  const optimizer = createOptimizer(config.optimizer, model, config.seed, options.spdInverse);
  const lr = peakLearningRate(config.optimizer.lr, config.schedule, config.batchSize);
  const [h, w, c] = dataset.inputShape;
  const batches: Int32Array[] = [];
  for (let epoch = 1; batches.length < options.iterations + options.warmup; epoch++) {
    for (const indices of epochBatches(dataset.train.count, config.batchSize, config.seed, epoch)) batches.push(indices);
  }
  const timer = new PhaseTimer();
  const samples = Object.fromEntries(STEP_PHASES.map((p) => [p, [] as number[]])) as Record<StepPhase, number[]>;
  const stepSamplesMs: number[] = [];
  let step = 0;
  try {
    const stepFigure = await timeCalls(
      `${config.optimizer.name}/b${config.batchSize}`,
      async () => {
        const { x, y } = gatherBatch(dataset.train, batches[step], dataset.inputShape);
        const xt = tf.tensor4d(x, [config.batchSize, h, w, c]);
        const yt = tf.tensor1d(y, 'int32');
        const before = timer.snapshot();
        const start = performance.now();
        try {
          await optimizer.step({ x: xt, y: yt }, { step, lr, progress: 0, timer });
        } finally {
          tf.dispose([xt, yt]);
        }
        const wall = performance.now() - start;
        const after = timer.snapshot();
        if (step >= options.warmup) {
          for (const p of STEP_PHASES) samples[p].push((after[p] - before[p]) * 1000);
          stepSamplesMs.push(wall);
        }
        step++;
      },
      options.iterations,
      options.warmup,
    );
    const phases = {} as Record<StepPhase, Figure>;
    for (const p of STEP_PHASES) phases[p] = await figureOfSamples(p, samples[p]);
    return { step: stepFigure, samplesPerSecond: config.batchSize / (stepFigure.meanMs / 1000), phases, stepSamplesMs };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
