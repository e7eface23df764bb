/**
 * SmoothOut-style loss smoothing (Wen et al. 2018; Naganuma & Yokota 2019): gradients (and, for
 * NGD, curvature) are evaluated at w + eps with eps ~ U(-a, a) or N(0, a^2), optionally scaled by
 * |w|, and the original weights are restored bit-exactly afterwards (displacedWeights.ts).
 */
import type { SmoothingConfig } from '../config/trainConfig.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { deriveSeed } from '../util/rng.js';
import { DisplacedWeights } from './displacedWeights.js';
import type { ParameterKind } from '../models/parameterKinds.js';

/** Amplitude at `progress` in [0, 1] of training. */
export function smoothingAmplitude(config: SmoothingConfig, progress: number): number {
  switch (config.decay) {
    case 'none':
      return config.amplitude;
    case 'linear':
      return config.amplitude * (1 - progress);
    case 'cosine':
      return config.amplitude * 0.5 * (1 + Math.cos(Math.PI * progress));
  }
}

export function sampleNoise(config: SmoothingConfig, param: Tensor, amplitude: number, seed: number): Tensor {
  return tf.tidy(() => {
    if (config.perFilter) {
      // SmoothOut's filter adaptation: a random direction per output filter (the last axis here; dim 0 in
      // PyTorch), rescaled to a x that filter's norm; per element for 1-D parameters.
      const unit =
        config.distribution === 'uniform'
          ? tf.randomUniform(param.shape, -1, 1, 'float32', seed)
          : tf.randomNormal(param.shape, 0, 1, 'float32', seed);
      if (param.rank <= 1) return tf.mul(tf.sign(unit), tf.mul(tf.abs(param), amplitude));
      const filters = param.shape[param.rank - 1];
      const columns = (t: Tensor) => tf.reshape(t, [-1, filters]);
      const norm = (t: Tensor) => tf.sqrt(tf.sum(tf.square(columns(t)), 0));
      const scale = tf.mul(tf.divNoNan(norm(param), norm(unit)), amplitude);
      return tf.reshape(tf.mul(columns(unit), scale), param.shape);
    }
    const unit =
      config.distribution === 'uniform'
        ? tf.randomUniform(param.shape, -amplitude, amplitude, 'float32', seed)
        : tf.randomNormal(param.shape, 0, amplitude, 'float32', seed);
    return config.relative ? tf.mul(unit, tf.abs(param)) : unit;
  });
}

/**
 * Moves `params` to a random nearby point; `restore()` puts the saved originals back. Parameters of an
 * excluded kind stay put; every other one draws the same noise as without exclusions (its seed is its
 * index among all parameters).
 */
export class WeightPerturbation extends DisplacedWeights {
  constructor(
    params: readonly Variable[],
    config: SmoothingConfig,
    runSeed: number,
    step: number,
    progress: number,
    kinds?: ReadonlyMap<Variable, ParameterKind>,
    ghost?: number,
  ) {
    const amplitude = smoothingAmplitude(config, progress);
    const excluded = new Set<string>(config.exclude ?? []);
    const indices = params.map((_, i) => i).filter((i) => !excluded.has(kinds?.get(params[i]) ?? 'kernel'));
    super(
      indices.map((i) => params[i]),
      (p, j) =>
        sampleNoise(
          config,
          p,
          amplitude,
          // A ghost batch draws its own noise; without ghost batches the seeds are as they always were.
          ghost === undefined
            ? deriveSeed(runSeed, 'smoothing', step, indices[j])
            : deriveSeed(runSeed, 'smoothing', step, indices[j], 'ghost', ghost),
        ),
    );
  }
}
