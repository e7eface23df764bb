/** Time to a target accuracy and data-parallel scaling efficiency, from the runs' own timings. Pure. */
import type { RunResult } from '../results/runResult.js';
import type { Cell, Series } from './groupRuns.js';
import { summarize, type Summary } from '../util/stats.js';

export const DEFAULT_TARGET_FRACTION = 0.95;

export interface TargetChoice {
  /** Test accuracy (fraction) to reach. */
  target: number;
  /** Given explicitly (`--target`), or a fraction of the best mean final test accuracy in the set. */
  source: 'given' | 'best';
  fraction: number | null;
  /** The cell with the best mean final test accuracy (source 'best'). */
  best: Cell | null;
}

/** The target: as given, else `fraction` of the best mean final test accuracy; null when no run finished ok. */
export function chooseTarget(cells: readonly Cell[], given?: number, fraction = DEFAULT_TARGET_FRACTION): TargetChoice | null {
  if (given !== undefined) return { target: given, source: 'given', fraction: null, best: null };
  const withAccuracy = cells.filter((c) => c.testAccuracy !== null);
  if (withAccuracy.length === 0) return null;
  const best = withAccuracy.reduce((a, b) => (b.testAccuracy!.mean > a.testAccuracy!.mean ? b : a));
  return { target: fraction * best.testAccuracy!.mean, source: 'best', fraction, best };
}

/**
 * Training seconds until the first epoch whose test accuracy reaches `target`, or null. Epoch times
 * include that epoch's evaluation; the run's evaluation time is spread evenly over its epochs and taken out.
 */
export function runTimeToTarget(result: RunResult, target: number): { epoch: number; seconds: number } | null {
  const epochs = result.epochs;
  if (epochs.length === 0) return null;
  const evalPerEpoch = result.timing.phases.evaluation / epochs.length;
  let seconds = 0;
  for (const e of epochs) {
    seconds += Math.max(0, e.seconds - evalPerEpoch);
    if (e.testAccuracy >= target) return { epoch: e.epoch, seconds };
  }
  return null;
}

export interface CellTimeToTarget {
  cell: Cell;
  /** Ok runs that reached the target, of `total` ok runs. */
  reached: number;
  total: number;
  /** Over the runs that reached it. */
  seconds: Summary | null;
  epochs: Summary | null;
}

export function timeToTarget(cells: readonly Cell[], target: number): CellTimeToTarget[] {
  return cells
    .filter((c) => c.ok.length > 0)
    .map((cell) => {
      const hits = cell.ok.map((r) => runTimeToTarget(r.result, target)).filter((h) => h !== null);
      return {
        cell,
        reached: hits.length,
        total: cell.ok.length,
        seconds: summarize(hits.map((h) => h.seconds)),
        epochs: summarize(hits.map((h) => h.epoch)),
      };
    });
}

export interface ScalingRow {
  series: Series;
  batchSize: number;
  workers: number;
  samplesPerSecond: Summary;
  /** The same optimizer configuration and global batch on one worker. */
  singleWorker: Summary;
  /** samples/s at w workers / (w x samples/s at 1 worker). */
  efficiency: number;
}

/** One row per multi-worker cell that has a single-worker counterpart (same label, sweep values and batch). */
export function scalingEfficiency(cells: readonly Cell[]): ScalingRow[] {
  const base = (s: Series) => JSON.stringify([s.optimizerLabel, s.sweep]);
  const rows: ScalingRow[] = [];
  for (const cell of cells) {
    if (cell.series.workers === 1 || cell.samplesPerSecond === null) continue;
    const single = cells.find((c) => c.series.workers === 1 && c.batchSize === cell.batchSize && base(c.series) === base(cell.series));
    if (!single?.samplesPerSecond || single.samplesPerSecond.mean <= 0) continue;
    rows.push({
      series: cell.series,
      batchSize: cell.batchSize,
      workers: cell.series.workers,
      samplesPerSecond: cell.samplesPerSecond,
      singleWorker: single.samplesPerSecond,
      efficiency: cell.samplesPerSecond.mean / (cell.series.workers * single.samplesPerSecond.mean),
    });
  }
  return rows;
}
