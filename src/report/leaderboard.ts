/**
 * The leaderboard over several result sets (pure): within each set and global batch size, optimizer
 * configurations ranked by mean final test accuracy over seeds (ties: less training time first); cells
 * whose runs all diverged or failed rank last. Overall: the mean of those ranks per configuration.
 */
import { markdownTable } from 'markdown-table';
import type { Analysis } from './analyze.js';
import { describeEnvironment } from './environment.js';
import { cell, code, listing, pctSummary, plural, secondsSummary } from '../util/format.js';
import type { Cell } from './groupRuns.js';

export interface LeaderboardSet {
  /** How the set is named in the leaderboard (its directory as given). */
  name: string;
  analysis: Analysis;
}

export interface RankedEntry {
  rank: number;
  /** The series' display name: label, sweep values, workers. */
  optimizer: string;
  cell: Cell;
}

export interface BatchRanking {
  set: string;
  /** Position of the set in the input (names need not be unique). */
  setIndex: number;
  batchSize: number;
  entries: RankedEntry[];
}

export interface OverallEntry {
  rank: number;
  optimizer: string;
  meanRank: number;
  /** (set, batch size) cells it was ranked in. */
  cells: number;
  firstPlaces: number;
}

export interface Leaderboard {
  perBatch: BatchRanking[];
  overall: OverallEntry[];
}

/** Float noise must not break a tie that is a tie. */
const key = (x: number) => Math.round(x * 1e6);

function compareCells(a: Cell, b: Cell): number {
  if (a.testAccuracy === null || b.testAccuracy === null) return (a.testAccuracy === null ? 1 : 0) - (b.testAccuracy === null ? 1 : 0);
  const acc = key(b.testAccuracy.mean) - key(a.testAccuracy.mean);
  if (acc !== 0) return acc;
  return key(a.trainSeconds?.mean ?? Infinity) - key(b.trainSeconds?.mean ?? Infinity);
}

/** Competition ranking (1, 2, 2, 4) of the cells of one set at one batch size. */
export function rankCells(cells: readonly Cell[]): RankedEntry[] {
  const sorted = [...cells].sort(
    (a, b) => compareCells(a, b) || (a.series.display < b.series.display ? -1 : a.series.display > b.series.display ? 1 : 0),
  );
  const entries: RankedEntry[] = [];
  sorted.forEach((c, i) => {
    const rank = i > 0 && compareCells(sorted[i - 1], c) === 0 ? entries[i - 1].rank : i + 1;
    entries.push({ rank, optimizer: c.series.display, cell: c });
  });
  return entries;
}

export function rankLeaderboard(sets: readonly LeaderboardSet[]): Leaderboard {
  const perBatch: BatchRanking[] = [];
  sets.forEach((set, setIndex) => {
    const { grouped } = set.analysis;
    for (const b of grouped.batchSizes) {
      const cells = grouped.cells.filter((c) => c.batchSize === b);
      if (cells.length > 0) perBatch.push({ set: set.name, setIndex, batchSize: b, entries: rankCells(cells) });
    }
  });
  const ranks = new Map<string, number[]>();
  for (const r of perBatch) for (const e of r.entries) ranks.set(e.optimizer, [...(ranks.get(e.optimizer) ?? []), e.rank]);
  const rows = [...ranks.entries()].map(([optimizer, rs]) => ({
    optimizer,
    meanRank: rs.reduce((s, x) => s + x, 0) / rs.length,
    cells: rs.length,
    firstPlaces: rs.filter((x) => x === 1).length,
  }));
  const cmp = (a: (typeof rows)[number], b: (typeof rows)[number]) => key(a.meanRank) - key(b.meanRank) || b.cells - a.cells;
  rows.sort((a, b) => cmp(a, b) || (a.optimizer < b.optimizer ? -1 : a.optimizer > b.optimizer ? 1 : 0));
  const overall: OverallEntry[] = [];
  rows.forEach((r, i) => {
    overall.push({ ...r, rank: i > 0 && cmp(rows[i - 1], r) === 0 ? overall[i - 1].rank : i + 1 });
  });
  return { perBatch, overall };
}

function statusNote(c: Cell): string {
  const statuses = [...new Set(c.runs.map((r) => r.result.status))].filter((s) => s !== 'ok');
  return statuses.map((s) => `${c.runs.filter((r) => r.result.status === s).length} ${s}`).join(', ');
}

export function leaderboardMarkdown(sets: readonly LeaderboardSet[], title = 'ngd-bench leaderboard'): string {
  const board = rankLeaderboard(sets);
  const out: string[] = [
    `# ${title}`,
    '',
    `${plural(sets.length, 'result set')}. Within each set and global batch size, optimizer configurations are ranked by mean final test accuracy over seeds (ties: less mean training time first); a configuration none of whose runs there finished ok ranks last. Overall rank: the mean of those ranks over every (set, batch size) it appears in. Sets from different machines or suites are ranked separately and only meet in the overall mean rank.`,
    '',
    '## Overall',
    '',
    markdownTable([
      ['rank', 'optimizer', 'mean rank', 'ranked in', 'first places'],
      ...board.overall.map((e) => [String(e.rank), cell(e.optimizer), e.meanRank.toFixed(2), String(e.cells), String(e.firstPlaces)]),
    ]),
    '',
    '## Result sets',
    '',
    markdownTable([
      ['set', 'suite', 'runs', 'seeds', 'environment', 'results dated'],
      ...sets.map((s) => {
        const a = s.analysis;
        const runs = a.grouped.runs;
        const ok = runs.filter((r) => r.result.status === 'ok').length;
        const seeds = [...new Set(runs.map((r) => r.seed))].sort((x, y) => x - y);
        const envs = a.environments.map((g) => describeEnvironment(g.environment));
        return [
          code(s.name),
          a.suite ? code(a.suite) : '—',
          `${runs.length} (${ok} ok)`,
          seeds.join(', '),
          cell(listing(envs)),
          a.dates ? [...new Set([a.dates.from.slice(0, 10), a.dates.to.slice(0, 10)])].join(' – ') : '—',
        ];
      }),
    ]),
  ];
  sets.forEach((set, setIndex) => {
    out.push('', `## ${code(set.name)}`);
    for (const r of board.perBatch.filter((x) => x.setIndex === setIndex)) {
      out.push(
        '',
        `### b${r.batchSize}`,
        '',
        markdownTable([
          ['rank', 'optimizer', 'test accuracy (%)', 'ok seeds', 'training time (s)'],
          ...r.entries.map((e) => {
            const c = e.cell;
            const note = statusNote(c);
            return [
              String(e.rank),
              cell(e.optimizer),
              c.testAccuracy ? pctSummary(c.testAccuracy) : `— (${note})`,
              `${c.ok.length}/${c.runs.length}`,
              c.trainSeconds ? secondsSummary(c.trainSeconds) : '—',
            ];
          }),
        ]),
      );
    }
  });
  return `${out.join('\n')}\n`;
}
