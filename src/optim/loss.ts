import { tf, type Tensor } from '../tf.js';

/** Mean softmax cross-entropy of logits [N, C] against integer labels [N]. */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = logits.shape[1] as number;
    const oneHot = tf.oneHot(labels as tf.Tensor1D, numClasses);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)));
  });
}
