/**
 * Finding a dataset's directory. Precedence: explicit --data-dir, then the dataset's own env var, then
 * NGD_BENCH_DATA_DIR/<dataset>/, then the Debian install location. An explicitly named directory that
 * does not exist is an error rather than a fall-through, so a typo never silently loads other data.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatasetError } from './datasetError.js';
import { DATASET_SOURCES, GENERIC_DATA_DIR_ENV, howToGet, howToRepair, type FileDatasetName } from './sources.js';

export interface LocateOptions {
  /** --data-dir. */
  dataDir?: string;
  /** Environment to read (default process.env); injectable for tests. */
  env?: Record<string, string | undefined>;
  /** Override the Debian default directory (tests); `null` means none. */
  defaultDir?: string | null;
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The directory holding `name`'s files; DatasetError listing every place tried if there is none. */
export function locateDataDir(name: FileDatasetName, opts: LocateOptions = {}): string {
  const src = DATASET_SOURCES[name];
  const env = opts.env ?? process.env;
  const explicit: [string, string | undefined][] = [
    ['--data-dir', opts.dataDir],
    [src.envVar, env[src.envVar]],
  ];
  for (const [origin, dir] of explicit) {
    if (!dir) continue;
    if (!isDirectory(dir)) {
      throw new DatasetError({
        dataset: name,
        file: resolve(dir),
        problem: `directory given by ${origin} does not exist`,
        remedy: howToGet(name),
      });
    }
    return resolve(dir);
  }
  const tried: string[] = [];
  const generic = env[GENERIC_DATA_DIR_ENV];
  if (generic) {
    const dir = resolve(generic, src.subfolder);
    if (isDirectory(dir)) return dir;
    tried.push(`${GENERIC_DATA_DIR_ENV}/${src.subfolder} (${dir})`);
  } else {
    tried.push(`${GENERIC_DATA_DIR_ENV} (unset)`);
  }
  const fallback = opts.defaultDir === undefined ? src.debianDir : (opts.defaultDir ?? undefined);
  if (fallback) {
    if (isDirectory(fallback)) return resolve(fallback);
    tried.push(fallback);
  }
  throw new DatasetError({
    dataset: name,
    problem: `no data directory found (looked at --data-dir (not given), ${src.envVar} (unset), ${tried.join(', ')})`,
    remedy: howToGet(name),
  });
}

/** The first existing of `names` in `dir`; DatasetError naming the file (all accepted spellings) if none. */
export function findDataFile(name: FileDatasetName, dir: string, names: readonly string[]): string {
  for (const candidate of names) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  const alternatives = names.length > 1 ? ` (also tried ${names.slice(1).join(', ')})` : '';
  throw new DatasetError({
    dataset: name,
    file: join(dir, names[0]),
    problem: `file not found${alternatives}`,
    remedy: howToRepair(name, dir),
  });
}
