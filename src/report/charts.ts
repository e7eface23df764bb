/**
 * The report's charts as Vega-Lite specs (pure), rendered to SVG headlessly by Vega (no browser, no
 * canvas: renderer 'none' + toSVG, text widths estimated). Same data in, same SVG out.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Cell, Grouped } from './groupRuns.js';
import { sensitivityChartFile, sensitivityGrids, type SensitivityGrid } from './sensitivity.js';
import { summarize, type Summary } from '../util/stats.js';
import { hasValidationCurve } from './runCurve.js';
import { divergedTargetCells, targetCells } from './stepsToTarget.js';
import { targetChart } from './targetCharts.js';
import { sweepChartFile, sweepCurves, type SweepCurve } from './sweeps.js';

export interface ChartFile {
  /** File name, e.g. `accuracy-vs-batch.svg`. */
  file: string;
  title: string;
  spec: TopLevelSpec;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** Consistent colours: every chart gets the same domain, the series with an ok run, in series order. */
function colorOf(grouped: Grouped) {
  const plotted = new Set(okCells(grouped).map((c) => c.series.key));
  const domain = grouped.series.filter((s) => plotted.has(s.key)).map((s) => s.display);
  // Up to 20 distinguishable colours (sweeps make many series); full labels in the legend.
  return {
    field: 'optimizer',
    type: 'nominal' as const,
    title: 'optimizer',
    scale: { domain, scheme: domain.length > 10 ? 'tableau20' : 'tableau10' },
    legend: { labelLimit: 400 },
  };
}

function okCells(grouped: Grouped): Cell[] {
  return grouped.cells.filter((c) => c.testAccuracy !== null);
}

/** What a by-batch chart plots: a per-cell summary (a fraction) and its names. */
interface ByBatchMetric {
  file: string;
  title: string;
  axis: string;
  summary: (c: Cell) => Summary | null;
}

/** A per-cell metric vs global batch size (log2 axis), one line per series, error bars = ±1 sample std. */
function byBatchChart(grouped: Grouped, metric: ByBatchMetric): ChartFile {
  const values = okCells(grouped).flatMap((c) => {
    const a = metric.summary(c);
    if (a === null) return [];
    const std = a.std ?? 0;
    return [
      {
        optimizer: c.series.display,
        batch: c.batchSize,
        mean: round(100 * a.mean),
        lo: round(100 * (a.mean - std)),
        hi: round(100 * (a.mean + std)),
        seeds: a.n,
      },
    ];
  });
  const batches = [...new Set(values.map((v) => v.batch))].sort((a, b) => a - b);
  const lo = batches.length > 0 ? batches[0] : 1;
  const hi = batches.length > 0 ? batches[batches.length - 1] : 2;
  const x = {
    field: 'batch',
    type: 'quantitative' as const,
    title: 'global batch size (log2 scale)',
    scale: { type: 'log' as const, base: 2, domain: [lo / Math.SQRT2, hi * Math.SQRT2], nice: false },
    axis: { values: batches, format: 'd', grid: false },
  };
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: metric.title,
    width: 440,
    height: 300,
    background: 'white',
    data: { values },
    encoding: { x, color: colorOf(grouped) },
    layer: [
      {
        mark: { type: 'line', point: { filled: true, size: 50 } },
        encoding: { y: { field: 'mean', type: 'quantitative', title: metric.axis, scale: { zero: false } } },
      },
      {
        mark: { type: 'rule', strokeWidth: 1.5 },
        encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
      },
    ],
  };
  return { file: metric.file, title: metric.title, spec };
}

/** Final test accuracy vs global batch size. */
export function accuracyVsBatchChart(grouped: Grouped): ChartFile {
  return byBatchChart(grouped, {
    file: 'accuracy-vs-batch.svg',
    title: 'Final test accuracy vs batch size (mean ± std over seeds)',
    axis: 'test accuracy (%)',
    summary: (c) => c.testAccuracy,
  });
}

/** Generalization gap (train − test accuracy) vs global batch size. */
export function gapVsBatchChart(grouped: Grouped): ChartFile {
  return byBatchChart(grouped, {
    file: 'gap-vs-batch.svg',
    title: 'Generalization gap (train − test accuracy) vs batch size (mean ± std over seeds)',
    axis: 'train − test accuracy (points)',
    summary: (c) => c.gap,
  });
}

/**
 * Learning curves, one panel per batch size. Runs with an evaluation curve (every one of them): validation
 * accuracy against optimizer steps (log scale), one line per seed, since seeds stop at different steps and a
 * mean would jump where one ends. Older runs: test accuracy per epoch, mean over ok seeds.
 */
