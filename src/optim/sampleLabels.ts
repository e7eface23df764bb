import { tf, type Tensor } from '../tf.js';

/**
 * One class label per row drawn from softmax(logits), by inverse CDF on seeded uniforms.
 * (tfjs's seeded `multinomial` re-seeds per row on the CPU backend, so identical rows get
 * identical draws and different rows correlated ones: not usable for the MC Fisher.)
 */
export function sampleLabels(logits: Tensor, seed: number): tf.Tensor1D {
  return tf.tidy(() => {
    const [n, classes] = logits.shape as [number, number];
    const cdf = tf.cumsum(tf.softmax(logits as tf.Tensor2D), 1);
    const u = tf.randomUniform([n, 1], 0, 1, 'float32', seed);
    const below = tf.sum(tf.cast(tf.less(cdf, u), 'int32'), 1);
    // Rounding can leave the last cdf entry a hair under u.
    return tf.cast(tf.minimum(below, classes - 1), 'int32') as tf.Tensor1D;
  });
}
