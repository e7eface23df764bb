/**
 * One-parameter sweeps: where one optimizer at one batch size was run over one numeric
 * hyper-parameter (a learning-rate sweep), its cells are points on a curve — accuracy against that
 * value — which says more than a row per value in a table.
 */
import { cellsByStudy, type Cell, type Grouped } from './groupRuns.js';

export interface SweepCurve {
  optimizerLabel: string;
  batchSize: number;
  workers: number;
  /** The swept config path, e.g. `optimizer.lr`. */
  path: string;
  /** Ascending by value; every cell of the group, whatever its status. */
  points: { value: number; cell: Cell }[];
}

/** A sweep needs this many values to be drawn as a curve. */
export const MIN_SWEEP_POINTS = 3;

export function sweepCurves(grouped: Grouped): SweepCurve[] {
  const curves: SweepCurve[] = [];
  for (const cells of cellsByStudy(grouped)) {
    const paths = [...new Set(cells.flatMap((c) => Object.keys(c.series.sweep)))];
    if (paths.length !== 1) continue;
    const [path] = paths;
    const values = cells.map((c) => c.series.sweep[path]);
    if (!values.every((v): v is number => typeof v === 'number') || new Set(values).size < MIN_SWEEP_POINTS) continue;
    const first = cells[0];
    curves.push({
      optimizerLabel: first.series.optimizerLabel,
      batchSize: first.batchSize,
      workers: first.series.workers,
      path,
      points: cells.map((cell, i) => ({ value: values[i], cell })).sort((a, b) => a.value - b.value),
    });
  }
  return curves;
}

/** A file-name-safe chart name for the curves of one swept path. */
export function sweepChartFile(path: string): string {
  return `sweep-${path.slice(path.lastIndexOf('.') + 1)}.svg`.replace(/[^A-Za-z0-9._-]/g, '_');
}
