/**
 * The dataset a config asks for: the validation split held out of the training file first (a fixed
 * seeded shuffle, the same for every run seed, so a study's runs are all selected on the same examples),
 * then --train-size / --test-size subsets by the run's seeded shuffle.
 */
import type { TrainConfig } from '../config/trainConfig.js';
import { holdOut, loadDataset, subsetByShuffle, type Dataset, type Split } from '../data/index.js';
import { deriveSeed } from '../util/rng.js';
import type { EvaluationSplits } from './runTraining.js';

/** Seed of the validation hold-out: not the run's seed, so that seeds differ only in training. */
export const VALIDATION_SPLIT_SEED = deriveSeed(0, 'validation-split');

export async function prepareData(config: TrainConfig): Promise<Dataset> {
  const { name, dataDir, pixelScaling } = config.dataset;
  const full = await loadDataset(name, { dataDir, seed: config.seed, ...(pixelScaling !== undefined ? { pixelScaling } : {}) });
  const { trainSize, testSize, validationSize } = config.dataset;
  let trainFile = full.train;
  let validation: Split | undefined;
  if (validationSize !== undefined) {
    const split = holdOut(full.train, validationSize, VALIDATION_SPLIT_SEED, full.inputShape);
    trainFile = split.rest;
    validation = split.heldOut;
  }
  return {
    ...full,
    train: subsetByShuffle(trainFile, trainSize, deriveSeed(config.seed, 'train-subset'), full.inputShape),
    test: subsetByShuffle(full.test, testSize, deriveSeed(config.seed, 'test-subset'), full.inputShape),
    ...(validation ? { validation } : {}),
  };
}

/** What the run is evaluated on: train metrics on a seeded train_eval subset when trainEvalSize asks for one. */
export function evaluationSplits(config: TrainConfig, dataset: Dataset): EvaluationSplits {
  const size = config.dataset.trainEvalSize;
  const train =
    size === undefined || size >= dataset.train.count
      ? dataset.train
      : subsetByShuffle(dataset.train, size, deriveSeed(config.seed, 'train-eval'), dataset.inputShape);
  return { train, test: dataset.test, ...(dataset.validation ? { validation: dataset.validation } : {}) };
}
