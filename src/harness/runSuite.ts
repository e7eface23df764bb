/**
 * The suite orchestrator: runs planned runs one at a time (each may itself be multi-process), in order,
 * each in a child process, and records one validated result file per run in the output directory.
 *
 * Layout of OUT:
 *   OUT/<id>.json           one RunResult per finished run, with its `run` identity (written atomically)
 *   OUT/manifest.json       the planned run ids (see manifest.ts), rewritten after every run
 *   OUT/.pending/<id>.*     the current run's config and the child's result; removed when the run ends
 *   OUT/.lock               held while this process runs the suite (see dirLock.ts): one writer per directory
 *
 * Interruption (the AbortSignal, i.e. Ctrl-C / SIGTERM in the CLI): no further run is launched, the
 * running child and everything in its process group are stopped (SIGTERM, SIGKILL after a grace
 * period), its pending files are removed, and the interrupted run is NOT recorded: an earlier
 * `OUT/<id>.json`, if any, is left as it was, and `--resume` runs it again. Finished runs keep their
 * results; no file is ever half-written (all writes are write-then-rename).
 */
import { mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertValid } from '../config/validate.js';
import { RunResultSchema, type RunResult, type RunStatus } from '../results/runResult.js';
import { writeJsonAtomic } from '../results/writeJsonAtomic.js';
import type { PlannedRun } from '../suite/plannedRun.js';
import { TOOL_VERSION } from '../version.js';
import { trainChildCommand, type ChildCommandBuilder } from './childCommand.js';
import { withResultsDirLock } from './dirLock.js';
import { launchChild } from './launchChild.js';
import { writeManifest, type Shard } from '../results/manifest.js';
import { readManifestOf } from '../results/resultsDirectory.js';
import { parseProgressLine, type ProgressEvent } from './progressLine.js';
import { StderrTail } from './stderrTail.js';
import { tryReadRunResult } from '../results/runResultFile.js';
import { judgeAttempt, recordFor } from './verdict.js';
import { EXIT } from '../util/exitCodes.js';

export const PENDING_DIR = '.pending';

export type RunOutcomeStatus = RunStatus | 'interrupted' | 'not-run';

export interface RunOutcome {
  readonly id: string;
  readonly name: string;
  readonly status: RunOutcomeStatus;
  /** --resume found a complete result and did not launch it. */
  readonly skipped: boolean;
  /** Launches in this invocation (0 if skipped or not run). */
  readonly attempts: number;
  /** Wall-clock seconds spent on it in this invocation. */
  readonly seconds: number;
  /** `OUT/<id>.json`, or null if nothing was recorded. */
  readonly resultFile: string | null;
  readonly error?: string;
  readonly testAccuracy: number | null;
  readonly divergedAtStep?: number;
}

export interface SuiteCounts {
  readonly planned: number;
  readonly ok: number;
  readonly diverged: number;
  readonly failed: number;
  readonly skipped: number;
  readonly interrupted: number;
  readonly notRun: number;
}

export interface SuiteOutcome {
  readonly suite: string;
  readonly outDir: string;
  readonly shard: Shard | null;
  /** Stopped by the signal before every planned run had an outcome. */
  readonly interrupted: boolean;
  readonly seconds: number;
  readonly counts: SuiteCounts;
  readonly runs: readonly RunOutcome[];
}

interface RunEventBase {
  /** 0-based position in the planned list. */
  readonly index: number;
  readonly total: number;
  readonly run: PlannedRun;
}

export type SuiteEvent =
  | { readonly type: 'suite-started'; readonly suite: string; readonly total: number; readonly outDir: string; readonly resume: boolean }
  | (RunEventBase & { readonly type: 'run-skipped'; readonly outcome: RunOutcome })
  | (RunEventBase & { readonly type: 'run-started'; readonly attempt: number; readonly maxAttempts: number })
  | (RunEventBase & { readonly type: 'run-progress'; readonly progress: ProgressEvent })
  | (RunEventBase & {
      readonly type: 'run-retrying';
      readonly attempt: number;
      readonly maxAttempts: number;
      readonly reason: string;
    })
  | (RunEventBase & { readonly type: 'run-finished'; readonly outcome: RunOutcome })
  | { readonly type: 'suite-finished'; readonly outcome: SuiteOutcome };

/** Receives the suite's events (see suiteProgress.ts for the TTY, plain-line and silent displays). */
export interface SuiteDisplay {
  handle(event: SuiteEvent): void;
  /** Releases the terminal (a TTY display's bar and timers) if the suite ended without 'suite-finished'. */
  close?(): void;
}

