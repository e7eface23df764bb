/**
 * Our runs against a published reference (e.g. DeepOBS's baselines): test accuracy after each epoch,
 * ours per seed against the publisher's mean, sample std and range over its seeds, with a verdict at the
 * last epoch every one of our runs reached. Pure: result JSON and the reference in, tables and a chart out.
 */
import type { TopLevelSpec } from 'vega-lite';
import { InputFileError } from '../util/errors.js';
import { cell, code, listing, pct, pctSummary, plural, points } from '../util/format.js';
import { nearest } from '../util/nearest.js';
import { summarize, type Summary } from '../util/stats.js';
import type { ChartFile } from './charts.js';
import type { Grouped, RunView } from './groupRuns.js';
import type { PublishedReference, ReferenceCurve } from './referenceSchema.js';

export type ReferenceVerdict = 'within' | 'below' | 'above';

export interface ReferenceRow {
  epoch: number;
  /** Our test accuracy after this epoch, one per ok run, in seed order. */
  ours: number[];
  oursSummary: Summary;
  published: Summary;
}

export interface CurveComparison {
  curve: ReferenceCurve;
  /** Our ok runs of the curve's label and batch size, in seed order. */
  ok: RunView[];
  /** Our runs of that label and batch size that diverged or failed. */
  notOk: RunView[];
  /** Runs of that label and batch size the results directory's manifest plans and that have no result yet. */
  pending: number;
  rows: ReferenceRow[];
  /** At the last row: where our mean lies against the published range, and by how much outside it (fraction). */
  verdict: { epoch: number; kind: ReferenceVerdict; outside: number; seedsInside: number } | null;
}

export interface ReferenceComparison {
  reference: PublishedReference;
  /** The reference file, as commands name it. */
  file: string;
  curves: CurveComparison[];
}

/** The epochs a table shows: all up to 10, else a log-like selection and the last. */
export function shownEpochs(last: number): number[] {
  if (last <= 10) return Array.from({ length: last }, (_, i) => i + 1);
  return [...new Set([1, 2, 5, 10, 20, 50, 100, 200].filter((e) => e < last).concat(last))];
}

function publishedAt(curve: ReferenceCurve, epoch: number): Summary | null {
  return summarize(curve.seeds.flatMap((s) => (epoch < s.testAccuracy.length ? [s.testAccuracy[epoch]] : [])));
}

function compareCurve(
  grouped: Grouped,
  curve: ReferenceCurve,
  index: number,
  file: string,
  plannedIds: readonly string[],
): CurveComparison {
  const runs = grouped.runs
    .filter((r) => r.optimizerLabel === curve.label && r.batchSize === curve.batchSize)
    .sort((a, b) => a.seed - b.seed);
  // Run ids start with `<label>-b<batch>-w` (src/suite/runId.ts).
  const planned = plannedIds.filter((id) => id.startsWith(`${curve.label}-b${curve.batchSize}-w`));
  const pending = planned.filter((id) => !runs.some((r) => r.id === id)).length;
  if (runs.length === 0 && planned.length === 0) {
    const labels = [...new Set(grouped.runs.map((r) => r.optimizerLabel))];
    const guess = labels.includes(curve.label) ? null : nearest(curve.label, labels);
    throw new InputFileError(
      `${file}: /curves/${index}: no run of optimizer '${curve.label}' at batch ${curve.batchSize} in the results${guess ? ` (did you mean '${guess}'?)` : ''}; they have ${listing(labels.map((l) => `'${l}'`))} at batch ${listing([...new Set(grouped.runs.map((r) => String(r.batchSize)))])}`,
    );
  }
  const ok = runs.filter((r) => r.result.status === 'ok' && r.result.final !== null);
  const notOk = runs.filter((r) => !ok.includes(r));
  // Epochs every ok run finished and the reference has.
  const last =
    ok.length === 0
      ? 0
      : Math.min(...ok.map((r) => r.result.epochs.length), Math.min(...curve.seeds.map((s) => s.testAccuracy.length - 1)));
  const rows: ReferenceRow[] = [];
  for (const epoch of last > 0 ? shownEpochs(last) : []) {
    const ours = ok.map((r) => r.result.epochs.find((e) => e.epoch === epoch)?.testAccuracy);
    const published = publishedAt(curve, epoch);
    if (ours.some((a) => a === undefined) || published === null) continue;
    rows.push({ epoch, ours: ours as number[], oursSummary: summarize(ours as number[])!, published });
  }
  const final = rows[rows.length - 1];
  let verdict: CurveComparison['verdict'] = null;
  if (final) {
    const { mean } = final.oursSummary;
    const { min, max } = final.published;
    const kind: ReferenceVerdict = mean < min ? 'below' : mean > max ? 'above' : 'within';
    verdict = {
      epoch: final.epoch,
      kind,
      outside: kind === 'below' ? min - mean : kind === 'above' ? mean - max : 0,
      seedsInside: final.ours.filter((a) => a >= min && a <= max).length,
    };
  }
  return { curve, ok, notOk, pending, rows, verdict };
}

/**
 * Each reference curve against our runs of its label and batch size. `plannedIds` (the results
 * directory's manifest) lets a curve whose runs have not finished yet through; a curve matching neither
 * a result nor a planned run is bad input (a wrong label, most likely).
 */
