/**
 * Human display of a suite: a cli-progress bar on a TTY (runs done/total, current run, its epoch and
 * step, and the suite's ETA), plain lines otherwise (logs, CI), or nothing.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { PlannedRun } from '../suite/plannedRun.js';
import { progressFraction, type ProgressEvent } from './progressLine.js';
import type { RunOutcome, SuiteDisplay, SuiteEvent, SuiteOutcome } from './runSuite.js';

export interface TextSink {
  write(text: string): unknown;
}

// ---------------------------------------------------------------------------------------------------
// Pure formatting

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const tag = (index: number, total: number) => `[${index + 1}/${total}]`;

export interface EtaInput {
  /** Wall-clock seconds of the runs executed so far in this invocation. */
  readonly completedSeconds: readonly number[];
  /** Runs still to launch after the current one. */
  readonly remainingAfterCurrent: number;
  /** Seconds the current run has been going, or null if none is running. */
  readonly currentElapsed: number | null;
  /** Fraction of the current run done (0..1) from its last progress line, or null. */
  readonly currentFraction: number | null;
}

/**
 * Seconds until the suite is done: a run is assumed to take the mean of the completed runs (or, before
 * any completed, what the current run's progress extrapolates to); the current run's rest comes from
 * its own progress when it has reported any. Null when there is nothing to go on yet.
 */
export function estimateSuiteEta(p: EtaInput): number | null {
  const f = p.currentFraction !== null && p.currentFraction > 0 ? p.currentFraction : null;
  const mean = p.completedSeconds.length > 0 ? p.completedSeconds.reduce((a, b) => a + b, 0) / p.completedSeconds.length : null;
  const perRun = mean ?? (f !== null && p.currentElapsed !== null ? p.currentElapsed / f : null);
  if (perRun === null) return p.currentElapsed === null && p.remainingAfterCurrent === 0 ? 0 : null;
  let current = 0;
  if (p.currentElapsed !== null) current = f !== null ? (p.currentElapsed * (1 - f)) / f : Math.max(0, perRun - p.currentElapsed);
  return current + perRun * p.remainingAfterCurrent;
}

export function formatProgress(progress: ProgressEvent): string {
  if (progress.event === 'epoch') {
    return `epoch ${progress.epoch}/${progress.epochs} test ${pct(progress.testAccuracy)} train ${pct(progress.trainAccuracy)} (${formatDuration(progress.seconds)})`;
  }
  const loss = progress.loss === null ? 'NaN' : progress.loss.toFixed(4);
  return `epoch ${progress.epoch}/${progress.epochs} step ${progress.step}/${progress.totalSteps} loss ${loss}`;
}

/** "ngd-b1024-w1-s0 ok in 41 s (test 85.1%)" and the like. */
export function formatRunOutcome(outcome: RunOutcome): string {
  const took = formatDuration(outcome.seconds);
  const details: string[] = [];
  if (outcome.status === 'ok' && outcome.testAccuracy !== null) details.push(`test ${pct(outcome.testAccuracy)}`);
  if (outcome.status === 'diverged' && outcome.divergedAtStep !== undefined) details.push(`at step ${outcome.divergedAtStep}`);
  if (outcome.attempts > 1) details.push(`${outcome.attempts} attempts`);
  const paren = details.length > 0 ? ` (${details.join(', ')})` : '';
  switch (outcome.status) {
    case 'ok':
    case 'diverged':
      return `${outcome.name} ${outcome.status} in ${took}${paren}`;
    case 'failed':
      return `${outcome.name} failed in ${took}${paren}: ${outcome.error ?? 'unknown error'}`;
    case 'interrupted':
      return `${outcome.name} interrupted after ${took} (not recorded; --resume runs it again)`;
    case 'not-run':
      return `${outcome.name} not run`;
  }
}

