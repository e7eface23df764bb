/** Dataset layer: IDX/CIFAR parsing and validation, locating files, normalization, synthetic data, batching. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  DatasetError,
  epochBatches,
  gatherBatch,
  loadCifar10,
  loadDataset,
  loadMnistLike,
  locateDataDir,
  makeSyntheticDataset,
  parseIdx,
  subsetByShuffle,
  type Dataset,
  type Split,
} from '../../src/data/index.js';
import { FormatProblem } from '../../src/data/datasetError.js';
import { howToRepair } from '../../src/data/sources.js';
import { shuffledIndices } from '../../src/util/rng.js';
import {
  cifarBatch,
  fakeBytes,
  idxBytes,
  mnistSplit,
  writeCifarDir,
  writeMnistDir,
  CIFAR_RECORD,
} from '../fixtures/data/writeDatasetFiles.js';

const REAL_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
const NO_ENV = {};

const scratch = mkdtempSync(join(tmpdir(), 'ngd-bench-data-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirCounter = 0;
function freshDir(label: string): string {
  const dir = join(scratch, `${label}-${dirCounter++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Runs `work`, expecting a DatasetError whose one-line message contains every `fragments` entry. */
async function expectDatasetError(work: () => unknown, ...fragments: string[]): Promise<DatasetError> {
  let caught: unknown;
  try {
    await work();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DatasetError, `expected a DatasetError, got ${String(caught)}`);
  assert.ok(!/[\r\n]/.test(caught.message), `message must be one line: ${caught.message}`);
  assert.ok(caught.message.includes('; '), `message must carry a remedy: ${caught.message}`);
  for (const f of fragments) assert.ok(caught.message.includes(f), `message lacks '${f}': ${caught.message}`);
  return caught;
}

function meanStd(values: Float32Array | Uint8Array, scale = 1): { mean: number; std: number } {
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] * scale;
    sum += v;
    sq += v * v;
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(Math.max(sq / values.length - mean * mean, 0)) };
}

function assertClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} not within ${tol} of ${expected}`);
}

describe('IDX reader', () => {
  const labels = new Uint8Array([0, 3, 9, 1]);
  const images = fakeBytes(4 * 2 * 3, 1);

  it('reads raw and gzip-compressed files identically', () => {
    const raw = parseIdx(idxBytes([4, 2, 3], images), { kind: 'images' });
    const gz = parseIdx(gzipSync(idxBytes([4, 2, 3], images)), { kind: 'images' });
    assert.deepEqual(raw.dims, [4, 2, 3]);
    assert.deepEqual(raw.data, images);
    assert.deepEqual(gz.dims, raw.dims);
    assert.deepEqual(gz.data, raw.data);
    assert.deepEqual(parseIdx(idxBytes([4], labels), { kind: 'labels', numClasses: 10 }).data, labels);
  });

  const cases: [string, () => Uint8Array, string, 'images' | 'labels'][] = [
    ['bad magic', () => new Uint8Array(16), 'bad magic number 0x00000000 (expected 0x00000803 for IDX uint8 images)', 'images'],
    ['labels read as images', () => idxBytes([4], labels), 'bad magic number 0x00000801 (expected 0x00000803', 'images'],
    ['too short for a header', () => idxBytes([4, 2, 3], images).subarray(0, 10), 'truncated header', 'images'],
    ['truncated data', () => idxBytes([4, 2, 3], images).subarray(0, 30), 'truncated: 30 bytes, expected 40', 'images'],
    ['trailing bytes', () => new Uint8Array([...idxBytes([4], labels), 0, 0]), '2 trailing bytes', 'labels'],
    ['declared count larger than data', () => idxBytes([5], labels), 'truncated', 'labels'],
    [
      'label out of range',
      () => idxBytes([4], new Uint8Array([0, 1, 10, 2])),
      'label 10 at index 2 is out of range (expected 0..9)',
      'labels',
    ],
    ['zero dimension', () => idxBytes([0, 2, 3], new Uint8Array(0)), 'include a zero', 'images'],
    ['corrupt gzip', () => gzipSync(idxBytes([4], labels)).subarray(0, 12), 'corrupt gzip stream', 'labels'],
  ];
  for (const [what, bytes, fragment, kind] of cases) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => parseIdx(bytes(), { kind, numClasses: kind === 'labels' ? 10 : undefined }),
        (e: unknown) => e instanceof FormatProblem && e.message.includes(fragment),
      );
    });
  }
});

describe('MNIST-like loader', () => {
  const train = mnistSplit(30, 11);
  const test = mnistSplit(12, 22);

  for (const gzip of [true, false]) {
    it(`loads ${gzip ? 'gzipped' : 'raw'} files and standardizes both splits with the train statistics`, async () => {
      const dir = freshDir('mnist');
      writeMnistDir(dir, train, test, { gzip });
      const ds = await loadMnistLike('mnist', dir);
      assert.equal(ds.name, 'mnist');
      assert.deepEqual(ds.inputShape, [28, 28, 1]);
      assert.equal(ds.numClasses, 10);
      assert.equal(ds.source, dir);
      assert.equal(ds.train.count, 30);
      assert.equal(ds.test.count, 12);
      assert.deepEqual(ds.train.labels, Int32Array.from(train.labels));
      assert.deepEqual(ds.test.labels, Int32Array.from(test.labels));
      assert.equal(ds.train.images.length, 30 * 784);
      assert.equal(ds.test.images.length, 12 * 784);

      const stats = meanStd(train.pixels, 1 / 255);
      const trainNorm = meanStd(ds.train.images);
      assertClose(trainNorm.mean, 0, 1e-5, 'train mean');
      assertClose(trainNorm.std, 1, 1e-5, 'train std');
      // The test split must use the train mean/std, not its own.
      for (const i of [0, 100, 5000, test.pixels.length - 1]) {
        assertClose(ds.test.images[i], (test.pixels[i] / 255 - stats.mean) / stats.std, 1e-5, `test pixel ${i}`);
      }
    });
  }

  it("pixelScaling 'unit-interval' is byte / 255 in both splits, no statistics (DeepOBS's loaders)", async () => {
    const dir = freshDir('mnist-unit');
    writeMnistDir(dir, train, test, { gzip: true });
    const ds = await loadMnistLike('mnist', dir, 'unit-interval');
    for (const [split, raw] of [
      [ds.train, train],
      [ds.test, test],
    ] as const) {
      for (let i = 0; i < raw.pixels.length; i++) {
        if (split.images[i] !== Math.fround(raw.pixels[i] / 255)) assert.fail(`pixel ${i}: ${split.images[i]} != ${raw.pixels[i]} / 255`);
      }
    }
    assert.deepEqual((await loadMnistLike('mnist', dir, 'standardize')).train.images, (await loadMnistLike('mnist', dir)).train.images);
  });

  type Corruption = [what: string, file: string, mutate: (path: string) => void, fragment: string];
  const corruptions: Corruption[] = [
    ['bad magic', 'train-images-idx3-ubyte', (p) => overwrite(p, 0, [0, 0, 0, 0]), 'bad magic number 0x00000000'],
    ['truncated images', 't10k-images-idx3-ubyte', (p) => writeFileSync(p, readFileSync(p).subarray(0, 100)), 'truncated'],
    [
      'trailing bytes',
      'train-labels-idx1-ubyte',
      (p) => writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.from([1])])),
      '1 trailing bytes',
    ],
    ['label out of range', 't10k-labels-idx1-ubyte', (p) => overwrite(p, 8 + 3, [42]), 'label 42 at index 3'],
    [
      'count mismatch',
      'train-labels-idx1-ubyte',
      (p) => writeFileSync(p, idxBytes([29], train.labels.subarray(0, 29))),
      'holds 29 labels but',
    ],
    [
      'wrong image size',
      't10k-images-idx3-ubyte',
      (p) => writeFileSync(p, idxBytes([12, 14, 56], test.pixels)),
      'images are 14x56, expected 28x28',
    ],
  ];
  for (const [what, file, mutate, fragment] of corruptions) {
    it(`names the file on ${what}`, async () => {
      const dir = freshDir('mnist-bad');
      writeMnistDir(dir, train, test);
      mutate(join(dir, file));
      await expectDatasetError(() => loadMnistLike('mnist', dir), 'mnist: ', join(dir, file), fragment);
    });
  }

  it('names a missing file and the spellings it accepts', async () => {
    const dir = freshDir('mnist-missing');
    writeMnistDir(dir, train, test, { gzip: true });
    unlinkSync(join(dir, 't10k-labels-idx1-ubyte.gz'));
    await expectDatasetError(
      () => loadMnistLike('mnist', dir),
      join(dir, 't10k-labels-idx1-ubyte.gz'),
      'file not found',
      't10k-labels-idx1-ubyte)',
    );
  });

  it('suggests reinstalling the Debian package for a bad file in the Debian directory', async () => {
    const dir = freshDir('fmnist-bad');
    writeMnistDir(dir, train, test, { gzip: true });
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(new Uint8Array(16)));
    const err = await expectDatasetError(() => loadMnistLike('fashion-mnist', dir), 'fashion-mnist: ', 'bad magic number');
    assert.ok(err.message.includes('restore it from'), err.message);
    // Same problem in the package's own directory: the message is exactly the documented form.
    assert.equal(
      howToRepair('fashion-mnist', `${REAL_FASHION_MNIST}/`),
      'reinstall with: apt-get install --reinstall dataset-fashion-mnist',
    );
  });
});

function overwrite(path: string, offset: number, bytes: number[]): void {
  const data = readFileSync(path);
  data.set(bytes, offset);
  writeFileSync(path, data);
}

describe('CIFAR-10 loader', () => {
  const RECORDS = 3;
  /** A few test pixels: the byte in the planar CHW record, its channel, and its index in the loaded NHWC split. */
  const cifarTestPixels = (testFile: Uint8Array) =>
    [
      [0, 0, 0, 0],
      [1, 5, 7, 2],
      [2, 31, 31, 1],
    ].map(([n, y, x, c]) => ({
      raw: testFile[n * CIFAR_RECORD + 1 + c * 1024 + y * 32 + x],
      c,
      at: ((n * 32 + y) * 32 + x) * 3 + c,
      name: `test pixel ${[n, y, x, c]}`,
    }));

  it('converts planar CHW records to NHWC, standardized per channel with train statistics', async () => {
    const dir = freshDir('cifar');
    const files = writeCifarDir(dir, RECORDS);
    const ds = await loadCifar10(dir, RECORDS);
    assert.deepEqual(ds.inputShape, [32, 32, 3]);
    assert.equal(ds.numClasses, 10);
    assert.equal(ds.train.count, 5 * RECORDS);
    assert.equal(ds.test.count, RECORDS);
    assert.equal(ds.train.images.length, 5 * RECORDS * 3072);

    // Independent reference: per-channel mean/std of pixel/255 over all train records.
    const trainFiles = [1, 2, 3, 4, 5].map((i) => files.get(`data_batch_${i}.bin`)!);
    const channelStats = [0, 1, 2].map((c) => {
      const values: number[] = [];
      for (const f of trainFiles) {
        for (let r = 0; r < RECORDS; r++)
          values.push(...f.subarray(r * CIFAR_RECORD + 1 + c * 1024, r * CIFAR_RECORD + 1 + (c + 1) * 1024));
      }
      return meanStd(Uint8Array.from(values), 1 / 255);
    });
    const testFile = files.get('test_batch.bin')!;
    for (const { raw, c, at, name } of cifarTestPixels(testFile)) {
      assertClose(ds.test.images[at], (raw / 255 - channelStats[c].mean) / channelStats[c].std, 1e-5, name);
    }
    assert.deepEqual(
      Array.from(ds.test.labels),
      [0, 1, 2].map((r) => testFile[r * CIFAR_RECORD]),
    );
    assert.equal(ds.train.labels[RECORDS], files.get('data_batch_2.bin')![0]);
    for (let c = 0; c < 3; c++) {
      const channel = ds.train.images.filter((_, i) => i % 3 === c);
      assertClose(meanStd(channel).mean, 0, 1e-5, `channel ${c} mean`);
      assertClose(meanStd(channel).std, 1, 1e-4, `channel ${c} std`);
    }
  });

  it("pixelScaling 'unit-interval' is byte / 255 per channel, in NHWC", async () => {
    const dir = freshDir('cifar-unit');
    const files = writeCifarDir(dir, RECORDS);
    const ds = await loadCifar10(dir, RECORDS, 'unit-interval');
    for (const { raw, at, name } of cifarTestPixels(files.get('test_batch.bin')!))
      assert.equal(ds.test.images[at], Math.fround(raw / 255), name);
  });

  it('accepts the files inside a cifar-10-batches-bin/ subfolder', async () => {
    const dir = freshDir('cifar-nested');
    writeCifarDir(join(dir, 'cifar-10-batches-bin'), RECORDS);
    const ds = await loadCifar10(dir, RECORDS);
    assert.equal(ds.train.count, 5 * RECORDS);
  });

  it('requires exactly 10000 records per file by default', async () => {
    const dir = freshDir('cifar-short');
    writeCifarDir(dir, RECORDS);
    await expectDatasetError(
      () => loadCifar10(dir),
      'cifar10: ',
      join(dir, 'data_batch_1.bin'),
      `${RECORDS * 3073} bytes, expected 30730000 (10000 records of 3073 bytes)`,
    );
  });

  it('rejects a truncated batch and a label >= 10, naming the file', async () => {
    const dir = freshDir('cifar-bad');
    writeCifarDir(dir, RECORDS);
    writeFileSync(join(dir, 'data_batch_3.bin'), cifarBatch(RECORDS, 1).subarray(0, RECORDS * CIFAR_RECORD - 1));
    await expectDatasetError(() => loadCifar10(dir, RECORDS), join(dir, 'data_batch_3.bin'), 'expected 9219');
    writeFileSync(join(dir, 'data_batch_3.bin'), cifarBatch(RECORDS, 1));
    overwrite(join(dir, 'test_batch.bin'), 2 * CIFAR_RECORD, [10]);
    await expectDatasetError(() => loadCifar10(dir, RECORDS), join(dir, 'test_batch.bin'), 'label 10 of record 2 is out of range');
  });

  it('names a missing batch file', async () => {
    const dir = freshDir('cifar-missing');
    writeCifarDir(dir, RECORDS);
    unlinkSync(join(dir, 'data_batch_4.bin'));
    await expectDatasetError(() => loadCifar10(dir, RECORDS), join(dir, 'data_batch_4.bin'), 'file not found');
  });
});

describe('locating data directories', () => {
  it('prefers --data-dir, then the dataset env var, then NGD_BENCH_DATA_DIR/<name>, then the Debian default', () => {
    const explicit = freshDir('explicit');
    const specific = freshDir('specific');
    const generic = freshDir('generic');
    mkdirSync(join(generic, 'mnist'));
    const debian = freshDir('debian');
    const env = { NGD_BENCH_MNIST_DIR: specific, NGD_BENCH_DATA_DIR: generic };
    assert.equal(locateDataDir('mnist', { dataDir: explicit, env, defaultDir: debian }), explicit);
    assert.equal(locateDataDir('mnist', { env, defaultDir: debian }), specific);
    assert.equal(locateDataDir('mnist', { env: { NGD_BENCH_DATA_DIR: generic }, defaultDir: debian }), join(generic, 'mnist'));
    // The generic dir without this dataset's subfolder falls through to the default.
    assert.equal(locateDataDir('cifar10', { env: { NGD_BENCH_DATA_DIR: generic }, defaultDir: debian }), debian);
    assert.equal(locateDataDir('mnist', { env: NO_ENV, defaultDir: debian }), debian);
  });

  it('treats a non-existent explicit directory as an error, not a fall-through', async () => {
    const missing = join(scratch, 'nope');
    await expectDatasetError(
      () => locateDataDir('mnist', { dataDir: missing, env: NO_ENV }),
      missing,
      'given by --data-dir does not exist',
    );
    await expectDatasetError(() => locateDataDir('cifar10', { env: { NGD_BENCH_CIFAR10_DIR: missing } }), missing, 'NGD_BENCH_CIFAR10_DIR');
  });

  it('says where it looked and how to get the data when nothing is found', async () => {
    await expectDatasetError(
      () => locateDataDir('fashion-mnist', { env: NO_ENV, defaultDir: join(scratch, 'absent') }),
      'fashion-mnist: no data directory found',
      'NGD_BENCH_FASHION_MNIST_DIR',
      'NGD_BENCH_DATA_DIR',
      join(scratch, 'absent'),
      'apt-get install dataset-fashion-mnist',
      '--data-dir',
    );
    await expectDatasetError(
      () => locateDataDir('mnist', { env: NO_ENV, defaultDir: null }),
      'mnist: ',
      'train-images-idx3-ubyte.gz',
      '--data-dir DIR',
      'NGD_BENCH_MNIST_DIR=DIR',
    );
    await expectDatasetError(
      () => loadDataset('cifar10', { seed: 1, env: NO_ENV }),
      'cifar10: ',
      'data_batch_1.bin',
      'NGD_BENCH_CIFAR10_DIR',
    );
  });

  it('loads a dataset found through the generic env var', async () => {
    const root = freshDir('root');
    writeMnistDir(join(root, 'mnist'), mnistSplit(4, 1), mnistSplit(2, 2));
    const ds = await loadDataset('mnist', { seed: 1, env: { NGD_BENCH_DATA_DIR: root } });
    assert.equal(ds.source, join(root, 'mnist'));
    assert.equal(ds.train.count, 4);
  });
});

describe('loadDataset', () => {
  it('suggests the nearest valid name for an unknown one', async () => {
    await expectDatasetError(
      () => loadDataset('fashon-mnist', { seed: 1 }),
      "unknown dataset 'fashon-mnist'",
      "did you mean 'fashion-mnist'?",
      'cifar10',
    );
    await expectDatasetError(() => loadDataset('CIFAR-10', { seed: 1 }), "did you mean 'cifar10'?");
    const err = await expectDatasetError(
      () => loadDataset('imagenet', { seed: 1 }),
      'valid names: fashion-mnist, mnist, cifar10, synthetic',
    );
    assert.ok(!err.message.includes('did you mean'));
  });

  it('refuses a pixel scaling for the synthetic dataset (it has no pixels)', async () => {
    await expectDatasetError(
      () => loadDataset('synthetic', { seed: 5, pixelScaling: 'unit-interval' }),
      "pixelScaling 'unit-interval' does not apply",
    );
  });

  it('builds the synthetic dataset from the run seed', async () => {
    const ds = await loadDataset('synthetic', { seed: 5, synthetic: { trainCount: 64, testCount: 16 } });
    assert.equal(ds.source, 'synthetic(seed=5)');
    assert.deepEqual(ds.train.images, makeSyntheticDataset({ seed: 5, trainCount: 64, testCount: 16 }).train.images);
  });

  it('loads the real Fashion-MNIST', async (t) => {
    try {
      locateDataDir('fashion-mnist', { dataDir: REAL_FASHION_MNIST, env: NO_ENV });
    } catch {
      t.skip(`${REAL_FASHION_MNIST} is absent (apt-get install dataset-fashion-mnist to run this test)`);
      return;
    }
    const start = performance.now();
    const ds = await loadDataset('fashion-mnist', { seed: 1, dataDir: REAL_FASHION_MNIST });
    const seconds = (performance.now() - start) / 1000;
    t.diagnostic(`loaded in ${seconds.toFixed(2)} s`);
    assert.ok(seconds < 10, `loading took ${seconds} s`);
    assert.equal(ds.name, 'fashion-mnist');
    assert.deepEqual(ds.inputShape, [28, 28, 1]);
    assert.equal(ds.train.count, 60000);
    assert.equal(ds.test.count, 10000);
    assert.equal(ds.train.images.length, 60000 * 784);
    assert.equal(ds.test.images.length, 10000 * 784);
    for (const split of [ds.train, ds.test]) {
      const seen = new Set(split.labels);
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
    }
    const train = meanStd(ds.train.images);
    assertClose(train.mean, 0, 1e-4, 'train mean');
    assertClose(train.std, 1, 1e-4, 'train std');
    // Test uses train statistics, so it is close to but not exactly standardized.
    const test = meanStd(ds.test.images);
    assertClose(test.mean, 0, 0.05, 'test mean');
    assertClose(test.std, 1, 0.05, 'test std');
  });
});

describe('synthetic dataset', () => {
  it('has the requested shape, balanced in-range labels, and unit-scale features', () => {
    const ds = makeSyntheticDataset({ seed: 1 });
    assert.deepEqual(ds.inputShape, [8, 8, 1]);
    assert.equal(ds.numClasses, 10);
    assert.equal(ds.train.count, 2048);
    assert.equal(ds.test.count, 512);
    assert.equal(ds.train.images.length, 2048 * 64);
    const counts = new Array(10).fill(0);
    for (const l of ds.train.labels) counts[l]++;
    assert.ok(
      counts.every((c) => c === 204 || c === 205),
      String(counts),
    );
    assert.ok(Math.abs(meanStd(ds.train.images).std - 1) < 0.2);
    const custom = makeSyntheticDataset({ seed: 1, trainCount: 10, testCount: 3, inputShape: [4, 4, 3], numClasses: 3 });
    assert.equal(custom.train.images.length, 10 * 48);
    assert.ok(custom.test.labels.every((l) => l >= 0 && l < 3));
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = makeSyntheticDataset({ seed: 7, trainCount: 200, testCount: 50 });
    const b = makeSyntheticDataset({ seed: 7, trainCount: 200, testCount: 50 });
    const c = makeSyntheticDataset({ seed: 8, trainCount: 200, testCount: 50 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.train.images, c.train.images);
    assert.notDeepEqual(a.train.labels, c.train.labels);
    assert.notDeepEqual(a.train.images.slice(0, a.test.images.length), a.test.images); // independent noise per split
  });

  it('is learnable but not trivial (nearest class mean: well above chance, below perfect)', (t) => {
    const ds = makeSyntheticDataset({ seed: 3 });
    const accuracy = nearestMeanAccuracy(ds);
    t.diagnostic(`nearest-mean test accuracy ${accuracy.toFixed(3)}`);
    assert.ok(accuracy > 0.6 && accuracy < 0.995, `nearest-mean test accuracy ${accuracy}`);
  });

  it('rejects invalid options', async () => {
    await expectDatasetError(() => makeSyntheticDataset({ seed: 1, trainCount: 0 }), 'trainCount must be a positive integer');
    await expectDatasetError(() => makeSyntheticDataset({ seed: 1, inputShape: [8, 0, 1] }), 'inputShape');
  });
});

function nearestMeanAccuracy(ds: Dataset): number {
  const dim = ds.inputShape[0] * ds.inputShape[1] * ds.inputShape[2];
  const means = new Float64Array(ds.numClasses * dim);
  const counts = new Float64Array(ds.numClasses);
  for (let i = 0; i < ds.train.count; i++) {
    counts[ds.train.labels[i]]++;
    for (let k = 0; k < dim; k++) means[ds.train.labels[i] * dim + k] += ds.train.images[i * dim + k];
  }
  for (let c = 0; c < ds.numClasses; c++) for (let k = 0; k < dim; k++) means[c * dim + k] /= counts[c];
  let correct = 0;
  for (let i = 0; i < ds.test.count; i++) {
    let best = -1;
    let bestDistance = Infinity;
    for (let c = 0; c < ds.numClasses; c++) {
      let d = 0;
      for (let k = 0; k < dim; k++) d += (ds.test.images[i * dim + k] - means[c * dim + k]) ** 2;
      if (d < bestDistance) [best, bestDistance] = [c, d];
    }
    if (best === ds.test.labels[i]) correct++;
  }
  return correct / ds.test.count;
}

describe('subsets and batches', () => {
  const shape: [number, number, number] = [2, 2, 1];
  /** Row i is filled with the value i, label i mod 10, so rows are traceable. */
  function tracedSplit(count: number): Split {
    const images = new Float32Array(count * 4);
    for (let i = 0; i < images.length; i++) images[i] = Math.floor(i / 4);
    return { images, labels: Int32Array.from({ length: count }, (_, i) => i % 10), count };
  }

  it('shuffles deterministically per seed', () => {
    assert.deepEqual(shuffledIndices(100, 1), shuffledIndices(100, 1));
    assert.notDeepEqual(shuffledIndices(100, 1), shuffledIndices(100, 2));
    assert.deepEqual(
      [...shuffledIndices(100, 1)].sort((a, b) => a - b),
      [...Array(100).keys()],
    );
  });

  it('subsetByShuffle takes the first N of the seeded shuffle, copying whole rows', () => {
    const split = tracedSplit(50);
    const sub = subsetByShuffle(split, 20, 9, shape);
    assert.equal(sub.count, 20);
    assert.equal(sub.images.length, 80);
    const expectedRows = shuffledIndices(50, 9).subarray(0, 20);
    for (let k = 0; k < 20; k++) {
      const row = expectedRows[k];
      assert.deepEqual(Array.from(sub.images.subarray(k * 4, k * 4 + 4)), [row, row, row, row]);
      assert.equal(sub.labels[k], row % 10);
    }
    assert.deepEqual(subsetByShuffle(split, 20, 9, shape), sub);
    assert.notDeepEqual(subsetByShuffle(split, 20, 10, shape).images, sub.images);
    assert.equal(subsetByShuffle(split, undefined, 9, shape), split);
    assert.equal(subsetByShuffle(split, 50, 9, shape), split);
  });

  it('subsetByShuffle rejects N larger than the split (or not a positive integer)', async () => {
    await expectDatasetError(() => subsetByShuffle(tracedSplit(50), 51, 1, shape), 'subset of 51 examples from a split of 50');
    await expectDatasetError(() => subsetByShuffle(tracedSplit(50), 0, 1, shape), 'subset of 0');
    await expectDatasetError(() => subsetByShuffle(tracedSplit(50), 2.5, 1, shape), 'subset of 2.5');
  });

  it('subsetting the train split never touches the test split (or the original train split)', () => {
    const ds = makeSyntheticDataset({ seed: 4, trainCount: 300, testCount: 100 });
    const testBefore = { images: ds.test.images.slice(), labels: ds.test.labels.slice() };
    const trainBefore = ds.train.images.slice();
    const cut: Dataset = { ...ds, train: subsetByShuffle(ds.train, 120, 1, ds.inputShape) };
    assert.equal(cut.test, ds.test);
    assert.deepEqual(cut.test.images, testBefore.images);
    assert.deepEqual(cut.test.labels, testBefore.labels);
    assert.deepEqual(ds.train.images, trainBefore);
    cut.train.images.fill(0);
    assert.deepEqual(ds.train.images, trainBefore);
  });

  it('epochBatches covers each index at most once per epoch, in full batches, reshuffled per epoch', () => {
    const count = 103;
    const batchSize = 10;
    const epochs = [1, 2, 3].map((epoch) => [...epochBatches(count, batchSize, 42, epoch)]);
    for (const batches of epochs) {
      assert.equal(batches.length, 10); // the 3 leftover examples are dropped
      assert.ok(batches.every((b) => b.length === batchSize));
      const seen = new Set<number>();
      for (const b of batches) {
        for (const i of b) {
          assert.ok(i >= 0 && i < count);
          assert.ok(!seen.has(i), `index ${i} repeated within an epoch`);
          seen.add(i);
        }
      }
      assert.equal(seen.size, 100);
    }
    assert.notDeepEqual(epochs[0], epochs[1]);
    assert.deepEqual([...epochBatches(count, batchSize, 42, 2)], epochs[1]);
    assert.notDeepEqual([...epochBatches(count, batchSize, 43, 2)], epochs[1]);
    assert.deepEqual([...epochBatches(5, 10, 1, 1)], []);
    assert.throws(() => [...epochBatches(5, 0, 1, 1)], RangeError);
  });

  it('gatherBatch copies the selected rows and labels', () => {
    const split = tracedSplit(20);
    const { x, y } = gatherBatch(split, Int32Array.from([7, 0, 19]), shape);
    assert.deepEqual(Array.from(x), [7, 7, 7, 7, 0, 0, 0, 0, 19, 19, 19, 19]);
    assert.deepEqual(Array.from(y), [7, 0, 9]);
    x.fill(-1);
    assert.equal(split.images[7 * 4], 7);
    assert.throws(() => gatherBatch(split, Int32Array.from([20]), shape), RangeError);
  });
});
