/**
 * Reading a results directory (`ngd-bench run --out DIR`): every `<run id>.json` validated against the
 * RunResult schema, plus `manifest.json`, `probes.json` and `tuning.json` when present. Any bad file stops the load
 * with a one-line error naming it (the CLI turns that into exit code 2).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assertValid, ValidationError } from '../config/validate.js';
import { isRunResultFileName, PROBES_FILE, TUNING_FILE } from '../results/resultsLayout.js';
import { MANIFEST_FILE, ManifestSchema, type Manifest } from '../harness/manifest.js';
import { ProbeReportSchema, type ProbeReport } from '../probes/probeReport.js';
import { readJsonDocument } from '../results/readJsonDocument.js';
import { RunResultSchema, type RunResult } from '../results/runResult.js';
import { TuningSelectionSchema, type TuningSelection } from '../results/tuningSelection.js';
import { InputFileError } from '../cli/readJsonFile.js';

export { PROBES_FILE };

/** A problem with the input files; an InputFileError, so the CLI reports it as bad input (exit 2). */
export class ResultsLoadError extends InputFileError {
  constructor(message: string) {
    super(message);
    this.name = 'ResultsLoadError';
  }
}

export interface LoadedRun {
  /** File name inside the directory, e.g. `sgd-b256-w1-s0-0123456789.json`. */
  file: string;
  result: RunResult;
}

export interface ResultSet {
  /** The directory as given. */
  dir: string;
  /** Every result file, sorted by file name. */
  runs: LoadedRun[];
  manifest: Manifest | null;
  probes: ProbeReport | null;
  /** A tuned suite's `tuning.json` (how the final runs' hyper-parameters were selected); absent or null when none. */
  tuning?: TuningSelection | null;
}

const MAX_PROBLEMS = 3;

function oneLine(error: unknown): string {
  if (error instanceof ValidationError) {
    const shown = error.problems.slice(0, MAX_PROBLEMS).join('; ');
    const more = error.problems.length - MAX_PROBLEMS;
    return more > 0 ? `${shown} (+${more} more)` : shown;
  }
  return (error as Error).message.split('\n')[0];
}

const readJson = (path: string, what: string) => readJsonDocument(path, what, (message) => new ResultsLoadError(message));

function readValid<T>(path: string, what: string, check: (value: unknown) => asserts value is T): T {
  const value = readJson(path, what);
  try {
    check(value);
  } catch (error) {
    throw new ResultsLoadError(`${path}: invalid ${what}: ${oneLine(error)}`);
  }
  return value;
}

const checkRun = (value: unknown): asserts value is RunResult => assertValid(RunResultSchema, value, 'result file');
const checkManifest = (value: unknown): asserts value is Manifest => assertValid(ManifestSchema, value, 'manifest');
const checkProbes = (value: unknown): asserts value is ProbeReport => assertValid(ProbeReportSchema, value, 'probe report');
const checkTuning = (value: unknown): asserts value is TuningSelection => assertValid(TuningSelectionSchema, value, 'tuning selection');

/** Reads and validates a results directory. Throws ResultsLoadError (one line, naming the file). */
export function loadResultSet(dir: string): ResultSet {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ResultsLoadError(`${dir}: no such results directory`);
  const names = readdirSync(dir)
    .filter(isRunResultFileName)
    .filter((name) => statSync(join(dir, name)).isFile())
    .sort();
  const runs = names.map((file) => ({ file, result: readValid(join(dir, file), 'result file', checkRun) }));
  if (runs.length === 0) throw new ResultsLoadError(`${dir}: no result files (<run id>.json) in this directory`);
  const manifestFile = join(dir, MANIFEST_FILE);
  const probesFile = join(dir, PROBES_FILE);
  const tuningFile = join(dir, TUNING_FILE);
  return {
    dir,
    runs,
    manifest: existsSync(manifestFile) ? readValid(manifestFile, 'manifest', checkManifest) : null,
    probes: existsSync(probesFile) ? readValid(probesFile, 'probe report', checkProbes) : null,
    tuning: existsSync(tuningFile) ? readValid(tuningFile, 'tuning selection', checkTuning) : null,
  };
}