export function learningCurvesChart(grouped: Grouped): ChartFile {
  if (plotsEvaluationCurves(grouped)) return evaluationCurvesChart(grouped);
  const values: { optimizer: string; batch: number; epoch: number; accuracy: number }[] = [];
  for (const c of okCells(grouped)) {
    const maxEpoch = Math.max(...c.ok.map((r) => r.result.epochs.length));
    for (let epoch = 1; epoch <= maxEpoch; epoch++) {
      const s = summarize(c.ok.map((r) => r.result.epochs.find((e) => e.epoch === epoch)?.testAccuracy).filter((a) => a !== undefined));
      if (s) values.push({ optimizer: c.series.display, batch: c.batchSize, epoch, accuracy: round(100 * s.mean) });
    }
  }
  return curvesByBatch(grouped, 'Test accuracy per epoch (mean over seeds), by global batch size', values, {
    mark: { type: 'line', point: { filled: true, size: 30 } },
    x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { zero: false } },
    yTitle: 'test accuracy (%)',
  });
}

/** The learning-curves chart plots validation accuracy per evaluation (not test accuracy per epoch). */
export function plotsEvaluationCurves(grouped: Grouped): boolean {
  const ok = okCells(grouped).flatMap((c) => c.ok);
  return ok.length > 0 && ok.every((r) => hasValidationCurve(r.result));
}

function evaluationCurvesChart(grouped: Grouped): ChartFile {
  const values: { optimizer: string; batch: number; seed: number; step: number; accuracy: number }[] = [];
  for (const c of okCells(grouped))
    for (const r of c.ok)
      for (const e of r.result.evaluations ?? [])
        if (e.step > 0 && e.validationAccuracy !== undefined)
          values.push({
            optimizer: c.series.display,
            batch: c.batchSize,
            seed: r.seed,
            step: e.step,
            accuracy: round(100 * e.validationAccuracy),
          });
  return curvesByBatch(grouped, 'Validation accuracy vs optimizer steps (one line per seed), by global batch size', values, {
    mark: { type: 'line', point: { filled: true, size: 12 }, strokeWidth: 1 },
    x: { field: 'step', type: 'quantitative', title: 'optimizer steps', scale: { type: 'log' } },
    yTitle: 'validation accuracy (%)',
    // One line per seed: seeds stop at different steps, so a mean would jump where one ends.
    detail: { field: 'seed', type: 'nominal' },
  });
}

/** Accuracy curves, one line per series (and per `detail`), one panel per batch size, four panels a row. */
function curvesByBatch(
  grouped: Grouped,
  title: string,
  values: Record<string, number | string>[],
  layout: {
    mark: { type: 'line'; point: { filled: boolean; size: number }; strokeWidth?: number };
    x: {
      field: string;
      type: 'quantitative';
      title: string;
      axis?: { tickMinStep: number; format: string };
      scale: { zero: false } | { type: 'log' };
    };
    yTitle: string;
    detail?: { field: string; type: 'nominal' };
  },
): ChartFile {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    background: 'white',
    data: { values },
    // Wrapped, four panels a row: seven batch sizes in one row are too wide to read on GitHub.
    facet: { field: 'batch', type: 'ordinal', title: 'global batch size', sort: 'ascending' },
    columns: 4,
    spec: {
      width: 220,
      height: 200,
      mark: layout.mark,
      encoding: {
        x: layout.x,
        y: { field: 'accuracy', type: 'quantitative', title: layout.yTitle, scale: { zero: false } },
        color: colorOf(grouped),
        ...(layout.detail ? { detail: layout.detail, order: { field: 'step', type: 'quantitative' } } : {}),
      },
    },
  };
  return { file: 'learning-curves.svg', title, spec };
}

/** The accuracy below which a heatmap cell is dark: the lower third of the plotted range. */
function darkBelow(values: readonly { accuracy: number | null }[]): number {
  const plotted = values.flatMap((v) => (v.accuracy === null ? [] : [v.accuracy]));
  if (plotted.length === 0) return 0;
  const lo = Math.min(...plotted);
  return round(lo + (Math.max(...plotted) - lo) / 3);
}

/** A two-parameter sweep as a heatmap of mean final test accuracy, the value written in each cell. */
export function sensitivityChart(grid: SensitivityGrid): ChartFile {
  const short = (p: string) => p.slice(p.lastIndexOf('.') + 1);
  const values: { row: string; column: string; accuracy: number | null; label: string }[] = [];
  grid.rowValues.forEach((r, i) => {
    grid.columnValues.forEach((c, j) => {
      const cell = grid.cells[i][j];
      const a = cell?.testAccuracy;
      const failed = cell && !a ? cell.runs.map((x) => x.result.status).find((st) => st !== 'ok') : undefined;
      // A mean over fewer seeds than ran says so: "86.82 (1/2)".
      const partial = cell && a && cell.ok.length < cell.runs.length ? ` (${cell.ok.length}/${cell.runs.length})` : '';
      values.push({
        row: String(r),
        column: String(c),
        accuracy: a ? round(100 * a.mean) : null,
        label: a ? `${(100 * a.mean).toFixed(2)}${partial}` : (failed ?? 'not run'),
      });
    });
  });
  const title = `${grid.optimizerLabel} at batch ${grid.batchSize}: final test accuracy (%) by ${short(grid.rowPath)} and ${short(grid.columnPath)}`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    background: 'white',
    data: { values },
    width: 60 * grid.columnValues.length,
    height: 36 * grid.rowValues.length,
    encoding: {
      x: { field: 'column', type: 'ordinal', title: short(grid.columnPath), sort: grid.columnValues.map(String) },
      y: { field: 'row', type: 'ordinal', title: short(grid.rowPath), sort: grid.rowValues.map(String) },
    },
    layer: [
      {
        mark: 'rect',
        encoding: { color: { field: 'accuracy', type: 'quantitative', title: 'test acc. (%)', scale: { scheme: 'viridis' } } },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'label', type: 'nominal' },
          // White on the dark (low) end of viridis, black elsewhere.
          color: {
            condition: { test: `datum.accuracy !== null && datum.accuracy < ${darkBelow(values)}`, value: 'white' },
            value: 'black',
          },
        },
      },
    ],
  };
  return { file: sensitivityChartFile(grid), title, spec };
}

