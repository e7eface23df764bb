/** Seeded subsets and mini-batches over a Split, as plain typed arrays (the trainer makes tensors). */
import { deriveSeed, shuffledIndices } from '../util/rng.js';
import { rowSize, type InputShape, type Split } from './dataset.js';
import { DatasetError } from './datasetError.js';

/**
 * The first `n` examples of the seeded shuffle of `split` (for --train-size / --test-size). Returns
 * `split` itself, untouched, when `n` is undefined or equals its count, so "all" never reorders data.
 * Only the given split is read; callers subset train and test independently, each with its own seed.
 */
export function subsetByShuffle(split: Split, n: number | undefined, seed: number, shape: InputShape): Split {
  if (n === undefined || n === split.count) return split;
  if (!Number.isInteger(n) || n < 1 || n > split.count) {
    throw new DatasetError({
      problem: `cannot take a subset of ${n} examples from a split of ${split.count}`,
      remedy: `use a size between 1 and ${split.count} (--train-size / --test-size)`,
    });
  }
  const { x, y } = gatherBatch(split, shuffledIndices(split.count, seed).subarray(0, n), shape);
  return { images: x, labels: y, count: n };
}

/**
 * Splits `n` examples off `split` by a seeded shuffle: `heldOut` (in shuffle order) and `rest` (in file
 * order), disjoint and together the whole split. Used for the validation split, whose seed is fixed so
 * every run of a study holds out the same examples.
 */
export function holdOut(split: Split, n: number, seed: number, shape: InputShape): { heldOut: Split; rest: Split } {
  if (!Number.isInteger(n) || n < 1 || n >= split.count) {
    throw new DatasetError({
      problem: `cannot hold out ${n} of the ${split.count} training examples as a validation split`,
      remedy: `use a validation size between 1 and ${split.count - 1} (--validation-size)`,
    });
  }
  const order = shuffledIndices(split.count, seed);
  const held = order.slice(0, n);
  const kept = order.slice(n).sort();
  const a = gatherBatch(split, held, shape);
  const b = gatherBatch(split, kept, shape);
  return { heldOut: { images: a.x, labels: a.y, count: n }, rest: { images: b.x, labels: b.y, count: split.count - n } };
}

/**
 * Index arrays of one epoch: a fresh permutation seeded by (seed, epoch), cut into batches of exactly
 * `batchSize`. The last incomplete batch is dropped on purpose: the global batch size is the object of
 * study, so every step must use the same one (a small tail batch would also skew curvature estimates).
 */
export function* epochBatches(count: number, batchSize: number, seed: number, epoch: number): Generator<Int32Array> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  const order = shuffledIndices(count, deriveSeed(seed, 'epoch', epoch));
  for (let start = 0; start + batchSize <= count; start += batchSize) {
    yield order.slice(start, start + batchSize);
  }
}

/** Number of full batches epochBatches yields. */
export function batchesPerEpoch(count: number, batchSize: number): number {
  return Math.floor(count / batchSize);
}

/** Copies the rows at `indices` into a contiguous batch (x: NHWC flattened, y: labels). */
export function gatherBatch(split: Split, indices: Int32Array, inputShape: InputShape): { x: Float32Array; y: Int32Array } {
  const row = rowSize(inputShape);
  const x = new Float32Array(indices.length * row);
  const y = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < split.count)) throw new RangeError(`example index ${i} is outside 0..${split.count - 1}`);
    x.set(split.images.subarray(i * row, (i + 1) * row), k * row);
    y[k] = split.labels[i];
  }
  return { x, y };
}
