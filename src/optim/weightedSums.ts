/**
 * Running weighted sums of tensors by key, as gradient accumulation needs them: micro-batch c of n of
 * the batch's N rows contributes (n/N) x_c to each sum, so the sums equal the whole batch's means.
 */
import { tf, type Tensor } from '../tf.js';

/** sums[key] += weight * value (the first value starts the sum); disposes the replaced sum, never `value`. */
export function addWeighted<K>(sums: Map<K, Tensor>, key: K, value: Tensor, weight: number): void {
  const sum = sums.get(key);
  sums.set(
    key,
    tf.tidy(() => (sum ? tf.add(sum, tf.mul(value, weight)) : tf.mul(value, weight))),
  );
  sum?.dispose();
}
