/**
 * The SGD update rule shared by every optimizer: heavy-ball or Nesterov momentum, and weight decay
 * either as an L2 term in the gradient or decoupled from it (Loshchilov & Hutter 2019).
 */
import { tf, type Tensor, type Variable } from '../tf.js';

export interface MomentumSgdOptions {
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  weightDecayMode: 'decoupled' | 'l2';
}

export class MomentumSgd {
  private readonly velocity = new Map<Variable, Tensor>();

  constructor(readonly options: MomentumSgdOptions) {}

  /** The gradient the rule consumes: with L2 decay, `g + wd * w`; otherwise `g` unchanged. */
  withL2(gradient: Tensor, param: Variable): Tensor {
    const { weightDecay, weightDecayMode } = this.options;
    if (weightDecay === 0 || weightDecayMode !== 'l2') return gradient;
    return tf.add(gradient, tf.mul(param, weightDecay));
  }

  /** v <- m v + d;  w <- w - lr (d + m v  if Nesterov, else v)  [- lr wd w if decoupled]. */
  apply(param: Variable, direction: Tensor, lr: number): void {
    const { momentum, nesterov, weightDecay, weightDecayMode } = this.options;
    const next = tf.tidy(() => {
      let step = direction;
      if (momentum > 0) {
        const previous = this.velocity.get(param);
        const v = previous ? tf.add(tf.mul(previous, momentum), direction) : direction.clone();
        previous?.dispose();
        this.velocity.set(param, tf.keep(v));
        step = nesterov ? tf.add(direction, tf.mul(v, momentum)) : v;
      }
      let updated = tf.sub(param, tf.mul(step, lr));
      if (weightDecay > 0 && weightDecayMode === 'decoupled') updated = tf.sub(updated, tf.mul(param, lr * weightDecay));
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
