/**
 * What the report analyses of a results directory: results/resultsDirectory.ts reads and validates one
 * (its ResultsDirectory is a ResultSet); tests craft sets in memory.
 */
import type { Manifest } from '../results/manifest.js';
import type { ProbeReport } from '../results/probeReport.js';
import type { RunResult } from '../results/runResult.js';
import type { TuningSelection } from '../results/tuningSelection.js';

export interface LoadedRun {
  /** File name inside the directory, e.g. `sgd-b256-w1-s0-0123456789.json`. */
  readonly file: string;
  readonly result: RunResult;
}

export interface ResultSet {
  /** The directory as given. */
  readonly dir: string;
  readonly runs: readonly LoadedRun[];
  readonly manifest: Manifest | null;
  readonly probes: ProbeReport | null;
  /** A tuned suite's `tuning.json`; absent or null when none. */
  readonly tuning?: TuningSelection | null;
}