export function compareWithReference(
  grouped: Grouped,
  reference: PublishedReference,
  file: string,
  plannedIds: readonly string[] = [],
): ReferenceComparison {
  return { reference, file, curves: reference.curves.map((curve, i) => compareCurve(grouped, curve, i, file, plannedIds)) };
}

function verdictText(c: CurveComparison): string {
  const v = c.verdict;
  const who = `**${c.curve.label}** (batch ${c.curve.batchSize})`;
  const notOk = c.notOk.length > 0 ? `${plural(c.notOk.length, 'run')} diverged or failed` : null;
  const pending = c.pending > 0 ? `${plural(c.pending, 'planned run')} without a result yet` : null;
  const asides = [notOk, pending].filter((x) => x !== null);
  if (v === null) return `${who}: no ok run to compare${asides.length > 0 ? ` (${asides.join('; ')})` : ''}.`;
  const final = c.rows[c.rows.length - 1];
  const range = `[${pct(final.published.min)}, ${pct(final.published.max)}]`;
  const where =
    v.kind === 'within'
      ? `within the published range ${range}`
      : `${v.kind} the published range ${range} by ${points(v.outside, false)} points`;
  const counted = `published mean ${pctSummary(final.published)} over ${plural(final.published.n, 'seed')}; ${v.seedsInside} of our ${plural(final.ours.length, 'seed')} inside it`;
  return `${who} after epoch ${v.epoch}: our mean ${pct(final.oursSummary.mean)}% lies ${where} (${counted})${asides.map((a) => `; ${a}, not counted`).join('')}.`;
}

/** The report section: verdicts, the table per epoch, the chart, and where the protocols differ. */
export function referenceSection(c: ReferenceComparison, chart: string[]): string[] {
  const { reference } = c;
  const table = [
    '| optimizer | published setting | epoch | ours, per seed | ours, mean | published, mean ± std | published range | ours − published |',
    '|---|---|--:|---|--:|--:|--:|--:|',
    ...c.curves.flatMap((curve) =>
      curve.rows.map(
        (row) =>
          `| ${cell(curve.curve.label)} | ${cell(curve.curve.setting)} | ${row.epoch} | ${row.ours.map(pct).join(', ')} | ${pct(row.oursSummary.mean)} | ${pctSummary(row.published)} (n=${row.published.n}) | ${pct(row.published.min)}–${pct(row.published.max)} | ${points(row.oursSummary.mean - row.published.mean)} |`,
      ),
    ),
  ];
  return [
    `## Against published results: ${reference.name}`,
    '',
    `Test accuracy (%) after each epoch: ours (one value per seed, then their mean) against the publisher's per-seed curves, as [${reference.source.citation}](${reference.source.url}) published them at commit ${code(reference.source.commit.slice(0, 12))} (read into ${code(c.file)} by ${code(reference.source.extractedWith)}). A verdict holds at the last epoch every one of our ok runs reached.`,
    '',
    ...c.curves.map((curve) => `- ${verdictText(curve)}`),
    '',
    ...table,
    ...chart,
    '',
    'Where the protocols differ:',
    '',
    ...reference.protocolDifferences.map((d) => `- ${d}`),
  ];
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** Published mean (dashed) and range (band) per curve, our seeds as solid lines, up to our last compared epoch. */
export function referenceChart(c: ReferenceComparison): ChartFile | null {
  const band: Record<string, number | string>[] = [];
  const ours: Record<string, number | string>[] = [];
  for (const curve of c.curves) {
    const last = curve.rows[curve.rows.length - 1]?.epoch ?? 0;
    for (let epoch = 1; epoch <= last; epoch++) {
      const p = publishedAt(curve.curve, epoch);
      if (p) band.push({ optimizer: curve.curve.label, epoch, mean: round(100 * p.mean), lo: round(100 * p.min), hi: round(100 * p.max) });
      for (const run of curve.ok) {
        const a = run.result.epochs.find((e) => e.epoch === epoch)?.testAccuracy;
        if (a !== undefined) ours.push({ optimizer: curve.curve.label, epoch, seed: run.seed, accuracy: round(100 * a) });
      }
    }
  }
  if (ours.length === 0) return null;
  const x = { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' } };
  const color = { field: 'optimizer', type: 'nominal' as const, title: 'optimizer', scale: { scheme: 'tableau10' } };
  const y = (field: string) => ({ field, type: 'quantitative' as const, title: 'test accuracy (%)', scale: { zero: false } });
  const title = `Test accuracy per epoch: ours (solid, one line per seed) and ${c.reference.name} (dashed mean, band = range over seeds)`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `Test accuracy per epoch: ours and ${c.reference.name}`,
      subtitle: 'solid: ours, one line per seed; dashed: published mean; band: published range over seeds',
    },
    background: 'white',
    width: 460,
    height: 280,
    layer: [
      { data: { values: band }, mark: { type: 'area', opacity: 0.15 }, encoding: { x, y: y('lo'), y2: { field: 'hi' }, color } },
      { data: { values: band }, mark: { type: 'line', strokeDash: [4, 3] }, encoding: { x, y: y('mean'), color } },
      {
        data: { values: ours },
        mark: { type: 'line', point: { filled: true, size: 30 } },
        encoding: { x, y: y('accuracy'), color, detail: { field: 'seed', type: 'nominal' } },
      },
    ],
  };
  return { file: 'published-reference.svg', title, spec };
}
