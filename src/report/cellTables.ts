/**
 * Tables of cells (an optimizer configuration at one global batch size) as the report prints them:
 * one summary per cell, annotated with its ok-seed count and the runs that did not finish ok.
 */
import { markdownTable } from 'markdown-table';
import { cell, plural } from '../util/format.js';
import type { Cell, Grouped, RunView } from './groupRuns.js';

export const table = (rows: string[][]) => markdownTable(rows);

const distinct = (values: string[]) => [...new Set(values)];

/** "1 diverged, 2 failed": the runs that did not finish ok. */
export function statusNote(runs: readonly RunView[]): string {
  const statuses = distinct(runs.map((r) => r.result.status).filter((st) => st !== 'ok'));
  return statuses.map((st) => `${runs.filter((r) => r.result.status === st).length} ${st}`).join(', ');
}

/** `b8192`, or `b8192 (w=2)` when every run at that batch size was data-parallel. */
export function batchHeader(grouped: Grouped, b: number): string {
  const counts = grouped.workersAt.get(b) ?? [1];
  return counts.length === 1 && counts[0] !== 1 ? `b${b} (w=${counts[0]})` : `b${b}`;
}

/** A series x batch-size table of one summary per cell; `n` is noted where a cell's ok seeds differ from `usualN`. */
export function cellTable(grouped: Grouped, value: (c: Cell) => string | null, usualN: number): string {
  const rows = grouped.series.map((s) => [
    cell(s.display),
    ...grouped.batchSizes.map((b) => {
      const c = grouped.cells.find((x) => x.series.key === s.key && x.batchSize === b);
      return c ? annotated(c, value, usualN) : '—';
    }),
  ]);
  return table([['optimizer', ...grouped.batchSizes.map((b) => batchHeader(grouped, b))], ...rows]);
}

/** A cell's value, with its ok-seed count where it differs from `usualN` and its runs that did not finish ok. */
export function annotated(c: Cell, value: (c: Cell) => string | null, usualN: number): string {
  const v = value(c);
  if (v === null) return `— (${statusNote(c.runs)})`;
  const bad = statusNote(c.runs);
  const notes = [c.ok.length !== usualN ? `n=${c.ok.length}` : null, bad === '' ? null : `+${bad}`].filter((x) => x !== null);
  return notes.length > 0 ? `${v} (${notes.join(', ')})` : v;
}

/** The most common number of ok seeds per cell (ties: the larger), and how to say it. */
export function seedNote(grouped: Grouped): { text: string; usualN: number } {
  const counts = new Map<number, number>();
  for (const c of grouped.cells) if (c.ok.length > 0) counts.set(c.ok.length, (counts.get(c.ok.length) ?? 0) + 1);
  const [usualN] = [...counts.entries()].sort(([na, ca], [nb, cb]) => cb - ca || nb - na)[0] ?? [0];
  const all = counts.size <= 1;
  return { text: `${plural(usualN, 'ok seed')} per cell${all ? '' : ' unless noted'}`, usualN };
}

/** A chart link, or nothing when charts were not written. */
export function chartImage(chartsHref: string | null, file: string, alt: string): string[] {
  if (chartsHref === null) return [];
  return ['', `![${alt}](${encodeURI(`${chartsHref}/${file}`)})`];
}
