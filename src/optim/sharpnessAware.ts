/**
 * Sharpness-aware minimization (SAM, Foret et al. 2021, eq. 2): the update uses the gradient at the
 * first-order worst case within radius ρ, w + ε with ε = ρ g / ‖g‖, where g is the batch gradient at w
 * and the norm runs over all parameters together. ASAM (Kwon et al. 2021, eq. 9) makes the radius
 * relative to the weights: ε = ρ T² g / ‖T g‖ with T = |w| + η elementwise. The ascent uses the raw
 * gradient for both sam-sgd and sam-ngd (as SAM does), and the weights are restored bit-exactly from a
 * saved copy, as for smoothing.
 */
import type { SamConfig } from '../config/trainConfig.js';
import type { Model } from '../models/model.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import type { PhaseTimer } from '../util/phaseTimer.js';
import { lossAndGradients } from './lossAndGradients.js';
import type { TrainingBatch } from './optimizer.js';
import { meanOverReplicas, type ReplicaGroup } from './replicaGroup.js';
import { DisplacedWeights } from './displacedWeights.js';

/** ε per parameter (caller disposes). A zero gradient gives ε = 0, not NaN. */
export function samAscent(params: readonly Tensor[], grads: readonly Tensor[], config: SamConfig): Tensor[] {
  return tf.tidy(() => {
    const scales = params.map((w) => (config.adaptive ? tf.add(tf.abs(w), config.eta) : null));
    const scaled = grads.map((g, i) => (scales[i] ? tf.mul(scales[i], g) : g));
    const norm = tf.sqrt(tf.addN(scaled.map((s) => tf.sum(tf.square(s)))));
    const factor = tf.divNoNan(tf.scalar(config.rho), norm);
    return scaled.map((s, i) => tf.mul(scales[i] ? tf.mul(scales[i], s) : s, factor));
  });
}

/** Moves `params` by ε; `restore()` puts the saved originals back (idempotent). */
export class SharpnessAwarePerturbation extends DisplacedWeights {
  constructor(params: readonly Variable[], epsilons: readonly Tensor[]) {
    super(params, (_p, i) => epsilons[i]);
  }
}

/**
 * The ascent pass: loss and gradient at w (the batch's running statistics are updated here, once per
 * step), averaged over the replicas so that N workers perturb as one worker with the global batch would,
 * then the weights moved to w + ε. Returns the loss at w, the training loss of the step.
 */
export async function ascend(
  model: Model,
  batch: TrainingBatch,
  config: SamConfig,
  replicas: ReplicaGroup,
  timer: PhaseTimer,
  microBatchSize?: number,
): Promise<{ loss: number; perturbation: SharpnessAwarePerturbation }> {
  const pass = await timer.timeAsync('samAscent', () => lossAndGradients(model, batch, { updateRunningStats: true, microBatchSize }));
  const params = [...pass.grads.keys()];
  const mean = await meanOverReplicas(replicas, [...pass.grads.values()], [pass.loss]);
  try {
    const perturbation = timer.time('samAscent', () => {
      const epsilons = samAscent(params, mean.tensors, config);
      try {
        return new SharpnessAwarePerturbation(params, epsilons);
      } finally {
        tf.dispose(epsilons);
      }
    });
    return { loss: mean.scalars[0], perturbation };
  } finally {
    tf.dispose(mean.tensors);
  }
}