export interface RunSuiteOptions {
  readonly runs: readonly PlannedRun[];
  readonly outDir: string;
  /** Skip runs whose complete result (ok or diverged, same configHash) is already in outDir. */
  readonly resume: boolean;
  /** Abort to interrupt (see the module comment). */
  readonly signal?: AbortSignal;
  readonly display?: SuiteDisplay;
  /** Default: `ngd-bench train` through the running CLI (trainChildCommand()). */
  readonly childCommand?: ChildCommandBuilder;
  /** For the manifest; default: the runs' suite name. */
  readonly suite?: string;
  readonly shard?: Shard | null;
  /**
   * The runs are a --filter's selection: the manifest keeps the run ids an earlier run of the same suite
   * and shard planned in outDir and adds these, so a filtered resume never shrinks the plan (and the
   * reporter still sees the runs it did not select as missing).
   */
  readonly filtered?: boolean;
  /** After SIGTERM, how long a child gets before SIGKILL. Default 10 s. */
  readonly killGraceMs?: number;
  /** Pause before retrying after an infrastructure failure. Default 2 s. */
  readonly retryDelayMs?: number;
}

export function resultFilePath(outDir: string, id: string): string {
  return join(outDir, `${id}.json`);
}

/** The recorded result if it is complete for this run (valid, ok or diverged, same configHash), else null. */
export function completedResult(outDir: string, run: PlannedRun): RunResult | null {
  const read = tryReadRunResult(resultFilePath(outDir, run.id));
  if (read.kind !== 'valid') return null;
  const r = read.result;
  return r.run?.configHash === run.configHash && (r.status === 'ok' || r.status === 'diverged') ? r : null;
}

export function countOutcomes(runs: readonly RunOutcome[]): SuiteCounts {
  const n = (pred: (o: RunOutcome) => boolean) => runs.filter(pred).length;
  return {
    planned: runs.length,
    ok: n((o) => o.status === 'ok'),
    diverged: n((o) => o.status === 'diverged'),
    failed: n((o) => o.status === 'failed'),
    skipped: n((o) => o.skipped),
    interrupted: n((o) => o.status === 'interrupted'),
    notRun: n((o) => o.status === 'not-run'),
  };
}

/** 130 if interrupted, else 1 if any planned run (skipped ones included) failed or diverged, else 0. */
export function suiteExitCode(outcome: SuiteOutcome): number {
  if (outcome.interrupted) return EXIT.interrupted;
  return outcome.counts.failed + outcome.counts.diverged > 0 ? EXIT.runFailed : EXIT.ok;
}

function outcomeFromResult(
  run: PlannedRun,
  result: RunResult,
  file: string,
  attempts: number,
  seconds: number,
  skipped: boolean,
): RunOutcome {
  return {
    id: run.id,
    name: run.name,
    status: result.status,
    skipped,
    attempts,
    seconds,
    resultFile: file,
    ...(result.status !== 'ok' && result.error !== undefined ? { error: result.error } : {}),
    testAccuracy: result.final?.testAccuracy ?? null,
    ...(result.divergedAtStep !== undefined ? { divergedAtStep: result.divergedAtStep } : {}),
  };
}

function unrecorded(run: PlannedRun, status: 'interrupted' | 'not-run', attempts: number, seconds: number): RunOutcome {
  return { id: run.id, name: run.name, status, skipped: false, attempts, seconds, resultFile: null, testAccuracy: null };
}

/** Removes this run's files from OUT/.pending (including a child's temp file), and the directory once empty. */
function cleanupPending(outDir: string, id: string): void {
  const dir = join(outDir, PENDING_DIR);
  try {
    for (const name of readdirSync(dir)) if (name.startsWith(`${id}.`)) rmSync(join(dir, name), { force: true });
    rmdirSync(dir);
  } catch {
    // missing, or not empty (another process uses it): leave it
  }
}

