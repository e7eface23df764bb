/**
 * Pure decisions about one finished launch: what it means, whether to retry, and the result file the
 * harness records for it.
 */
import type { ResultRead } from '../results/runResultFile.js';
import type { RunIdentity, RunResult } from '../results/runResult.js';
import { failedRunResult } from '../results/failedRunResult.js';
import type { PlannedRun } from '../suite/plannedRun.js';
import { EXIT } from '../util/exitCodes.js';
import type { ChildExit } from './launchChild.js';

export type { ResultRead };

export type Verdict =
  /** The suite was interrupted: nothing is recorded for this run. */
  | { readonly kind: 'interrupted' }
  /** The child's own result stands (ok, diverged, or a failure it reported itself). */
  | { readonly kind: 'recorded'; readonly result: RunResult }
  /**
   * The launch failed without a usable outcome. `retryable` only for infrastructure failures: exit 4,
   * a signal the harness did not send, or a failure to start. `childResult` is a failed result the
   * child managed to write anyway (exit 4), recorded in preference to a synthesized one.
   */
  | {
      readonly kind: 'failed';
      readonly reason: string;
      readonly retryable: boolean;
      /** As the result schema defines it: 'infrastructure' for lost processes, kills and timeouts. */
      readonly failureKind: FailureKind;
      readonly childResult: RunResult | null;
    };

export type FailureKind = NonNullable<RunResult['failureKind']>;

export function formatSeconds(seconds: number): string {
  return Number.isInteger(seconds) ? String(seconds) : seconds.toFixed(1);
}

export function judgeAttempt(exit: ChildExit, read: ResultRead, timeoutSeconds: number, lastLine: string | null): Verdict {
  const quote = lastLine ? `: ${lastLine}` : '';
  if (exit.canceled) return { kind: 'interrupted' };
  if (exit.timedOut) {
    // Not retried (a run that is too slow stays too slow), but an infrastructure failure in the
    // result schema's terms: nothing went wrong in the training itself.
    return {
      kind: 'failed',
      reason: `timed out after ${formatSeconds(timeoutSeconds)} s`,
      retryable: false,
      failureKind: 'infrastructure',
      childResult: null,
    };
  }
  if (exit.spawnError !== null) {
    return {
      kind: 'failed',
      reason: `could not start: ${exit.spawnError}`,
      retryable: true,
      failureKind: 'infrastructure',
      childResult: null,
    };
  }
  if (exit.exitCode === null) {
    return {
      kind: 'failed',
      reason: `killed by ${exit.signal ?? 'an unknown signal'}${quote}`,
      retryable: true,
      failureKind: 'infrastructure',
      childResult: null,
    };
  }
  const code = exit.exitCode;
  if (code === EXIT.infrastructure) {
    const childResult = read.kind === 'valid' && read.result.status === 'failed' ? read.result : null;
    return {
      kind: 'failed',
      reason: `infrastructure failure (exit code 4)${quote}`,
      retryable: true,
      failureKind: 'infrastructure',
      childResult,
    };
  }
  if (code === EXIT.badInput) {
    return {
      kind: 'failed',
      reason: `exit code 2${lastLine ? quote : ': bad input'}`,
      retryable: false,
      failureKind: 'run',
      childResult: null,
    };
  }
  if (code === EXIT.ok || code === EXIT.runFailed || code === EXIT.diverged) {
    if (read.kind === 'valid') return { kind: 'recorded', result: read.result };
    const why = read.kind === 'missing' ? 'no result file' : `an invalid result file (${read.problem})`;
    return { kind: 'failed', reason: `exit code ${code} with ${why}${quote}`, retryable: false, failureKind: 'run', childResult: null };
  }
  return { kind: 'failed', reason: `exit code ${code}${quote}`, retryable: false, failureKind: 'run', childResult: null };
}

export function runIdentity(run: PlannedRun, attempts: number): RunIdentity {
  return {
    id: run.id,
    name: run.name,
    suite: run.suite,
    optimizerLabel: run.optimizerLabel,
    configHash: run.configHash,
    sweep: { ...run.sweep },
    ...(run.tuned ? { tuned: { ...run.tuned } } : {}),
    attempts,
  };
}

/** The `failed` result the harness writes when the child left none (crash, kill, timeout, bad input). */
export function harnessFailedResult(
  run: PlannedRun,
  reason: string,
  failureKind: FailureKind,
  startedAt: Date,
  finishedAt: Date,
): RunResult {
  return failedRunResult({ config: run.config, error: reason, failureKind, startedAt, finishedAt });
}

/** What goes to `OUT/<id>.json`: the outcome, the run identity, and for non-ok runs the stderr tail. */
export function recordFor(
  run: PlannedRun,
  verdict: Exclude<Verdict, { kind: 'interrupted' }>,
  attempts: number,
  stderrTail: string,
  startedAt: Date,
  finishedAt: Date,
): RunResult {
  let result: RunResult;
  if (verdict.kind === 'recorded') result = structuredClone(verdict.result);
  else if (verdict.childResult) {
    const child = structuredClone(verdict.childResult);
    result = { ...child, error: child.error ?? verdict.reason, failureKind: child.failureKind ?? verdict.failureKind };
  } else result = harnessFailedResult(run, verdict.reason, verdict.failureKind, startedAt, finishedAt);
  const { stderrTail: childTail, ...rest } = result;
  const tail = stderrTail !== '' ? stderrTail : childTail;
  return {
    ...rest,
    run: runIdentity(run, attempts),
    ...(result.status !== 'ok' && tail !== undefined && tail !== '' ? { stderrTail: tail } : {}),
  };
}
