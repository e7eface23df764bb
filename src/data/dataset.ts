/** The in-memory dataset shape shared by every loader and by the trainer. */

export type DatasetName = 'fashion-mnist' | 'mnist' | 'cifar10' | 'synthetic';

export const DATASET_NAMES: readonly DatasetName[] = ['fashion-mnist', 'mnist', 'cifar10', 'synthetic'];

/** Height, width, channels of one example. */
export type InputShape = [number, number, number];

export interface Split {
  /** `count` examples, NHWC, already normalized (with the train split's statistics). */
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
