/**
 * SmoothOut-style loss smoothing (Wen et al. 2018; Naganuma & Yokota 2019): gradients (and, for
 * NGD, curvature) are evaluated at w + eps with eps ~ U(-a, a) or N(0, a^2), optionally scaled by
 * |w|, and the original weights are restored bit-exactly afterwards (a saved copy, not w + eps - eps,
 * which floating point would not undo exactly).
 */
import type { SmoothingConfig } from '../config/trainConfig.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { deriveSeed } from '../util/rng.js';

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
export class WeightPerturbation {
  private readonly saved: Tensor[];
  private restored = false;

  constructor(
    private readonly params: readonly Variable[],
    config: SmoothingConfig,
    runSeed: number,
    step: number,
    progress: number,
  ) {
    const amplitude = smoothingAmplitude(config, progress);
    this.saved = params.map((p) => tf.keep(p.clone()));
    params.forEach((p, i) => {
      const moved = tf.tidy(() => tf.add(p, sampleNoise(config, p, amplitude, deriveSeed(runSeed, 'smoothing', step, i))));
      p.assign(moved);
      moved.dispose();
    });
  }

  /** Idempotent, so error paths may call it again. */
  restore(): void {
    if (this.restored) return;
    this.restored = true;
    this.params.forEach((p, i) => {
      p.assign(this.saved[i]);
    });
    for (const t of this.saved) t.dispose();
    this.saved.length = 0;
  }
}
