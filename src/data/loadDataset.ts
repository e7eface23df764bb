/** Entry point: a dataset by name, from local files (or generated), never from the network. */
import { nearest } from '../util/nearest.js';
import { loadCifar10 } from './cifar10.js';
import { DATASET_NAMES, isDatasetName, type Dataset, type PixelScaling } from './dataset.js';
import { DatasetError } from './datasetError.js';
import { locateDataDir } from './locate.js';
import { loadMnistLike } from './mnistLike.js';
import { makeSyntheticDataset, type SyntheticOptions } from './synthetic.js';

export interface LoadDatasetOptions {
  /** --data-dir: overrides env vars and default locations. */
  dataDir?: string;
  /** Run seed; seeds the synthetic dataset unless `synthetic.seed` is given. */
  seed: number;
  synthetic?: Partial<SyntheticOptions>;
  /** How pixel bytes become inputs (image datasets; default 'standardize'). */
  pixelScaling?: PixelScaling;
  /** Environment for directory lookup (default process.env). */
  env?: Record<string, string | undefined>;
}

export async function loadDataset(name: string, opts: LoadDatasetOptions): Promise<Dataset> {
  if (!isDatasetName(name)) throw unknownDataset(name);
  switch (name) {
    case 'synthetic':
      if (opts.pixelScaling !== undefined) {
        throw new DatasetError({
          problem: `pixelScaling '${opts.pixelScaling}' does not apply to the synthetic dataset (its inputs are generated as floats, not pixels)`,
          remedy: 'remove dataset.pixelScaling, or choose an image dataset (fashion-mnist, mnist, cifar10)',
        });
      }
      return makeSyntheticDataset({ ...opts.synthetic, seed: opts.synthetic?.seed ?? opts.seed });
    case 'fashion-mnist':
    case 'mnist':
      return loadMnistLike(name, locateDataDir(name, { dataDir: opts.dataDir, env: opts.env }), opts.pixelScaling);
    case 'cifar10':
      return loadCifar10(locateDataDir(name, { dataDir: opts.dataDir, env: opts.env }), undefined, opts.pixelScaling);
  }
}

function unknownDataset(name: string): DatasetError {
  const guess = nearest(name, DATASET_NAMES);
  return new DatasetError({
    problem: `unknown dataset '${name}'`,
    remedy: `${guess ? `did you mean '${guess}'? ` : ''}valid names: ${DATASET_NAMES.join(', ')}`,
  });
}
