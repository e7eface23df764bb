/**
 * From result files to the report's units: one view per run (its optimizer, batch, workers, seed and
 * sweep values, read from the harness's identity when present, else from the config), series (an
 * optimizer label with its sweep values and worker count) and cells (a series at one global batch
 * size), each summarized over seeds.
 */
import type { OptimizerName } from '../config/trainConfig.js';
import type { RunResult } from '../results/runResult.js';
import type { SweepValue } from '../suite/plannedRun.js';
import type { LoadedRun } from './resultSet.js';
import { summarize, type Summary } from '../util/stats.js';

export interface RunView {
  id: string;
  /** Run name (`<label>-b<batch>-w<workers>-s<seed>...`), or the id for runs outside a suite. */
  name: string;
  file: string;
  suite: string | null;
  optimizerLabel: string;
  optimizerName: OptimizerName;
  batchSize: number;
  workers: number;
  seed: number;
  sweep: Record<string, SweepValue>;
  result: RunResult;
}

export interface Series {
  key: string;
  optimizerLabel: string;
  optimizerName: OptimizerName;
  sweep: Record<string, SweepValue>;
  workers: number;
  /** What tables and legends call it: the label, then sweep values and the worker count when not 1. */
  display: string;
}

export interface Cell {
  series: Series;
  batchSize: number;
  /** Every run of the cell, any status, by seed. */
  runs: RunView[];
  /** Runs with status ok (and final metrics), by seed. */
  ok: RunView[];
  testAccuracy: Summary | null;
  /** Final validation accuracy; null unless every ok run measured one (then configurations are picked on it). */
  validationAccuracy: Summary | null;
  trainAccuracy: Summary | null;
  /** trainAccuracy - testAccuracy. */
  gap: Summary | null;
  samplesPerSecond: Summary | null;
  trainSeconds: Summary | null;
}

export interface Grouped {
  runs: RunView[];
  series: Series[];
  /** Ordered by series, then batch size. */
  cells: Cell[];
  batchSizes: number[];
  /** The worker counts that ran at each batch size. */
  workersAt: Map<number, number[]>;
}

/** The paper's order: the baseline, the method that fails, the fix, the ablation. */
const NAME_ORDER: readonly OptimizerName[] = ['sgd', 'ngd', 'smoothed-ngd', 'smoothed-sgd', 'sam-ngd', 'sam-sgd'];

export function runView(loaded: LoadedRun): RunView {
  const { result, file } = loaded;
  const id = result.run?.id ?? file.replace(/\.json$/, '');
  return {
    id,
    name: result.run?.name ?? id,
    file,
    suite: result.run?.suite ?? null,
    optimizerLabel: result.run?.optimizerLabel ?? result.config.optimizer.name,
    optimizerName: result.config.optimizer.name,
    batchSize: result.config.batchSize,
    workers: result.parallel?.workers ?? 1,
    seed: result.config.seed,
    sweep: result.run?.sweep ?? {},
    result,
  };
}

/** Short names for swept paths: the last segment, or the whole path when two paths share it. */
function sweepNames(paths: readonly string[]): Map<string, string> {
  const last = (p: string) => p.slice(p.lastIndexOf('.') + 1);
  return new Map(paths.map((p) => [p, paths.filter((q) => last(q) === last(p)).length > 1 ? p : last(p)]));
}

