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

interface FactorPair {
  a: tf.Tensor2D;
  g: tf.Tensor2D;
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
   * Folds this batch's factors into the running averages. `inputs` holds each layer's input, `grads`
   * each layer's dL/ds for the batch-mean loss (from true labels or sampled ones).
   */
  updateFactors(inputs: LayerTrace['inputs'], grads: LayerTrace['preActivationGrads'], batchSize: number): void {
    for (const layer of this.layers) {
      const a = inputs.get(layer.name);
      const g = grads.get(layer.name);
      if (!a || !g) throw new Error(`K-FAC: no statistics recorded for layer ${layer.name}`);
      const fresh = { a: activationFactor(layer, a), g: gradientFactor(g, batchSize) };
      const old = this.factors.get(layer.name);
      if (!old) {
        this.factors.set(layer.name, { a: tf.keep(fresh.a), g: tf.keep(fresh.g) });
        continue;
      }
      const ema = (prev: Tensor, cur: Tensor) => tf.keep(tf.tidy(() => tf.add(tf.mul(prev, this.emaDecay), tf.mul(cur, 1 - this.emaDecay)))) as tf.Tensor2D;
      this.factors.set(layer.name, { a: ema(old.a, fresh.a), g: ema(old.g, fresh.g) });
      old.a.dispose();
      old.g.dispose();
      fresh.a.dispose();
      fresh.g.dispose();
    }
  }

  /** Recomputes the damped inverses from the current factors, in float64. */
  updateInverses(damping: number): void {
    for (const layer of this.layers) {
      const f = this.factors.get(layer.name);
      if (!f) throw new Error(`K-FAC: inverse requested before any factor update for layer ${layer.name}`);
      const [aDim] = f.a.shape;
      const [gDim] = f.g.shape;
      const inv = dampedInverses(f.a.dataSync(), aDim, f.g.dataSync(), gDim, damping, this.spdInverse);
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
    for (const f of [...this.factors.values(), ...this.inverses.values()]) {
      f.a.dispose();
      f.g.dispose();
    }
    this.factors.clear();
    this.inverses.clear();
  }
}
