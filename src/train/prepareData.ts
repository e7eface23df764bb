/** The dataset a config asks for, cut to --train-size / --test-size by the seeded shuffle. */
import type { TrainConfig } from '../config/trainConfig.js';
import { loadDataset, subsetByShuffle, type Dataset } from '../data/index.js';
import { deriveSeed } from '../util/rng.js';

export async function prepareData(config: TrainConfig): Promise<Dataset> {
  const full = await loadDataset(config.dataset.name, { dataDir: config.dataset.dataDir, seed: config.seed });
  const { trainSize, testSize } = config.dataset;
  return {
    ...full,
    train: subsetByShuffle(full.train, trainSize, deriveSeed(config.seed, 'train-subset'), full.inputShape),
    test: subsetByShuffle(full.test, testSize, deriveSeed(config.seed, 'test-subset'), full.inputShape),
  };
}
