/**
 * The report's tuning section, from a tuned suite's `tuning.json`: which split selected what, by which
 * metric over which seeds, and per optimizer × batch size the chosen values (flagged where tied or at
 * a grid edge) with every candidate's score. Pure.
 */
import { markdownTable } from 'markdown-table';
import { higherIsBetter } from '../config/budget.js';
import type { Candidate, SelectionCell, TuningSelection } from '../results/tuningSelection.js';
import { cell, code, listing, num } from '../util/format.js';

type Values = Candidate['values'];

/** Short names for the tuned paths: the last segment unless two paths share it. */
function shortNames(t: TuningSelection): (path: string) => string {
  const paths = [...new Set(t.grid.map((g) => g.path))];
  const last = (p: string) => p.slice(p.lastIndexOf('.') + 1);
  return (p) => (paths.filter((q) => last(q) === last(p)).length > 1 ? p : last(p));
}

/** "fewest mean steps to the target (validationAccuracy >= 0.87)", as the selection rule reads. */
export function selectionPhrase(t: TuningSelection, target: string | null): string {
  const metric = t.select.metric;
  if (metric === 'stepsToTarget') return `fewest mean steps to the target${target ? ` (${target})` : ''}`;
  return `${higherIsBetter(metric) ? 'highest' : 'lowest'} mean final ${metric}`;
}

function stabilityPhrase(stability: string): string {
  const base = 'a value with a diverged, failed or missing seed is no candidate';
  return stability === 'every-batch-size' ? `${base}, and one that diverged at any batch size is no candidate at any` : base;
}

/** One candidate's score: steps (or the metric), a miss with its best value, or why it was excluded. */
function candidateScore(c: Candidate, metric: string): string {
  if (c.excluded !== null) return `excluded (${c.excluded})`;
  if (c.score === null) return '—';
  if (metric === 'stepsToTarget' && c.reachedTarget === false) return `missed (best ${num(c.score)})`;
  return num(c.score);
}

function flags(c: SelectionCell, show: (v: Values) => string, short: (path: string) => string): string {
  const parts = [
    ...c.ties.map((v) => `tie: ${show(v)}`),
    ...c.edges.map((e) => {
      const m = /^(.+?)=.* is the (lowest|highest) value tried$/.exec(e);
      return m ? `grid edge: ${m[2]} ${short(m[1])} tried` : e;
    }),
  ];
  return parts.length === 0 ? '—' : parts.join('; ');
}

export function tuningSection(t: TuningSelection, resultsDir: string, target: string | null): string[] {
  const short = shortNames(t);
  const show = (v: Values) =>
    Object.entries(v)
      .map(([p, x]) => `${short(p)}=${String(x)}`)
      .join(' ');
  const paths = [...new Set(t.grid.map((g) => g.path))];
  // With one tuned path a candidate is its value alone.
  const key = (v: Values) => (paths.length === 1 ? String(v[paths[0]]) : show(v));
  const where = t.perBatchSize
    ? 'per optimizer and batch size'
    : 'per optimizer, once (at the batch size shown), and used at every batch size';
  const lines = [
    '## Tuning',
    '',
    `${listing(paths.map(code))} selected ${where} on the **${t.split} split**, by ${selectionPhrase(t, target)} over tuning ${t.seeds.length === 1 ? 'seed' : 'seeds'} ${t.seeds.join(', ')}; ${stabilityPhrase(t.select.stability)}, ties go to the first value in grid order. The test split is only reported, never used to select. From \`${resultsDir}/tuning.json\`; the tuning runs are a results directory of their own, \`${resultsDir}/tuning/\`.`,
  ];
  if (!t.complete) lines.push('', '**Incomplete:** some tuning runs have no result yet; the selection may change when they do.');
  const score = (c: SelectionCell) => (c.chosen === null || c.chosen.score === null ? '—' : num(c.chosen.score));
  const rows = t.cells.map((c) => {
    const chosenKey = c.chosen ? JSON.stringify(c.chosen.values) : null;
    const candidates = c.candidates.map((x) => {
      const s = candidateScore(x, t.select.metric);
      return `${key(x.values)}: ${JSON.stringify(x.values) === chosenKey ? `**${s}**` : s}`;
    });
    return [
      cell(c.optimizerLabel),
      c.batchSize === null ? `all (at b${c.selectedAt})` : `b${c.batchSize}`,
      c.chosen ? cell(show(c.chosen.values)) : cell(`none: ${c.reason}`),
      score(c),
      cell(flags(c, show, short)),
      cell(candidates.join(' · ')),
    ];
  });
  const scoreName = t.select.metric === 'stepsToTarget' ? 'mean steps' : `mean ${t.select.metric}`;
  lines.push(
    '',
    `Chosen values, their score (${scoreName} over the tuning seeds) and every candidate's (bold: chosen; "missed": not every seed met the target, scored by the mean best ${t.select.metric === 'stepsToTarget' ? 'target metric' : 'value'} seen, ranked after every value that met it). A grid edge means the optimum may lie outside the grid.`,
    '',
    markdownTable([['optimizer', 'batch', 'chosen', scoreName, 'flags', 'candidates'], ...rows], { alignDelimiters: false }),
  );
  return lines;
}