/** The closing lines: counts, then every run that did not end ok, by name and id, with its reason. */
export function formatSuiteSummary(outcome: SuiteOutcome): string[] {
  const c = outcome.counts;
  const parts = [`${c.ok} ok`];
  if (c.diverged) parts.push(`${c.diverged} diverged`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.interrupted) parts.push(`${c.interrupted} interrupted`);
  if (c.notRun) parts.push(`${c.notRun} not run`);
  const skipped = c.skipped ? ` (${c.skipped} already complete, skipped)` : '';
  const lines = [
    `suite ${outcome.suite}${outcome.shard ? ` shard ${outcome.shard.index}/${outcome.shard.count}` : ''}: ${c.planned} runs: ${parts.join(', ')}${skipped} in ${formatDuration(outcome.seconds)}`,
  ];
  for (const run of outcome.runs) {
    if (run.status === 'diverged') {
      lines.push(
        `  diverged: ${run.name} (${run.id})${run.divergedAtStep !== undefined ? ` at step ${run.divergedAtStep}` : ''} -> ${run.resultFile}`,
      );
    } else if (run.status === 'failed') {
      lines.push(`  failed: ${run.name} (${run.id}): ${run.error ?? 'unknown error'} -> ${run.resultFile}`);
    }
  }
  if (outcome.interrupted) {
    lines.push(`interrupted: finished results are kept in ${outcome.outDir}; rerun with --resume to run the rest`);
  } else {
    lines.push(`results: ${outcome.outDir}`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------
// State shared by the displays

class SuiteTracker {
  total = 0;
  done = 0;
  readonly completedSeconds: number[] = [];
  current: { run: PlannedRun; index: number; startedAt: number; progress: ProgressEvent | null; lastStep: ProgressEvent | null } | null =
    null;

  constructor(private readonly now: () => number) {}

  update(event: SuiteEvent): void {
    switch (event.type) {
      case 'suite-started':
        this.total = event.total;
        break;
      case 'run-skipped':
        this.done++;
        break;
      case 'run-started':
        if (this.current?.run.id !== event.run.id) {
          this.current = { run: event.run, index: event.index, startedAt: this.now(), progress: null, lastStep: null };
        }
        break;
      case 'run-progress':
        if (this.current) {
          this.current.progress = event.progress;
          if (event.progress.event === 'step') this.current.lastStep = event.progress;
        }
        break;
      case 'run-finished':
        this.done++;
        if (event.outcome.status !== 'interrupted') this.completedSeconds.push(event.outcome.seconds);
        this.current = null;
        break;
      default:
        break;
    }
  }

  eta(): number | null {
    const cur = this.current;
    return estimateSuiteEta({
      completedSeconds: this.completedSeconds,
      remainingAfterCurrent: Math.max(0, this.total - this.done - (cur ? 1 : 0)),
      currentElapsed: cur ? (this.now() - cur.startedAt) / 1000 : null,
      currentFraction: cur?.progress ? progressFraction(cur.progress) : null,
    });
  }
}

const wallClock = () => performance.now();

// ---------------------------------------------------------------------------------------------------
// Displays

/** One line per event that matters; for logs and CI. */
export class PlainSuiteDisplay implements SuiteDisplay {
  private readonly tracker: SuiteTracker;

  constructor(
    private readonly out: TextSink,
    now: () => number = wallClock,
  ) {
    this.tracker = new SuiteTracker(now);
  }

  private line(text: string): void {
    this.out.write(`${text}\n`);
  }

  handle(event: SuiteEvent): void {
    this.tracker.update(event);
    switch (event.type) {
      case 'suite-started':
        this.line(
          `suite ${event.suite}: ${event.total} run${event.total === 1 ? '' : 's'} -> ${event.outDir}${event.resume ? ' (resuming)' : ''}`,
        );
        break;
      case 'run-skipped':
        this.line(`${tag(event.index, event.total)} ${event.run.name} skipped (already ${event.outcome.status})`);
        break;
      case 'run-started':
        this.line(
          `${tag(event.index, event.total)} ${event.run.name}: started${event.attempt > 1 ? ` (attempt ${event.attempt} of ${event.maxAttempts})` : ''}`,
        );
        break;
      case 'run-progress':
        // Steps are too frequent for a log; one line per epoch.
        if (event.progress.event === 'epoch') {
          const eta = this.tracker.eta();
          this.line(
            `${tag(event.index, event.total)} ${event.run.name}: ${formatProgress(event.progress)}${eta !== null ? `, suite ETA ${formatDuration(eta)}` : ''}`,
          );
        }
        break;
      case 'run-retrying':
        this.line(
          `${tag(event.index, event.total)} ${event.run.name}: ${event.reason}; retrying (attempt ${event.attempt + 1} of ${event.maxAttempts})`,
        );
        break;
      case 'run-finished':
        this.line(`${tag(event.index, event.total)} ${formatRunOutcome(event.outcome)}`);
        break;
      case 'suite-finished':
        for (const l of formatSuiteSummary(event.outcome)) this.line(l);
        break;
    }
  }
}

/** A live progress bar for an interactive terminal; finished runs scroll above it. */
export class TtySuiteDisplay implements SuiteDisplay {
  private readonly tracker: SuiteTracker;
  private readonly multi: MultiBar;
  private bar: SingleBar | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    now: () => number = wallClock,
  ) {
    this.tracker = new SuiteTracker(now);
    this.multi = new MultiBar(
      {
        stream,
        format: '{bar} {value}/{total} runs | {current} | {detail} | suite ETA {suiteEta}',
        barsize: 20,
        hideCursor: true,
        clearOnComplete: true,
        autopadding: true,
        fps: 5,
      },
      Presets.shades_classic,
    );
  }

  private payload(): Record<string, string> {
    const cur = this.tracker.current;
    let detail = 'starting';
    if (cur?.progress) {
      const epoch = `epoch ${cur.progress.epoch}/${cur.progress.epochs}`;
      const step = cur.lastStep?.event === 'step' ? ` step ${cur.lastStep.step}/${cur.lastStep.totalSteps}` : '';
      const test = cur.progress.event === 'epoch' ? ` test ${pct(cur.progress.testAccuracy)}` : '';
      detail = `${epoch}${step}${test}`;
    }
    return {
      current: cur ? `${tag(cur.index, this.tracker.total)} ${cur.run.name}` : '-',
      detail: cur ? detail : '-',
      suiteEta: formatDuration(this.tracker.eta()),
    };
  }

  private refresh(): void {
    this.bar?.update(this.tracker.done, this.payload());
  }

  /** Stops the bar (idempotent): flushes the lines logged above it, restores the cursor, ends the timers. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.multi.isActive) return;
    this.refresh();
    this.multi.update(); // MultiBar.log() only buffers; this writes the buffer before the bar goes
    this.multi.stop();
  }

  handle(event: SuiteEvent): void {
    this.tracker.update(event);
    switch (event.type) {
      case 'suite-started':
        this.bar = this.multi.create(event.total, 0, this.payload());
        this.timer = setInterval(() => this.refresh(), 1000);
        this.timer.unref();
        break;
      case 'run-skipped':
        this.multi.log(`${tag(event.index, event.total)} ${event.run.name} skipped (already ${event.outcome.status})\n`);
        break;
      case 'run-retrying':
        this.multi.log(
          `${tag(event.index, event.total)} ${event.run.name}: ${event.reason}; retrying (attempt ${event.attempt + 1} of ${event.maxAttempts})\n`,
        );
        break;
      case 'run-finished':
        this.multi.log(`${tag(event.index, event.total)} ${formatRunOutcome(event.outcome)}\n`);
        break;
      case 'suite-finished':
        this.close();
        for (const l of formatSuiteSummary(event.outcome)) this.stream.write(`${l}\n`);
        return;
      default:
        break;
    }
    this.refresh();
  }
}

export class SilentSuiteDisplay implements SuiteDisplay {
  handle(): void {}
}

export interface CreateDisplayOptions {
  /** Where human output goes (stdout normally; stderr when stdout carries --json). */
  readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  readonly quiet?: boolean;
  /** Default: stream.isTTY. */
  readonly tty?: boolean;
}

export function createSuiteDisplay(options: CreateDisplayOptions): SuiteDisplay {
  if (options.quiet) return new SilentSuiteDisplay();
  return (options.tty ?? options.stream.isTTY === true) ? new TtySuiteDisplay(options.stream) : new PlainSuiteDisplay(options.stream);
}
