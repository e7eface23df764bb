/**
 * The SGD update rule shared by every optimizer: heavy-ball or Nesterov momentum, and weight decay at
 * one of four placements (trainConfig.ts WEIGHT_DECAY_PLACEMENTS): in the gradient ('l2', and
 * 'preconditioned-objective', which also adds the coefficient to K-FAC's damping), on the preconditioned
 * direction before momentum ('after-preconditioning', as kfac-pytorch's scripts do through torch's SGD),
 * or decoupled from the gradient (Loshchilov & Hutter 2019).
 */
import { MOMENTUM_STEP_KERNEL } from '../compute/kernels/momentumStep.js';
import { GRADIENT_DECAY_PLACEMENTS, type WeightDecayPlacement } from '../config/trainConfig.js';
import { tf, type Tensor, type Variable } from '../tf.js';

export interface MomentumSgdOptions {
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  weightDecayMode: WeightDecayPlacement;
  /** Parameters weight decay skips (the kinds in `weightDecayExclude`). */
  exempt?: ReadonlySet<Variable>;
}

export class MomentumSgd {
  private readonly velocity = new Map<Variable, Tensor>();

  constructor(readonly options: MomentumSgdOptions) {}

  private decayOf(param: Variable, placements: readonly WeightDecayPlacement[]): number {
    const { weightDecay, weightDecayMode, exempt } = this.options;
    return placements.includes(weightDecayMode) && !exempt?.has(param) ? weightDecay : 0;
  }

  /** The gradient a preconditioner sees: `g + wd * w` for 'l2' and 'preconditioned-objective', else `g`. */
  withL2(gradient: Tensor, param: Variable): Tensor {
    const wd = this.decayOf(param, GRADIENT_DECAY_PLACEMENTS);
    return wd === 0 ? gradient : tf.add(gradient, tf.mul(param, wd));
  }

  /** The direction momentum sees: `d + wd * w` for 'after-preconditioning', else `d`. */
  withDirectionDecay(direction: Tensor, param: Variable): Tensor {
    const wd = this.decayOf(param, ['after-preconditioning']);
    return wd === 0 ? direction : tf.add(direction, tf.mul(param, wd));
  }

  /**
   * Damping the objective's L2 term adds to the curvature (Martens & Grosse 2015, sec. 6.3: the Fisher of
   * L + wd/2 ||w||² is F + wd I): wd for 'preconditioned-objective', else 0.
   */
  get dampingFromDecay(): number {
    return this.options.weightDecayMode === 'preconditioned-objective' ? this.options.weightDecay : 0;
  }

  /** v <- m v + d;  w <- w - lr (d + m v  if Nesterov, else v)  [- lr wd w if decoupled]. */
  apply(param: Variable, direction: Tensor, lr: number): void {
    const { momentum, nesterov } = this.options;
    const decoupled = this.decayOf(param, ['decoupled']);
    const previous = this.velocity.get(param);
    if (previous && momentum > 0 && !nesterov && decoupled === 0 && hasMomentumStepKernel(param, direction)) {
      // Heavy ball in one kernel: the same bits as the ops below, one pass instead of four.
      const attrs = { momentum, lr } as unknown as tf.NamedAttrMap;
      const [v, w] = tf.engine().runKernel(MOMENTUM_STEP_KERNEL, { w: param, v: previous, d: direction }, attrs) as Tensor[];
      previous.dispose();
      this.velocity.set(param, tf.keep(v));
      param.assign(w);
      w.dispose();
      return;
    }
    const next = tf.tidy(() => {
      let step = direction;
      if (momentum > 0) {
        const v = previous ? tf.add(tf.mul(previous, momentum), direction) : direction.clone();
        previous?.dispose();
        this.velocity.set(param, tf.keep(v));
        step = nesterov ? tf.add(direction, tf.mul(v, momentum)) : v;
      }
      let updated = tf.sub(param, tf.mul(step, lr));
      if (decoupled > 0) updated = tf.sub(updated, tf.mul(param, lr * decoupled));
      return updated;
    });
    param.assign(next);
    next.dispose();
  }

  dispose(): void {
    for (const v of this.velocity.values()) v.dispose();
    this.velocity.clear();
  }
}

/** The fused heavy-ball kernel exists on this backend (cpu, cpu-blas) for these float32 tensors. */
function hasMomentumStepKernel(param: Variable, direction: Tensor): boolean {
  return param.dtype === 'float32' && direction.dtype === 'float32' && tf.getKernel(MOMENTUM_STEP_KERNEL, tf.getBackend()) !== undefined;
}
