/**
 * The one reader of a results directory (`ngd-bench run SUITE --out DIR`, or `merge`), so that run,
 * check, report, merge, reproduce and leaderboard agree on what a valid one is (layout: resultsLayout.ts):
 * - every top-level `*.json` but the directory's own files is a run result; it must be a regular file
 *   (a FIFO, device, directory or symlink loop is refused by type before it is opened), a valid and
 *   coherent RunResult (runResultFile.ts) with a run identity, named `<run id>.json` (so a run cannot
 *   be counted twice);
 * - every result, the manifest, the probe report and the tuning selection belong to one suite.
 * Anything else is a ResultsDirectoryError: one line naming the file, exit 2.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assertValid } from '../config/validate.js';
import { ProbeReportSchema, type ProbeReport } from './probeReport.js';
import { MAX_RESULT_BYTES, readJsonFile, unreadableReason } from '../util/inputFile.js';
import { ManifestSchema, type Manifest } from './manifest.js';
import { isRunResultFileName, MANIFEST_FILE, PROBES_FILE, TUNING_FILE } from './resultsLayout.js';
import type { RunIdentity, RunResult } from './runResult.js';
import { parseRunResult, ResultsDirectoryError, validationLine } from './runResultFile.js';
import { TuningSelectionSchema, type TuningSelection } from './tuningSelection.js';

export { ResultsDirectoryError };

export type IdentifiedRunResult = RunResult & { run: RunIdentity };

export interface StoredRun {
  /** File name inside the directory: `<run id>.json`. */
  readonly file: string;
  /** The directory joined with the file name. */
  readonly path: string;
  readonly result: IdentifiedRunResult;
}

export interface ResultsDirectory {
  /** The directory as given. */
  readonly dir: string;
  /** The suite's name: the manifest's, else the results'. */
  readonly suite: string;
  readonly manifest: Manifest | null;
  /** Sorted by run id. */
  readonly runs: readonly StoredRun[];
  readonly probes: ProbeReport | null;
  readonly probesFile: string | null;
  /** A tuned suite's selection (how the final runs' hyper-parameters were chosen), or null. */
  readonly tuning: TuningSelection | null;
}

const fail = (message: string) => new ResultsDirectoryError(message);

/** Reads and validates one of the directory's own JSON documents (manifest, probes, tuning), or null if absent. */
function readOwnFile<T>(
  dir: string,
  names: readonly string[],
  name: string,
  what: string,
  check: (value: unknown) => asserts value is T,
): T | null {
  if (!names.includes(name)) return null;
  const path = join(dir, name);
  const value = readJsonFile(path, what, { maxBytes: MAX_RESULT_BYTES, fail });
  try {
    check(value);
  } catch (error) {
    throw fail(`${path}: invalid ${what}: ${validationLine(error)}`);
  }
  return value;
}

const checkManifest = (value: unknown): asserts value is Manifest => assertValid(ManifestSchema, value, 'manifest');
const checkProbes = (value: unknown): asserts value is ProbeReport => assertValid(ProbeReportSchema, value, 'probe report');
const checkTuning = (value: unknown): asserts value is TuningSelection => assertValid(TuningSelectionSchema, value, 'tuning selection');

/** The directory's entries; throws if it is not a readable directory. */
function entries(dir: string): string[] {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw fail(`${dir}: ${missing ? 'no such directory' : `not a results directory: ${unreadableReason(error)}`}`);
  }
  if (!isDirectory) throw fail(`${dir}: not a results directory: not a directory`);
  try {
    return readdirSync(dir).sort();
  } catch (error) {
    throw fail(`${dir}: cannot read the results directory: ${unreadableReason(error)}`);
  }
}

/** One stored run: valid, coherent, identified, named after its id. */
export function readStoredRun(dir: string, file: string): StoredRun {
  const path = join(dir, file);
  const result = parseRunResult(readJsonFile(path, 'result file', { maxBytes: MAX_RESULT_BYTES, fail }), path);
  if (!result.run) throw fail(`${path}: result has no run identity (written by \`ngd-bench train\`, not by \`ngd-bench run\`)`);
  if (file !== `${result.run.id}.json`)
    throw fail(`${path}: holds run '${result.run.id}'; a results directory names each result <run id>.json (a copy or a renamed file?)`);
  return { file, path, result: result as IdentifiedRunResult };
}

export function readManifestOf(dir: string): Manifest | null {
  return readOwnFile(dir, entries(dir), MANIFEST_FILE, 'manifest', checkManifest);
}

export interface ReadOptions {
  /** Refuse a directory without a single result (report and leaderboard have nothing to show). */
  readonly requireRuns?: boolean;
}

export function readResultsDirectory(dir: string, options: ReadOptions = {}): ResultsDirectory {
  const names = entries(dir);
  const manifest = readOwnFile(dir, names, MANIFEST_FILE, 'manifest', checkManifest);
  const probes = readOwnFile(dir, names, PROBES_FILE, 'probe report', checkProbes);
  const tuning = readOwnFile(dir, names, TUNING_FILE, 'tuning selection', checkTuning);
  const runs = names.filter(isRunResultFileName).map((file) => readStoredRun(dir, file));
  runs.sort((a, b) => (a.result.run.id < b.result.run.id ? -1 : a.result.run.id > b.result.run.id ? 1 : 0));

  if (options.requireRuns && runs.length === 0) throw fail(`${dir}: no result files (<run id>.json) in this directory`);
  const suite = manifest?.suite ?? runs[0]?.result.run.suite;
  if (suite === undefined) throw fail(`${dir}: no ${MANIFEST_FILE} and no result files: not a results directory of \`ngd-bench run\``);
  const stranger = runs.find((r) => r.result.run.suite !== suite);
  if (stranger) throw fail(`${stranger.path}: result of suite '${stranger.result.run.suite}' in a results directory of suite '${suite}'`);
  const probesFile = probes ? join(dir, PROBES_FILE) : null;
  if (probes && probes.suite !== suite)
    throw fail(`${probesFile}: probe report of suite '${probes.suite}' in a results directory of suite '${suite}'`);
  if (tuning && tuning.suite !== suite)
    throw fail(`${join(dir, TUNING_FILE)}: tuning selection of suite '${tuning.suite}' in a results directory of suite '${suite}'`);
  return { dir, suite, manifest, runs, probes, probesFile, tuning };
}
