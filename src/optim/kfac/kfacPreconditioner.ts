/**
 * K-FAC state for a set of layers: running (EMA) Kronecker factors, their damped inverses, and the
 * preconditioning  dW -> A_damped^-1 dW G_damped^-1  (vec form: (A (x) G)^-1 vec(dW) with factored
 * damping; Martens & Grosse 2015, eq. 4 and sec. 6.3).
 */
import type { KfacLayer } from '../../models/layers.js';
import type { LayerTrace } from '../../models/layerTrace.js';
import { tf, type Tensor } from '../../tf.js';
import { dampedInverses, type SpdInverse } from './dampedInverse.js';
import { activationFactor, gradientFactor } from './kroneckerFactors.js';

export interface FactorPair {
  a: tf.Tensor2D;
  g: tf.Tensor2D;
}

export function disposeFactors(pairs: Iterable<FactorPair>): void {
  for (const f of pairs) {
    f.a.dispose();
    f.g.dispose();
  }
}

export class KfacPreconditioner {
  private readonly factors = new Map<string, FactorPair>();
  private readonly inverses = new Map<string, FactorPair & { pi: number }>();

  constructor(
    readonly layers: readonly KfacLayer[],
    readonly emaDecay: number,
    private readonly spdInverse?: SpdInverse,
  ) {}

  get hasInverses(): boolean {
    return this.inverses.size === this.layers.length;
  }

  /**
   * Each layer's G factor from its dL/ds for the batch-mean loss (from true labels or sampled ones) over
   * `batchSize` rows. Caller owns the result.
   */
  gradientFactors(grads: LayerTrace['preActivationGrads'], batchSize: number): Map<string, tf.Tensor2D> {
    const factors = new Map<string, tf.Tensor2D>();
    try {
      for (const layer of this.layers) factors.set(layer.name, gradientFactor(statistic(grads, layer), batchSize));
    } catch (error) {
      tf.dispose([...factors.values()]);
      throw error;
    }
    return factors;
  }

  /**
   * This batch's Kronecker factors per layer: A from each layer's traced input, G as given (from
   * `gradientFactors`, or summed over micro-batches), which it takes over. Caller owns the result.
   */
  batchFactors(inputs: LayerTrace['inputs'], gFactors: ReadonlyMap<string, tf.Tensor2D>): Map<string, FactorPair> {
    const fresh = new Map<string, FactorPair>();
    try {
      for (const layer of this.layers) {
        const g = statistic(gFactors, layer);
        fresh.set(layer.name, { a: activationFactor(layer, statistic(inputs, layer)), g });
      }
    } catch (error) {
      disposeFactors(fresh.values());
      tf.dispose([...gFactors.values()].filter((g) => !g.isDisposed));
      throw error;
    }
    return fresh;
  }

  /** Folds a batch's factors into the running averages (EMA); takes ownership of `fresh`. */
  accumulateFactors(fresh: Map<string, FactorPair>): void {
    for (const layer of this.layers) {
      const cur = fresh.get(layer.name);
      if (!cur) throw new Error(`K-FAC: no batch factors for layer ${layer.name}`);
      const old = this.factors.get(layer.name);
      if (!old) {
        this.factors.set(layer.name, { a: tf.keep(cur.a), g: tf.keep(cur.g) });
        continue;
      }
      const ema = (prev: Tensor, next: Tensor) =>
        tf.keep(tf.tidy(() => tf.add(tf.mul(prev, this.emaDecay), tf.mul(next, 1 - this.emaDecay)))) as tf.Tensor2D;
      this.factors.set(layer.name, { a: ema(old.a, cur.a), g: ema(old.g, cur.g) });
      disposeFactors([old, cur]);
    }
  }

  /** `batchFactors` then `accumulateFactors`: a single process's factor update. */
  updateFactors(inputs: LayerTrace['inputs'], grads: LayerTrace['preActivationGrads'], batchSize: number): void {
    this.accumulateFactors(this.batchFactors(inputs, this.gradientFactors(grads, batchSize)));
  }

  /** Recomputes the damped inverses from the current factors, in float64. */
  async updateInverses(damping: number): Promise<void> {
    for (const layer of this.layers) {
      const f = this.factors.get(layer.name);
      if (!f) throw new Error(`K-FAC: inverse requested before any factor update for layer ${layer.name}`);
      const [aDim] = f.a.shape;
      const [gDim] = f.g.shape;
      const [a, g] = await Promise.all([f.a.data(), f.g.data()]);
      const inv = dampedInverses(a as Float32Array, aDim, g as Float32Array, gDim, damping, this.spdInverse);
      const old = this.inverses.get(layer.name);
      this.inverses.set(layer.name, {
        a: tf.keep(tf.tensor2d(Float32Array.from(inv.aInverse), [aDim, aDim])),
        g: tf.keep(tf.tensor2d(Float32Array.from(inv.gInverse), [gDim, gDim])),
        pi: inv.pi,
      });
      old?.a.dispose();
      old?.g.dispose();
    }
  }

  /** A^-1 dW G^-1 for one layer's gradient matrix [fanIn(+1), out]. */
  precondition(layer: KfacLayer, gradientMatrix: Tensor): tf.Tensor2D {
    const inv = this.inverses.get(layer.name);
    if (!inv) throw new Error(`K-FAC: no inverse for layer ${layer.name}`);
    return tf.tidy(() => tf.matMul(tf.matMul(inv.a, gradientMatrix as tf.Tensor2D), inv.g));
  }

  /** Current running factors (for tests and diagnostics). */
  factorsOf(layerName: string): FactorPair | undefined {
    return this.factors.get(layerName);
  }

  dispose(): void {
    disposeFactors([...this.factors.values(), ...this.inverses.values()]);
    this.factors.clear();
    this.inverses.clear();
  }
}

/** A layer's recorded statistic, or the error that names the layer without one. */
function statistic<T>(recorded: ReadonlyMap<string, T>, layer: KfacLayer): T {
  const found = recorded.get(layer.name);
  if (found === undefined) throw new Error(`K-FAC: no statistics recorded for layer ${layer.name}`);
  return found;
}
