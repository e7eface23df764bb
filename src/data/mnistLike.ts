/**
 * MNIST and Fashion-MNIST: four IDX files (gzip or raw), 28x28 grayscale, 10 classes. Pixels are scaled
 * to [0,1] and (unless pixelScaling is 'unit-interval') standardized with one scalar mean/std from the
 * TRAIN split; the test split reuses those statistics, since computing its own would leak test
 * information into preprocessing.
 */
import { inFile, readDataFile, type FileContext } from './dataFile.js';
import type { Dataset, PixelScaling, Split } from './dataset.js';
import { FormatProblem } from './datasetError.js';
import { parseIdx, type IdxArray } from './idx.js';
import { findDataFile } from './locate.js';
import { addToHistogram, mapBytes, scalingTable, statsFromHistogram } from './normalize.js';
import { howToRepair } from './sources.js';

export type MnistLikeName = 'fashion-mnist' | 'mnist';

export const MNIST_SIDE = 28;
export const MNIST_CLASSES = 10;

/** Published base names; each may also carry a .gz suffix. */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Raw (still uint8) images and labels of one split. */
interface RawSplit {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export async function loadMnistLike(name: MnistLikeName, dir: string, scaling: PixelScaling = 'standardize'): Promise<Dataset> {
  const ctx: FileContext = { dataset: name, remedy: howToRepair(name, dir) };
  // Sequential, so with several bad files the one reported is always the first in this order.
  const train = await readRawSplit(name, dir, MNIST_FILES.trainImages, MNIST_FILES.trainLabels, ctx);
  const test = await readRawSplit(name, dir, MNIST_FILES.testImages, MNIST_FILES.testLabels, ctx);
  const hist = new Float64Array(256);
  addToHistogram(hist, train.pixels);
  const table = scalingTable(scaling, statsFromHistogram(hist));
  return {
    name,
    inputShape: [MNIST_SIDE, MNIST_SIDE, 1],
    numClasses: MNIST_CLASSES,
    train: scaleSplit(train, table),
    test: scaleSplit(test, table),
    source: dir,
  };
}

async function readRawSplit(name: MnistLikeName, dir: string, imagesBase: string, labelsBase: string, ctx: FileContext): Promise<RawSplit> {
  const imagesFile = findDataFile(name, dir, [`${imagesBase}.gz`, imagesBase]);
  const labelsFile = findDataFile(name, dir, [`${labelsBase}.gz`, labelsBase]);
  const imageBytes = await readDataFile(imagesFile, ctx);
  const images = inFile(imagesFile, ctx, () => checkImageSize(parseIdx(imageBytes, { kind: 'images' })));
  const labelBytes = await readDataFile(labelsFile, ctx);
  const labels = inFile(labelsFile, ctx, () => parseIdx(labelBytes, { kind: 'labels', numClasses: MNIST_CLASSES }));
  inFile(labelsFile, ctx, () => {
    if (labels.dims[0] !== images.dims[0]) {
      throw new FormatProblem(`holds ${labels.dims[0]} labels but ${imagesFile} holds ${images.dims[0]} images`);
    }
  });
  return { pixels: images.data, labels: labels.data, count: images.dims[0] };
}

function checkImageSize(images: IdxArray): IdxArray {
  const [, rows, cols] = images.dims;
  if (rows !== MNIST_SIDE || cols !== MNIST_SIDE) {
    throw new FormatProblem(`images are ${rows}x${cols}, expected ${MNIST_SIDE}x${MNIST_SIDE}`);
  }
  return images;
}

function scaleSplit(raw: RawSplit, table: Float32Array): Split {
  const images = new Float32Array(raw.pixels.length);
  mapBytes(raw.pixels, table, images);
  return { images, labels: Int32Array.from(raw.labels), count: raw.count };
}
