/**
 * Steps (or samples) to target against global batch size, log–log, as a Vega-Lite spec: one line per
 * optimizer (mean over the seeds that met the target, the seed range as a bar), its perfect-scaling
 * line from its smallest batch size dashed, and cells that mostly missed the target as crosses drawn
 * at the steps they ran (their budget). Pure.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ChartFile } from './charts.js';
import { criticalBatchSizes, perfectSteps, type TargetCell } from './stepsToTarget.js';

export type TargetMeasure = 'steps' | 'samples';

export const targetChartFile = (measure: TargetMeasure) => `${measure}-to-target.svg`;

interface Row {
  kind: 'mean' | 'ideal' | 'missed';
  optimizer: string;
  batch: number;
  y: number;
  lo?: number;
  hi?: number;
}

export function targetChart(cells: readonly TargetCell[], measure: TargetMeasure): ChartFile {
  const per = (t: TargetCell, steps: number) => (measure === 'steps' ? steps : steps * t.cell.batchSize);
  const rows: Row[] = [];
  for (const t of cells) {
    const s = measure === 'steps' ? t.steps : t.samples;
    const optimizer = t.cell.series.display;
    if (t.mostlyReached && s) rows.push({ kind: 'mean', optimizer, batch: t.cell.batchSize, y: s.mean, lo: s.min, hi: s.max });
    else rows.push({ kind: 'missed', optimizer, batch: t.cell.batchSize, y: per(t, t.stepsRun) });
  }
  for (const c of criticalBatchSizes(cells)) {
    if (!c.base) continue;
    for (const p of c.points)
      rows.push({ kind: 'ideal', optimizer: c.series.display, batch: p.batchSize, y: per(p.target, perfectSteps(c.base, p.batchSize)) });
  }
  const batches = [...new Set(cells.map((t) => t.cell.batchSize))].sort((a, b) => a - b);
  const domain = [...new Set(cells.map((t) => t.cell.series.display))];
  const what = measure === 'steps' ? 'Steps' : 'Training samples';
  const title = `${what} to target vs batch size`;
  const subtitle = 'mean of seeds that met it (bar: range) · dashed: perfect scaling · ×: mostly missed';
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
    ],
  };
  return { file: targetChartFile(measure), title, spec };
}
