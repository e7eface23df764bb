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

/** A dense layer's gradient in rank-n form, dW = a^T g: its n input rows (with the bias column) and dL/ds rows. */
export interface GradientRows {
  a: tf.Tensor2D;
  g: tf.Tensor2D;
}

/**
 * Whether preconditioning a [aDim, gDim] gradient from its n rows, 2n(aDim² + gDim² + aDim·gDim) FLOPs,
 * is cheaper than from the matrix, 2 aDim·gDim (aDim + gDim). fmnist_2c2d's dense layer (3,137 x 1,024)
 * at n = 128: 3.6 against 26.7 GFLOP; it pays up to n = 947.
 */
export function lowRankIsCheaper(rows: number, aDim: number, gDim: number): boolean {
  return rows * (aDim * aDim + gDim * gDim + aDim * gDim) < aDim * gDim * (aDim + gDim);
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
    const inv = statistic(this.inverses, layer);
    return tf.tidy(() => tf.matMul(tf.matMul(inv.a, gradientMatrix as tf.Tensor2D), inv.g));
  }

  /**
   * The same for a gradient given by its rows, dW = a^T g (`rows.a`: [n, fanIn(+1)] inputs with the
   * bias column, `rows.g`: [n, out] dL/ds of the batch-mean loss): A^-1 a^T g G^-1 = (a A^-1)^T (g G^-1),
   * A^-1 being symmetric; returned as the kernel's and the bias's parts. The bias row's part uses the
   * last row of A^-1 (its last column, by symmetry): row blocks are contiguous, column blocks would be a
   * strided copy (tfjs's SplitV on [128, 3137]: ~150 ms here).
   * Equal up to rounding, cheaper where `lowRankIsCheaper`.
   */
  preconditionRows(layer: KfacLayer, rows: GradientRows): { kernel: Tensor; bias?: Tensor } {
    const inv = statistic(this.inverses, layer);
    return tf.tidy(() => {
      const right = tf.matMul(rows.g, inv.g);
      const dims = inv.a.shape[0];
      // (a A^-1[:, block])^T (g G^-1) with A^-1[:, block] = A^-1[block, :]^T.
      const part = (first: number, count: number, shape: number[]) => {
        const left = tf.matMul(rows.a, tf.slice(inv.a, [first, 0], [count, dims]), false, true);
        return tf.reshape(tf.matMul(left, right, true, false), shape);
      };
      if (!layer.bias) return { kernel: part(0, dims, layer.kernel.shape) };
      return { kernel: part(0, dims - 1, layer.kernel.shape), bias: part(dims - 1, 1, layer.bias.shape) };
    });
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
