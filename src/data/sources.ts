/** Where each file-backed dataset can come from, and what to tell a user who does not have it. */
import type { DatasetName } from './dataset.js';

export type FileDatasetName = Exclude<DatasetName, 'synthetic'>;

export interface DatasetSource {
  /** Env var naming this dataset's directory. */
  envVar: string;
  /** Subfolder of NGD_BENCH_DATA_DIR holding this dataset. */
  subfolder: string;
  /** Directory a Debian package installs the files into, if one exists (or is conventional). */
  debianDir?: string;
  /** Debian package shipping the files. */
  debianPackage?: string;
  /** The files a user must fetch, named as they are published. */
  files: string;
}

/** Generic env var: a directory with one subfolder per dataset. */
export const GENERIC_DATA_DIR_ENV = 'NGD_BENCH_DATA_DIR';

export const DATASET_SOURCES: Record<FileDatasetName, DatasetSource> = {
  'fashion-mnist': {
    envVar: 'NGD_BENCH_FASHION_MNIST_DIR',
    subfolder: 'fashion-mnist',
    debianDir: '/usr/share/datasets/fashion-mnist',
    debianPackage: 'dataset-fashion-mnist',
    files: 'the four Fashion-MNIST IDX files (train-images-idx3-ubyte.gz etc.)',
  },
  mnist: {
    envVar: 'NGD_BENCH_MNIST_DIR',
    subfolder: 'mnist',
    debianDir: '/usr/share/datasets/mnist',
    files:
      'the four standard MNIST IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)',
  },
  cifar10: {
    envVar: 'NGD_BENCH_CIFAR10_DIR',
    subfolder: 'cifar10',
    files: 'the CIFAR-10 binary version (cifar-10-binary.tar.gz, extracted: data_batch_1.bin..data_batch_5.bin, test_batch.bin)',
  },
};

/** How to obtain a dataset that was not found at all. */
export function howToGet(name: FileDatasetName): string {
  const src = DATASET_SOURCES[name];
  const manual = `download ${src.files} and pass --data-dir DIR or set ${src.envVar}=DIR`;
  return src.debianPackage ? `install with: apt-get install ${src.debianPackage}, or ${manual}` : manual;
}

/** How to repair a dataset file found in `dir` but missing or corrupt there. */
export function howToRepair(name: FileDatasetName, dir: string): string {
  const src = DATASET_SOURCES[name];
  if (src.debianPackage && src.debianDir && samePath(dir, src.debianDir)) {
    return `reinstall with: apt-get install --reinstall ${src.debianPackage}`;
  }
  return `restore it from ${src.files}`;
}

function samePath(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}
