/**
 * The names inside a results directory (`ngd-bench run --out DIR`), owned here so that every reader
 * (check, report, merge, the harness) agrees on which files are run results:
 *
 *   DIR/<run id>.json   one RunResult per run
 *   DIR/manifest.json   the planned run ids
 *   DIR/probes.json     the timing probes (ngd-bench probe)
 *   DIR/tuning.json     a tuned suite's selection (how each final run's hyper-parameters were chosen)
 *   DIR/tuning/         a tuned suite's tuning runs: a results directory of its own
 */
export const MANIFEST_FILE = 'manifest.json';
export const PROBES_FILE = 'probes.json';
export const TUNING_FILE = 'tuning.json';
export const TUNING_DIR = 'tuning';

const RESERVED: ReadonlySet<string> = new Set([MANIFEST_FILE, PROBES_FILE, TUNING_FILE]);

/** A top-level name that holds a run result: `*.json`, not hidden, not one of the directory's own files. */
export function isRunResultFileName(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.') && !RESERVED.has(name);
}