function assertUniqueIds(runs: readonly PlannedRun[]): void {
  const seen = new Set<string>();
  for (const run of runs) {
    if (seen.has(run.id)) throw new Error(`two planned runs share the id '${run.id}'`);
    seen.add(run.id);
  }
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function sameShard(a: Shard | null, b: Shard | null): boolean {
  return a === null || b === null ? a === b : a.index === b.index && a.count === b.count;
}

export function runSuite(options: RunSuiteOptions): Promise<SuiteOutcome> {
  return withResultsDirLock(options.outDir, () => runSuiteLocked(options));
}

async function runSuiteLocked(options: RunSuiteOptions): Promise<SuiteOutcome> {
  const { runs, outDir, signal } = options;
  const childCommand = options.childCommand ?? trainChildCommand();
  const suite = options.suite ?? runs[0]?.suite ?? 'suite';
  const shard = options.shard ?? null;
  const killGraceMs = options.killGraceMs ?? 10_000;
  const retryDelayMs = options.retryDelayMs ?? 2_000;
  const emit = (event: SuiteEvent) => options.display?.handle(event);
  const total = runs.length;
  assertUniqueIds(runs);

  mkdirSync(outDir, { recursive: true });
  const earlier = options.filtered ? readManifestOf(outDir) : null;
  const kept = earlier && earlier.suite === suite && sameShard(earlier.shard, shard) ? earlier.runIds : [];
  const planned = [...new Set([...kept, ...runs.map((r) => r.id)])];
  const updateManifest = () =>
    writeManifest(outDir, {
      schemaVersion: 1,
      suite,
      shard,
      runIds: planned,
      toolVersion: TOOL_VERSION,
      updatedAt: new Date().toISOString(),
    });
  updateManifest();

  async function execute(index: number, run: PlannedRun): Promise<RunOutcome> {
    const maxAttempts = 1 + Math.max(0, Math.floor(run.retries));
    const t0 = performance.now();
    const elapsed = () => (performance.now() - t0) / 1000;
    const startedAt = new Date();
    const pending = join(outDir, PENDING_DIR);
    const configPath = join(pending, `${run.id}.config.json`);
    const resultPath = join(pending, `${run.id}.result.json`);
    const onExit = () => cleanupPending(outDir, run.id);
    process.on('exit', onExit);
    try {
      writeJsonAtomic(configPath, run.config);
      for (let attempt = 1; ; attempt++) {
        rmSync(resultPath, { force: true });
        emit({ type: 'run-started', index, total, run, attempt, maxAttempts });
        const tail = new StderrTail();
        const exit = await launchChild({
          command: childCommand(run, { configPath, resultPath, attempt }),
          timeoutSeconds: run.timeoutSeconds,
          signal,
          killGraceMs,
          onLine: (line) => {
            const progress = parseProgressLine(line);
            if (progress) emit({ type: 'run-progress', index, total, run, progress });
            else tail.push(line);
          },
        });
        const read = exit.canceled ? ({ kind: 'missing' } as const) : tryReadRunResult(resultPath);
        const verdict = judgeAttempt(exit, read, run.timeoutSeconds, tail.lastMeaningfulLine());
        if (verdict.kind === 'interrupted') return unrecorded(run, 'interrupted', attempt, elapsed());
        if (verdict.kind === 'failed' && verdict.retryable && attempt < maxAttempts) {
          emit({ type: 'run-retrying', index, total, run, attempt, maxAttempts, reason: verdict.reason });
          if (!(await pause(retryDelayMs, signal))) return unrecorded(run, 'interrupted', attempt, elapsed());
          continue;
        }
        const record = recordFor(run, verdict, attempt, tail.text(), startedAt, new Date());
        assertValid(RunResultSchema, record, `internal error: result of ${run.id} does not match its schema`);
        const file = resultFilePath(outDir, run.id);
        writeJsonAtomic(file, record);
        return outcomeFromResult(run, record, file, attempt, elapsed(), false);
      }
    } finally {
      cleanupPending(outDir, run.id);
      process.off('exit', onExit);
    }
  }

  const t0 = performance.now();
  emit({ type: 'suite-started', suite, total, outDir, resume: options.resume });
  const outcomes: RunOutcome[] = [];
  let stopped = false;
  for (const [index, run] of runs.entries()) {
    if (stopped || signal?.aborted) {
      stopped = true;
      outcomes.push(unrecorded(run, 'not-run', 0, 0));
      continue;
    }
    const done = options.resume ? completedResult(outDir, run) : null;
    if (done) {
      const outcome = outcomeFromResult(run, done, resultFilePath(outDir, run.id), 0, 0, true);
      outcomes.push(outcome);
      emit({ type: 'run-skipped', index, total, run, outcome });
      continue;
    }
    const outcome = await execute(index, run);
    outcomes.push(outcome);
    if (outcome.status === 'interrupted') stopped = true;
    else updateManifest();
    emit({ type: 'run-finished', index, total, run, outcome });
  }
  updateManifest();

  const outcome: SuiteOutcome = {
    suite,
    outDir,
    shard,
    interrupted: stopped,
    seconds: (performance.now() - t0) / 1000,
    counts: countOutcomes(outcomes),
    runs: outcomes,
  };
  emit({ type: 'suite-finished', outcome });
  return outcome;
}
