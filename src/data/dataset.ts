/** The in-memory dataset shape shared by every loader and by the trainer. */

export type DatasetName = 'fashion-mnist' | 'mnist' | 'cifar10' | 'synthetic';

export const DATASET_NAMES: readonly DatasetName[] = ['fashion-mnist', 'mnist', 'cifar10', 'synthetic'];

/**
 * How pixel bytes become inputs: 'standardize' subtracts the train split's mean and divides by its std
 * (per channel for colour images); 'unit-interval' is byte / 255, as DeepOBS's loaders do.
 */
export type PixelScaling = 'standardize' | 'unit-interval';

/** Height, width, channels of one example. */
export type InputShape = [number, number, number];

export interface Split {
  /** `count` examples, NHWC, already scaled (standardized with the train split's statistics, or to [0, 1]). */
  images: Float32Array;
  /** Class index per example, in 0..numClasses-1. */
  labels: Int32Array;
  count: number;
}

export interface Dataset {
  name: DatasetName;
  /** H, W, C. */
  inputShape: InputShape;
  numClasses: number;
  train: Split;
  test: Split;
  /** Held out of the training file (see holdOut in batches.ts); never trained on. */
  validation?: Split;
  /** Directory the files were read from, or 'synthetic(seed=..)'. */
  source: string;
}

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/** Values per example: H * W * C. */
export function rowSize(shape: InputShape): number {
  return shape[0] * shape[1] * shape[2];
}
