/**
 * CIFAR-10, binary version: data_batch_1..5.bin (train) and test_batch.bin, each 10000 records of
 * 1 label byte + 3072 pixel bytes stored channel-planar (1024 R, 1024 G, 1024 B, row-major 32x32).
 * Converted to NHWC floats, standardized per channel with TRAIN statistics (the test split reuses them).
 */
import { inFile, readDataFile, type FileContext } from './dataFile.js';
import type { Dataset, PixelScaling, Split } from './dataset.js';
import { FormatProblem } from './datasetError.js';
import { findDataFile } from './locate.js';
import { addToHistogram, scalingTable, statsFromHistogram } from './normalize.js';
import { howToRepair } from './sources.js';

export const CIFAR_SIDE = 32;
export const CIFAR_CHANNELS = 3;
export const CIFAR_CLASSES = 10;
const PLANE = CIFAR_SIDE * CIFAR_SIDE;
/** One label byte followed by the three colour planes. */
export const CIFAR_RECORD_BYTES = 1 + CIFAR_CHANNELS * PLANE;
export const CIFAR_RECORDS_PER_FILE = 10000;
export const CIFAR_TRAIN_FILES = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
] as const;
export const CIFAR_TEST_FILE = 'test_batch.bin';
/** The folder the official archive extracts to; accepted inside the data directory. */
export const CIFAR_ARCHIVE_FOLDER = 'cifar-10-batches-bin';

/**
 * Loads CIFAR-10 from `dir` (or `dir/cifar-10-batches-bin/`). `recordsPerFile` is the required record
 * count per file: always 10000 for real data; tests lower it to build small but otherwise valid files.
 */
export async function loadCifar10(
  dir: string,
  recordsPerFile = CIFAR_RECORDS_PER_FILE,
  scaling: PixelScaling = 'standardize',
): Promise<Dataset> {
  const ctx: FileContext = { dataset: 'cifar10', remedy: howToRepair('cifar10', dir) };
  const locate = (file: string) => findDataFile('cifar10', dir, [file, `${CIFAR_ARCHIVE_FOLDER}/${file}`]);
  const trainPaths = CIFAR_TRAIN_FILES.map(locate);
  const testPath = locate(CIFAR_TEST_FILE);
  // One file at a time, in a fixed order, so the first bad file reported is always the same one.
  const readAll = async (files: readonly string[]) => {
    const batches: Uint8Array[] = [];
    for (const file of files) {
      const bytes = await readDataFile(file, ctx);
      batches.push(inFile(file, ctx, () => checkCifarBatch(bytes, recordsPerFile)));
    }
    return batches;
  };
  const train = await readAll(trainPaths);
  const test = await readAll([testPath]);
  const tables = channelTables(train, scaling);
  return {
    name: 'cifar10',
    inputShape: [CIFAR_SIDE, CIFAR_SIDE, CIFAR_CHANNELS],
    numClasses: CIFAR_CLASSES,
    train: toSplit(train, tables),
    test: toSplit(test, tables),
    source: dir,
  };
}

/** Validates one batch file's length and labels; returns it unchanged. */
export function checkCifarBatch(bytes: Uint8Array, recordsPerFile = CIFAR_RECORDS_PER_FILE): Uint8Array {
  const expected = recordsPerFile * CIFAR_RECORD_BYTES;
  if (bytes.length !== expected) {
    throw new FormatProblem(`${bytes.length} bytes, expected ${expected} (${recordsPerFile} records of ${CIFAR_RECORD_BYTES} bytes)`);
  }
  for (let r = 0; r < recordsPerFile; r++) {
    const label = bytes[r * CIFAR_RECORD_BYTES];
    if (label >= CIFAR_CLASSES) {
      throw new FormatProblem(`label ${label} of record ${r} is out of range (expected 0..${CIFAR_CLASSES - 1})`);
    }
  }
  return bytes;
}

function recordCount(batches: readonly Uint8Array[]): number {
  return batches.reduce((n, b) => n + b.length / CIFAR_RECORD_BYTES, 0);
}

/** One lookup table per colour channel, standardizing with the train batches' histograms (or to [0, 1]). */
function channelTables(train: readonly Uint8Array[], scaling: PixelScaling): Float32Array[] {
  const hists = Array.from({ length: CIFAR_CHANNELS }, () => new Float64Array(256));
  for (const batch of train) {
    for (let start = 0; start < batch.length; start += CIFAR_RECORD_BYTES) {
      for (let c = 0; c < CIFAR_CHANNELS; c++) {
        const plane = start + 1 + c * PLANE;
        addToHistogram(hists[c], batch.subarray(plane, plane + PLANE));
      }
    }
  }
  return hists.map((h) => scalingTable(scaling, statsFromHistogram(h)));
}

/** Planar CHW records to normalized NHWC images plus labels. */
function toSplit(batches: readonly Uint8Array[], tables: readonly Float32Array[]): Split {
  const count = recordCount(batches);
  const images = new Float32Array(count * PLANE * CIFAR_CHANNELS);
  const labels = new Int32Array(count);
  let n = 0;
  for (const batch of batches) {
    for (let start = 0; start < batch.length; start += CIFAR_RECORD_BYTES, n++) {
      labels[n] = batch[start];
      const outBase = n * PLANE * CIFAR_CHANNELS;
      for (let c = 0; c < CIFAR_CHANNELS; c++) {
        const table = tables[c];
        const plane = start + 1 + c * PLANE;
        for (let p = 0; p < PLANE; p++) images[outBase + p * CIFAR_CHANNELS + c] = table[batch[plane + p]];
      }
    }
  }
  return { images, labels, count };
}
