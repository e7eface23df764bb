/** Public API of the dataset layer. */
export { DATASET_NAMES, isDatasetName, rowSize, type Dataset, type DatasetName, type InputShape, type Split } from './dataset.js';
export { DatasetError, type DatasetErrorParts } from './datasetError.js';
export { loadDataset, type LoadDatasetOptions } from './loadDataset.js';
export { batchesPerEpoch, epochBatches, gatherBatch, holdOut, subsetByShuffle } from './batches.js';
export { makeSyntheticDataset, SYNTHETIC_DEFAULTS, type SyntheticOptions } from './synthetic.js';
export { loadMnistLike, MNIST_FILES, type MnistLikeName } from './mnistLike.js';
export { loadCifar10, CIFAR_RECORDS_PER_FILE, CIFAR_TEST_FILE, CIFAR_TRAIN_FILES } from './cifar10.js';
export { locateDataDir, type LocateOptions } from './locate.js';
export { DATASET_SOURCES, GENERIC_DATA_DIR_ENV, type FileDatasetName } from './sources.js';
export { parseIdx, type IdxArray, type IdxExpectation } from './idx.js';
