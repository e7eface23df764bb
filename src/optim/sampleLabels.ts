import { tf, type Tensor } from '../tf.js';

/**
 * One class label per row drawn from softmax(logits), by inverse CDF on seeded uniforms. A replica
 * holding rows [rowOffset, rowOffset + n) of a global batch of `globalRows` takes its slice of the
 * global batch's uniforms, so N replicas draw exactly what one process would.
 * (tfjs's seeded `multinomial` re-seeds per row on the CPU backend, so identical rows get
 * identical draws and different rows correlated ones: not usable for the MC Fisher.)
 */
export function sampleLabels(logits: Tensor, seed: number, rowOffset = 0, globalRows?: number): tf.Tensor1D {
  return tf.tidy(() => {
    const [n, classes] = logits.shape as [number, number];
    const total = globalRows ?? n;
    if (rowOffset < 0 || rowOffset + n > total)
      throw new Error(`sampleLabels: rows [${rowOffset}, ${rowOffset + n}) outside a batch of ${total}`);
    const cdf = tf.cumsum(tf.softmax(logits as tf.Tensor2D), 1);
    const all = tf.randomUniform([total, 1], 0, 1, 'float32', seed);
    const u = total === n ? all : tf.slice(all, [rowOffset, 0], [n, 1]);
    const below = tf.sum(tf.cast(tf.less(cdf, u), 'int32'), 1);
    // Rounding can leave the last cdf entry a hair under u.
    return tf.cast(tf.minimum(below, classes - 1), 'int32') as tf.Tensor1D;
  });
}