function compareValues(a: SweepValue, b: SweepValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = JSON.stringify(a);
  const sb = JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function compareSeries(a: Series, b: Series): number {
  const rank = (s: Series) => NAME_ORDER.indexOf(s.optimizerName);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (a.optimizerLabel !== b.optimizerLabel) return a.optimizerLabel < b.optimizerLabel ? -1 : 1;
  const paths = [...new Set([...Object.keys(a.sweep), ...Object.keys(b.sweep)])].sort();
  for (const p of paths) {
    const c = compareValues(a.sweep[p] ?? null, b.sweep[p] ?? null);
    if (c !== 0) return c;
  }
  return a.workers - b.workers;
}

const sortedSweep = (sweep: Record<string, SweepValue>) =>
  Object.fromEntries(Object.entries(sweep).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

function cellOf(series: Series, batchSize: number, runs: RunView[]): Cell {
  runs.sort((a, b) => a.seed - b.seed || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ok = runs.filter((r) => r.result.status === 'ok' && r.result.final !== null);
  const finals = ok.map((r) => r.result.final!);
  return {
    series,
    batchSize,
    runs,
    ok,
    testAccuracy: summarize(finals.map((f) => f.testAccuracy)),
    validationAccuracy: finals.every((f) => f.validationAccuracy !== undefined)
      ? summarize(finals.map((f) => f.validationAccuracy!))
      : null,
    trainAccuracy: summarize(finals.map((f) => f.trainAccuracy)),
    gap: summarize(finals.map((f) => f.trainAccuracy - f.testAccuracy)),
    samplesPerSecond: summarize(ok.map((r) => r.result.timing.samplesPerSecond)),
    trainSeconds: summarize(ok.map((r) => r.result.timing.trainSeconds)),
  };
}

/** Groups runs by (optimizer label, sweep values, workers) and batch size, across seeds. */
export function groupRuns(loaded: readonly LoadedRun[]): Grouped {
  const runs = loaded.map(runView);
  const names = sweepNames([...new Set(runs.flatMap((r) => Object.keys(r.sweep)))].sort());
  // The worker count splits series only where one configuration ran at one batch size with several
  // worker counts (a scaling comparison); a suite that runs its largest batches on 2 workers keeps one
  // row per optimizer, since N workers compute what one does.
  const configAtBatch = (run: RunView) => JSON.stringify([run.optimizerLabel, sortedSweep(run.sweep), run.batchSize]);
  const workerCounts = new Map<string, Set<number>>();
  for (const run of runs) workerCounts.set(configAtBatch(run), (workerCounts.get(configAtBatch(run)) ?? new Set()).add(run.workers));
  const seriesByKey = new Map<string, Series>();
  const cellRuns = new Map<string, RunView[]>();
  for (const run of runs) {
    const sweep = sortedSweep(run.sweep);
    const workers = workerCounts.get(configAtBatch(run))!.size > 1 ? run.workers : 1;
    const key = JSON.stringify([run.optimizerLabel, sweep, workers]);
    if (!seriesByKey.has(key)) {
      const parts = [run.optimizerLabel, ...Object.entries(sweep).map(([p, v]) => `${names.get(p)}=${String(v)}`)];
      if (workers !== 1) parts.push(`w=${workers}`);
      seriesByKey.set(key, {
        key,
        optimizerLabel: run.optimizerLabel,
        optimizerName: run.optimizerName,
        sweep,
        workers,
        display: parts.join(' '),
      });
    }
    const cellKey = JSON.stringify([key, run.batchSize]);
    cellRuns.set(cellKey, [...(cellRuns.get(cellKey) ?? []), run]);
  }
  const series = [...seriesByKey.values()].sort(compareSeries);
  const batchSizes = [...new Set(runs.map((r) => r.batchSize))].sort((a, b) => a - b);
  const workersAt = new Map(
    batchSizes.map((b) => [b, [...new Set(runs.filter((r) => r.batchSize === b).map((r) => r.workers))].sort((x, y) => x - y)]),
  );
  const cells: Cell[] = [];
  for (const s of series) {
    for (const b of batchSizes) {
      const members = cellRuns.get(JSON.stringify([s.key, b]));
      if (members) cells.push(cellOf(s, b, members));
    }
  }
  return { runs: [...runs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), series, cells, batchSizes, workersAt };
}

/** The cell of a series at a batch size, if any run landed there. */
export function cellAt(grouped: Grouped, series: Series, batchSize: number): Cell | undefined {
  return grouped.cells.find((c) => c.series.key === series.key && c.batchSize === batchSize);
}

/** Cells grouped by optimizer label, batch size and worker count: one group per sweep study (in cell order). */
export function cellsByStudy(grouped: Grouped): Cell[][] {
  const groups = new Map<string, Cell[]>();
  for (const cell of grouped.cells) {
    const key = JSON.stringify([cell.series.optimizerLabel, cell.batchSize, cell.series.workers]);
    groups.set(key, [...(groups.get(key) ?? []), cell]);
  }
  return [...groups.values()];
}
