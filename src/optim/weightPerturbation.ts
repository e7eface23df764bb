/**
 * SmoothOut-style loss smoothing (Wen et al. 2018; Naganuma & Yokota 2019): gradients (and, for
 * NGD, curvature) are evaluated at w + eps with eps ~ U(-a, a) or N(0, a^2), optionally scaled by
 * |w|, and the original weights are restored bit-exactly afterwards (displacedWeights.ts).
 */
import type { SmoothingConfig } from '../config/trainConfig.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { deriveSeed } from '../util/rng.js';
import { DisplacedWeights } from './displacedWeights.js';

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
    const unit =
      config.distribution === 'uniform'
        ? tf.randomUniform(param.shape, -amplitude, amplitude, 'float32', seed)
        : tf.randomNormal(param.shape, 0, amplitude, 'float32', seed);
    return config.relative ? tf.mul(unit, tf.abs(param)) : unit;
  });
}

/** Moves `params` to a random nearby point; `restore()` puts the saved originals back. */
export class WeightPerturbation extends DisplacedWeights {
  constructor(params: readonly Variable[], config: SmoothingConfig, runSeed: number, step: number, progress: number) {
    const amplitude = smoothingAmplitude(config, progress);
    super(params, (p, i) => sampleNoise(config, p, amplitude, deriveSeed(runSeed, 'smoothing', step, i)));
  }
}
