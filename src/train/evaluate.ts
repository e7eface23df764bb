/** Loss and accuracy of a model on a whole split, in inference mode, batch by batch. */
import type { Dataset, Split } from '../data/index.js';
import type { Model } from '../models/model.js';
import { softmaxCrossEntropy } from '../optim/loss.js';
import { SINGLE_REPLICA, type ReplicaGroup } from '../optim/replicaGroup.js';
import { tf } from '../tf.js';

export interface SplitMetrics {
  loss: number;
  accuracy: number;
}

/** Summed loss and hits over examples [start, end) of `split`. */
async function evaluateRange(
  model: Model,
  split: Split,
  inputShape: Dataset['inputShape'],
  batchSize: number,
  start: number,
  end: number,
): Promise<{ lossSum: number; correct: number }> {
  const rowSize = inputShape[0] * inputShape[1] * inputShape[2];
  let lossSum = 0;
  let correct = 0;
  for (let from = start; from < end; from += batchSize) {
    const n = Math.min(batchSize, end - from);
    const [lossT, hitsT] = tf.tidy(() => {
      const x = tf.tensor4d(split.images.subarray(from * rowSize, (from + n) * rowSize), [n, inputShape[0], inputShape[1], inputShape[2]]);
      const y = tf.tensor1d(split.labels.subarray(from, from + n), 'int32');
      const logits = model.apply(x, { training: false });
      const loss = softmaxCrossEntropy(logits, y);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32'));
      return [loss, hits];
    });
    try {
      const [loss, hits] = await Promise.all([lossT.data(), hitsT.data()]);
      lossSum += loss[0] * n;
      correct += hits[0];
    } finally {
      lossT.dispose();
      hitsT.dispose();
    }
  }
  return { lossSum, correct };
}

/**
 * Data-parallel replicas each evaluate a contiguous share of the split and sum in float64, so every
 * replica reports the same metrics; one replica evaluates it all, exactly as a single process does.
 */
export async function evaluate(
  model: Model,
  split: Split,
  inputShape: Dataset['inputShape'],
  batchSize: number,
  replicas: ReplicaGroup = SINGLE_REPLICA,
): Promise<SplitMetrics> {
  const share = (rank: number) => Math.floor((split.count * rank) / replicas.worldSize);
  const own = await evaluateRange(model, split, inputShape, batchSize, share(replicas.rank), share(replicas.rank + 1));
  const [lossSum, correct] = await replicas.allreduceSum(Float64Array.of(own.lossSum, own.correct));
  return { loss: lossSum / Math.max(split.count, 1), accuracy: split.count ? correct / split.count : 0 };
}
