/**
 * Split sizes of the datasets, so that a suite whose batch exceeds the training set (or whose
 * trainSize / testSize exceed a split) is rejected when it is validated, not when its run starts.
 * Validation must not read (possibly absent, 30 MB) dataset files, so these are the datasets'
 * published standard splits and the synthetic set's defaults; the loaders in src/data verify the
 * real counts when a run reads the files.
 */
import type { Static } from '@sinclair/typebox';
import type { DatasetConfigSchema } from '../config/trainConfig.js';

export type DatasetConfig = Static<typeof DatasetConfigSchema>;

export const SPLIT_SIZES: Readonly<Record<string, { train: number; test: number }>> = {
  'fashion-mnist': { train: 60_000, test: 10_000 },
  mnist: { train: 60_000, test: 10_000 },
  cifar10: { train: 50_000, test: 10_000 },
  synthetic: { train: 2048, test: 512 },
};

/** The examples a run trains on (`trainSize` takes a subset), and where that number comes from. */
export function trainExamples(dataset: DatasetConfig): { count: number; source: string } | undefined {
  if (dataset.trainSize !== undefined) return { count: dataset.trainSize, source: 'dataset.trainSize' };
  const sizes = SPLIT_SIZES[dataset.name];
  const held = dataset.validationSize ?? 0;
  if (!sizes || held >= sizes.train) return undefined; // the validationSize check reports that
  return held > 0
    ? { count: sizes.train - held, source: `the ${dataset.name} training split less the ${held} validation examples` }
    : { count: sizes.train, source: `the ${dataset.name} training split` };
}
