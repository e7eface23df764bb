/**
 * Steps (or samples) to target against global batch size, log–log, as a Vega-Lite spec: one line per
 * optimizer (mean over the seeds that met the target, the seed range as a bar), its perfect-scaling
 * line from its smallest batch size dashed, cells that mostly missed the target as crosses drawn
 * at the steps they ran (their budget), and cells whose every run diverged as hollow triangles at the
 * step they diverged (a diverged run is an outcome: leaving it off would hide where an optimizer broke). Pure.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ChartFile } from './charts.js';
import { criticalBatchSizes, type DivergedTargetCell, perfectSteps, type TargetCell } from './stepsToTarget.js';

export type TargetMeasure = 'steps' | 'samples';

export const targetChartFile = (measure: TargetMeasure) => `${measure}-to-target.svg`;

interface Row {
  kind: 'mean' | 'ideal' | 'missed' | 'diverged';
  optimizer: string;
  batch: number;
  y: number;
  lo?: number;
  hi?: number;
}

export function targetChart(cells: readonly TargetCell[], measure: TargetMeasure, diverged: readonly DivergedTargetCell[] = []): ChartFile {
  const per = (t: { cell: TargetCell['cell'] }, steps: number) => (measure === 'steps' ? steps : steps * t.cell.batchSize);
  const rows: Row[] = [];
  for (const t of cells) {
    const s = measure === 'steps' ? t.steps : t.samples;
    const optimizer = t.cell.series.display;
    if (t.mostlyReached && s) rows.push({ kind: 'mean', optimizer, batch: t.cell.batchSize, y: s.mean, lo: s.min, hi: s.max });
    else rows.push({ kind: 'missed', optimizer, batch: t.cell.batchSize, y: per(t, t.stepsRun) });
  }
  for (const d of diverged) rows.push({ kind: 'diverged', optimizer: d.cell.series.display, batch: d.cell.batchSize, y: per(d, d.step) });
  for (const c of criticalBatchSizes(cells)) {
    if (!c.base) continue;
    for (const p of c.points)
      rows.push({ kind: 'ideal', optimizer: c.series.display, batch: p.batchSize, y: per(p.target, perfectSteps(c.base, p.batchSize)) });
  }
  const all = [...cells, ...diverged];
  const batches = [...new Set(all.map((t) => t.cell.batchSize))].sort((a, b) => a - b);
  const domain = [...new Set(all.map((t) => t.cell.series.display))];
  const what = measure === 'steps' ? 'Steps' : 'Training samples';
  const title = `${what} to target vs batch size`;
  const subtitle = `mean of seeds that met it (bar: range) · dashed: perfect scaling · ×: mostly missed${diverged.length > 0 ? ' · △: every seed diverged (at that step)' : ''}`;
  const x = {
    field: 'batch',
    type: 'quantitative' as const,
    title: 'global batch size (log2 scale)',
    scale: { type: 'log' as const, base: 2, domain: [batches[0] / Math.SQRT2, batches[batches.length - 1] * Math.SQRT2], nice: false },
    axis: { values: batches, format: 'd', grid: false },
  };
  const y = (field: string) => ({
    field,
    type: 'quantitative' as const,
    title: `${measure} to target (log scale)`,
    scale: { type: 'log' as const },
  });
  const only = (kind: Row['kind']) => [{ filter: `datum.kind === '${kind}'` }];
  const divergedLayer = {
    transform: only('diverged'),
    mark: { type: 'point' as const, shape: 'triangle-up', size: 90, filled: false, strokeWidth: 2 },
    encoding: { y: y('y') },
  };
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle, anchor: 'start' },
    width: 440,
    height: 300,
    background: 'white',
    data: { values: rows },
    encoding: {
      x,
      color: {
        field: 'optimizer',
        type: 'nominal',
        title: 'optimizer',
        scale: { domain, scheme: 'tableau10' },
        legend: { labelLimit: 400 },
      },
    },
    layer: [
      { transform: only('ideal'), mark: { type: 'line', strokeDash: [4, 4], strokeWidth: 1 }, encoding: { y: y('y') } },
      { transform: only('mean'), mark: { type: 'line', point: { filled: true, size: 50 } }, encoding: { y: y('y') } },
      { transform: only('mean'), mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { y: y('lo'), y2: { field: 'hi' } } },
      { transform: only('missed'), mark: { type: 'point', shape: 'cross', size: 90, filled: true }, encoding: { y: y('y') } },
      // Only where some cell diverged, so that charts without one stay as they were.
      ...(diverged.length > 0 ? [divergedLayer] : []),
    ],
  };
  return { file: targetChartFile(measure), title, spec };
}