/**
 * The curves of one swept path: final test accuracy against the swept value (log axis when the values
 * span two decades or more), one line per optimizer, one panel per batch size. Diverged and failed
 * points are drawn as crosses on the panel's floor, so a reader sees where each optimizer stops.
 */
export function sweepChart(curves: readonly SweepCurve[]): ChartFile {
  const path = curves[0].path;
  const short = path.slice(path.lastIndexOf('.') + 1);
  const values: { optimizer: string; batch: string; batchOrder: number; value: number; accuracy: number | null; status: string }[] = [];
  for (const curve of curves) {
    const batch = curve.workers > 1 ? `${curve.batchSize} (w=${curve.workers})` : String(curve.batchSize);
    for (const { value, cell } of curve.points) {
      const a = cell.testAccuracy;
      const status = a ? 'ok' : (cell.runs.map((r) => r.result.status).find((st) => st !== 'ok') ?? 'not run');
      values.push({
        optimizer: curve.optimizerLabel,
        batch,
        batchOrder: curve.batchSize,
        value,
        accuracy: a ? round(100 * a.mean) : null,
        status,
      });
    }
  }
  const all = values.map((v) => v.value);
  const logScale = Math.min(...all) > 0 && Math.max(...all) / Math.min(...all) >= 100;
  const floor = Math.floor(Math.min(...values.flatMap((v) => (v.accuracy === null ? [] : [v.accuracy])), 100) - 1);
  // Series order (the paper's: sgd, ngd, smoothed-ngd, smoothed-sgd), not alphabetical.
  const domain = [...new Set(curves.map((c) => c.optimizerLabel))];
  const color = { field: 'optimizer', type: 'nominal' as const, title: 'optimizer', scale: { domain, scheme: 'tableau10' } };
  const x = {
    field: 'value',
    type: 'quantitative' as const,
    title: `${short}${logScale ? ' (log scale)' : ''}`,
    scale: logScale ? { type: 'log' as const } : { zero: false },
  };
  const title = `Final test accuracy by ${short} (mean over seeds; × = diverged or failed)`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    background: 'white',
    data: { values },
    facet: { column: { field: 'batch', type: 'ordinal', title: 'global batch size', sort: { field: 'batchOrder', op: 'min' } } },
    spec: {
      width: 260,
      height: 220,
      layer: [
        {
          transform: [{ filter: 'datum.accuracy !== null' }],
          mark: { type: 'line', point: { filled: true, size: 40 } },
          encoding: { x, y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy (%)', scale: { zero: false } }, color },
        },
        {
          transform: [{ filter: 'datum.accuracy === null' }, { calculate: String(floor), as: 'floor' }],
          mark: { type: 'point', shape: 'cross', size: 80, filled: true },
          encoding: { x, y: { field: 'floor', type: 'quantitative' }, color },
        },
      ],
    },
  };
  return { file: sweepChartFile(path), title, spec };
}

/** One chart per swept path with one-parameter sweeps. */
export function sweepCharts(grouped: Grouped): ChartFile[] {
  const curves = sweepCurves(grouped);
  return [...new Set(curves.map((c) => c.path))].map((path) => sweepChart(curves.filter((c) => c.path === path)));
}

/** The charts a report links, in order; none when no run finished ok. */
export function reportCharts(grouped: Grouped): ChartFile[] {
  if (okCells(grouped).length === 0) return [];
  const targets = targetCells(grouped);
  const diverged = divergedTargetCells(grouped);
  return [
    accuracyVsBatchChart(grouped),
    gapVsBatchChart(grouped),
    learningCurvesChart(grouped),
    ...(targets.length > 0 ? [targetChart(targets, 'steps', diverged), targetChart(targets, 'samples', diverged)] : []),
    ...sensitivityGrids(grouped).map(sensitivityChart),
    ...sweepCharts(grouped),
  ];
}

/** The charts a supporting study contributes to another report: its grids and sweeps, file names prefixed. */
export function supplementCharts(grouped: Grouped, prefix: string): ChartFile[] {
  if (okCells(grouped).length === 0) return [];
  return [...sensitivityGrids(grouped).map(sensitivityChart), ...sweepCharts(grouped)].map((c) => ({ ...c, file: `${prefix}${c.file}` }));
}

/** Renders a Vega-Lite spec to an SVG document (Vega loads on the first chart: commands that draw none start faster). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg.endsWith('\n') ? svg : `${svg}\n`;
  } finally {
    view.finalize();
  }
}
