/**
 * A tuned suite, run in its two phases: the tuning runs into OUT/tuning/ (a results directory of its
 * own), then, once every tuning run has a result, the selection (OUT/tuning.json, recomputed from the
 * tuning results on every invocation, so --resume and merged shards give the same choice) and the final
 * runs into OUT. With --filter or --shard only part of the tuning runs may be here: the final phase then
 * waits, and says so, until the rest are (run the other shards into the same OUT/tuning, or merge them).
 */
import { join } from 'node:path';
import { assertValid } from '../config/validate.js';
import { TUNING_DIR, TUNING_FILE } from '../results/resultsLayout.js';
import { TuningSelectionSchema, type TuningSelection } from '../results/tuningSelection.js';
import { writeJsonAtomic } from '../results/writeJsonAtomic.js';
import type { PlannedRun } from '../suite/plannedRun.js';
import { selectTuned, type TuningRunResult } from '../suite/selectTuned.js';
import type { Suite } from '../suite/suiteSchema.js';
import { planFinalRuns, planTuningRuns } from '../suite/tuning.js';
import { withResultsDirLock } from './dirLock.js';
import { resultFilePath, runSuite, type RunSuiteOptions, type SuiteOutcome } from './runSuite.js';
import { tryReadRunResult } from '../results/runResultFile.js';

export const tuningDir = (outDir: string) => join(outDir, TUNING_DIR);
export const tuningFile = (outDir: string) => join(outDir, TUNING_FILE);

/** The recorded results of the planned tuning runs (any status; a stale config hash counts as missing). */
export function readTuningResults(outDir: string, runs: readonly PlannedRun[]): Map<string, TuningRunResult> {
  const results = new Map<string, TuningRunResult>();
  for (const run of runs) {
    const read = tryReadRunResult(resultFilePath(tuningDir(outDir), run.id));
    if (read.kind === 'valid' && read.result.run?.configHash === run.configHash) results.set(run.id, read.result);
  }
  return results;
}

/** The selection from what OUT/tuning holds now; complete only when every tuning run has a result. */
export function currentSelection(suite: Suite, outDir: string): { tuningRuns: PlannedRun[]; selection: TuningSelection } {
  const tuningRuns = planTuningRuns(suite);
  return { tuningRuns, selection: selectTuned(suite, tuningRuns, readTuningResults(outDir, tuningRuns)) };
}

export function writeSelection(outDir: string, selection: TuningSelection): string {
  assertValid(TuningSelectionSchema, selection, 'internal error: tuning selection does not match its schema');
  const file = tuningFile(outDir);
  writeJsonAtomic(file, selection);
  return file;
}

export interface TunedSuiteOutcome {
  tuning: SuiteOutcome;
  /** Null while tuning is incomplete (interrupted, or other shards still to run). */
  selection: TuningSelection | null;
  /** Null when the final phase did not start. */
  final: SuiteOutcome | null;
  /** Why the final phase did not start, when it did not. */
  waiting: string | null;
}

export interface TunedSuiteOptions extends Omit<RunSuiteOptions, 'runs' | 'outDir' | 'suite'> {
  suite: Suite;
  outDir: string;
  /** Narrow each phase's planned runs (--filter, --shard). */
  narrowTuning?: (runs: PlannedRun[]) => PlannedRun[];
  narrowFinal?: (runs: PlannedRun[]) => PlannedRun[];
}

export function runTunedSuite(options: TunedSuiteOptions): Promise<TunedSuiteOutcome> {
  // Held across both phases, so a second process on the same OUT cannot start between them.
  return withResultsDirLock(options.outDir, () => runPhases(options));
}

async function runPhases(options: TunedSuiteOptions): Promise<TunedSuiteOutcome> {
  const { suite, outDir, narrowTuning = (runs) => runs, narrowFinal = (runs) => runs, ...rest } = options;
  const tuningRuns = planTuningRuns(suite);
  const tuning = await runSuite({ ...rest, runs: narrowTuning(tuningRuns), outDir: tuningDir(outDir), suite: suite.name });
  if (tuning.interrupted) return { tuning, selection: null, final: null, waiting: 'interrupted during tuning' };
  const results = readTuningResults(outDir, tuningRuns);
  const selection = selectTuned(suite, tuningRuns, results);
  if (!selection.complete) {
    const missing = tuningRuns.filter((r) => !results.has(r.id));
    return {
      tuning,
      selection: null,
      final: null,
      waiting: `${missing.length} of ${tuningRuns.length} tuning runs have no result in ${tuningDir(outDir)} yet; the final runs start once all have one (run the other shards or merge them there, then run again with --resume)`,
    };
  }
  writeSelection(outDir, selection);
  const finalRuns = narrowFinal(planFinalRuns(suite, selection));
  const final = await runSuite({ ...rest, runs: finalRuns, outDir, suite: suite.name });
  return { tuning, selection, final, waiting: null };
}
