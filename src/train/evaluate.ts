/** Loss and accuracy of a model on a whole split, in inference mode, batch by batch. */
import type { Dataset, Split } from '../data/index.js';
import type { Model } from '../models/model.js';
import { softmaxCrossEntropy } from '../optim/loss.js';
import { tf } from '../tf.js';

export interface SplitMetrics {
  loss: number;
  accuracy: number;
}

export function evaluate(model: Model, split: Split, inputShape: Dataset['inputShape'], batchSize: number): SplitMetrics {
  const rowSize = inputShape[0] * inputShape[1] * inputShape[2];
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < split.count; start += batchSize) {
    const n = Math.min(batchSize, split.count - start);
    const [batchLoss, batchCorrect] = tf.tidy(() => {
      const x = tf.tensor4d(split.images.subarray(start * rowSize, (start + n) * rowSize), [n, inputShape[0], inputShape[1], inputShape[2]]);
      const y = tf.tensor1d(split.labels.subarray(start, start + n), 'int32');
      const logits = model.apply(x, { training: false });
      const loss = softmaxCrossEntropy(logits, y);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32'));
      return [loss.dataSync()[0] * n, hits.dataSync()[0]];
    });
    lossSum += batchLoss;
    correct += batchCorrect;
  }
  return { loss: lossSum / Math.max(split.count, 1), accuracy: split.count ? correct / split.count : 0 };
}
