/**
 * Two-parameter sensitivity grids: where one optimizer at one batch size was swept over exactly two
 * hyper-parameters (e.g. smoothing amplitude x damping), its cells form a grid that reads better as
 * a table (rows: first parameter, columns: second) and a heatmap than as a list of series.
 */
import type { SweepValue } from '../suite/plannedRun.js';
import { cellsByStudy, type Cell, type Grouped } from './groupRuns.js';

export interface SensitivityGrid {
  optimizerLabel: string;
  batchSize: number;
  workers: number;
  /** Swept config paths: rows, then columns. */
  rowPath: string;
  columnPath: string;
  rowValues: SweepValue[];
  columnValues: SweepValue[];
  /** cells[i][j]: row value i, column value j (undefined when that combination did not run). */
  cells: (Cell | undefined)[][];
}

const sortValues = (values: SweepValue[]) =>
  [...new Set(values)].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1));

export function sensitivityGrids(grouped: Grouped): SensitivityGrid[] {
  const grids: SensitivityGrid[] = [];
  for (const cells of cellsByStudy(grouped)) {
    const paths = [...new Set(cells.flatMap((c) => Object.keys(c.series.sweep)))].sort();
    if (paths.length !== 2) continue;
    // Rows: the path with more values (the one the study is about, usually); ties: alphabetical.
    const valuesOf = (p: string) => sortValues(cells.map((c) => c.series.sweep[p] ?? null));
    const [rowPath, columnPath] = valuesOf(paths[1]).length > valuesOf(paths[0]).length ? [paths[1], paths[0]] : paths;
    const rowValues = valuesOf(rowPath);
    const columnValues = valuesOf(columnPath);
    if (rowValues.length < 2 || columnValues.length < 2) continue;
    const at = (r: SweepValue, c: SweepValue) => cells.find((x) => x.series.sweep[rowPath] === r && x.series.sweep[columnPath] === c);
    const first = cells[0];
    grids.push({
      optimizerLabel: first.series.optimizerLabel,
      batchSize: first.batchSize,
      workers: first.series.workers,
      rowPath,
      columnPath,
      rowValues,
      columnValues,
      cells: rowValues.map((r) => columnValues.map((c) => at(r, c))),
    });
  }
  return grids;
}

/** A file-name-safe chart name for a grid. */
export function sensitivityChartFile(grid: SensitivityGrid): string {
  return `sensitivity-${grid.optimizerLabel}-b${grid.batchSize}.svg`.replace(/[^A-Za-z0-9._-]/g, '_');
}
