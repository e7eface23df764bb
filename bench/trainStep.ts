/**
 * Training-step time per (model, optimizer, global batch), on the plain tfjs CPU kernels and on the
 * BLAS kernels, in the same process. K-FAC rows run `inverseUpdateInterval` (10) measured steps after
 * one warm-up step, so the inversion cost is amortized as it is in training.
 */
import { disableBlasKernels, enableBlasKernels } from '../src/compute/accel/index.js';
import { resolveTrainConfig } from '../src/config/resolveConfig.js';
import { type OptimizerName, optimizerUses } from '../src/config/trainConfig.js';
import { createModel } from '../src/models/createModel.js';
import { createOptimizer } from '../src/optim/createOptimizer.js';
import { tf } from '../src/tf.js';
import { PhaseTimer } from '../src/util/phaseTimer.js';
import { measure, type Measurement } from './measure.js';

export type StepModel = 'mlp' | 'cnn' | '2c2d';
export type KernelSet = 'plain' | 'blas';

export interface StepCase {
  model: StepModel;
  optimizer: OptimizerName;
  batchSize: number;
  kernels: KernelSet;
  /** K-FAC factor-update interval (default 1: statistics every step). */
  factorUpdateInterval?: number;
  /** K-FAC inversion interval (default 10); the measured steps span one such period. */
  inverseUpdateInterval?: number;
  /** kfac.lowRankGradient: wide dense layers preconditioned from the gradient's rows. */
  lowRankGradient?: boolean;
}

export interface StepTiming extends StepCase, Measurement {
  /** Seconds per phase summed over the measured steps, divided by their number. */
  phasesPerStep: Record<string, number>;
}

const INPUT: [number, number, number] = [28, 28, 1];
const CLASSES = 10;
export const KFAC_INVERSE_INTERVAL = 10;

export async function timeTrainingStep(c: StepCase, spdInverse?: (a: Float64Array, n: number) => Float64Array): Promise<StepTiming> {
  if (c.kernels === 'blas') {
    const status = enableBlasKernels();
    if (!status.enabled) throw new Error(status.reason);
  } else {
    disableBlasKernels();
  }
  const inverseInterval = c.inverseUpdateInterval ?? KFAC_INVERSE_INTERVAL;
  const config = resolveTrainConfig({
    model: { name: c.model },
    optimizer: {
      name: c.optimizer,
      lr: 0.01,
      ...(optimizerUses(c.optimizer, 'kfac')
        ? {
            kfac: {
              inverseUpdateInterval: inverseInterval,
              factorUpdateInterval: c.factorUpdateInterval ?? 1,
              ...(c.lowRankGradient ? { lowRankGradient: true } : {}),
            },
          }
        : {}),
    },
  });
  const model = createModel(config.model, INPUT, CLASSES, 0);
  const optimizer = createOptimizer(config.optimizer, model, 0, c.kernels === 'blas' ? spdInverse : undefined);
  const x = tf.randomNormal([c.batchSize, ...INPUT], 0, 1, 'float32', 1);
  const y = tf.randomUniform([c.batchSize], 0, CLASSES, 'int32', 2);
  const kfac = optimizerUses(c.optimizer, 'kfac');
  // Plain-kernel rows are slow (a CNN step is minutes at batch 1024): no warm-up, as few steps as
  // give a fair figure (K-FAC still needs a full inversion period to amortize).
  const iterations = kfac ? inverseInterval : c.kernels === 'plain' ? 1 : 5;
  const warmupIterations = c.kernels === 'plain' && !kfac ? 0 : 1;
  let step = 0;
  let timer = new PhaseTimer();
  try {
    const m = await measure(
      `${c.model}/${c.optimizer}/b${c.batchSize}/${c.kernels}/f${c.factorUpdateInterval ?? 1}/i${inverseInterval}${c.lowRankGradient ? '/low-rank' : ''}`,
      async () => {
        // The warm-up step (step 0: first factors and inversion) is excluded from the phase totals.
        if (step === warmupIterations && warmupIterations > 0) timer = new PhaseTimer();
        await optimizer.step({ x, y }, { step, lr: 0.01, progress: 0, timer });
        step++;
      },
      { iterations, warmupIterations },
    );
    const measured = Math.max(step - warmupIterations, 1);
    const phasesPerStep = Object.fromEntries(Object.entries(timer.snapshot()).map(([k, v]) => [k, v / measured]));
    return { ...c, ...m, phasesPerStep };
  } finally {
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  }
}
