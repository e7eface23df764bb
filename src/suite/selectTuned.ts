/**
 * The tuning selection: a pure function of a tuned suite, its planned tuning runs and their results.
 * Per optimizer (and batch size, unless the suite selects at one), every combination of the grid's
 * values is a candidate, scored by the mean of the selection metric over the tuning seeds, measured on
 * the validation split (never the test split). Rules, in order:
 *   1. A candidate with a diverged, failed or missing seed is excluded (with 'every-batch-size', one that
 *      diverged at any batch size of the optimizer is excluded everywhere: the paper suites' stability rule).
 *   2. stepsToTarget: candidates whose every seed met the target rank first, by mean steps (fewest);
 *      the rest after them, by the mean of their best value seen.
 *   3. Ties (equal score) go to the first candidate in grid order, and are listed.
 *   4. A chosen value at the lowest or highest end of its grid is flagged: the optimum may lie outside.
 */
import { higherIsBetter } from '../config/budget.js';
import type { RunResult } from '../results/runResult.js';
import type { Candidate, SelectionCell, TuningSelection } from '../results/tuningSelection.js';
import type { PlannedRun, SweepValue } from './plannedRun.js';
import { labelOf, type Suite, type Tune } from './suiteSchema.js';
import { selectionBatchSizes } from './tuning.js';

/** What selection reads of a tuning result. */
export type TuningRunResult = Pick<RunResult, 'status' | 'final' | 'target'> & { run?: Pick<NonNullable<RunResult['run']>, 'configHash'> };

type Values = Record<string, SweepValue>;

const sameValues = (a: Values, b: Readonly<Record<string, SweepValue>>) => Object.keys(a).every((k) => b[k] === a[k]);
const show = (values: Values) =>
  Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Every combination of the grid values that apply to an optimizer, in grid order (first path outermost). */
export function candidateValues(tune: Tune, label: string): Values[] {
  let combos: Values[] = [{}];
  for (const entry of tune.grid) {
    if (entry.optimizers !== undefined && !entry.optimizers.includes(label)) continue;
    combos = combos.flatMap((c) => entry.values.map((v) => ({ ...c, [entry.path]: v })));
  }
  return combos.length === 1 && Object.keys(combos[0]).length === 0 ? [] : combos;
}

interface Scored {
  candidate: Candidate;
  /** Rank group: 0 met the target (or no target metric), 1 did not. */
  group: number;
}

function scoreCandidate(
  tune: Tune,
  values: Values,
  runs: readonly PlannedRun[],
  results: ReadonlyMap<string, TuningRunResult>,
  unstable: boolean,
): Scored {
  const metric = tune.select.metric;
  const seeds = tune.seeds.map((seed) => {
    const run = runs.find((r) => r.config.seed === seed && sameValues(values, r.sweep));
    const result = run ? results.get(run.id) : undefined;
    const valid = result && result.run?.configHash === run?.configHash ? result : undefined;
    const status = valid ? valid.status : ('missing' as const);
    let value: number | null = null;
    if (valid?.status === 'ok') {
      if (metric === 'stepsToTarget') value = valid.target?.reached ? valid.target.stepsToTarget : (valid.target?.best ?? null);
      else value = valid.final?.[metric] ?? null;
    }
    return { seed, runId: run?.id ?? null, status, value, reached: valid?.target?.reached ?? false };
  });
  const bad = seeds.filter((s) => s.status !== 'ok');
  let excluded: string | null = null;
  if (bad.length > 0) excluded = bad.map((s) => `seed ${s.seed} ${s.status}`).join(', ');
  else if (unstable) excluded = 'diverged at another batch size (stability: every-batch-size)';
  else if (seeds.some((s) => s.value === null)) excluded = `no ${metric} recorded`;
  const reachedTarget = metric === 'stepsToTarget' ? seeds.every((s) => s.reached) : undefined;
  const score = excluded === null ? mean(seeds.map((s) => s.value as number)) : null;
  return {
    candidate: {
      values,
      score,
      ...(reachedTarget !== undefined ? { reachedTarget } : {}),
      seeds: seeds.map(({ reached: _r, ...s }) => s),
      excluded,
    },
    group: reachedTarget === false ? 1 : 0,
  };
}

/** Is `a` strictly better than `b` (both eligible)? */
function better(tune: Tune, targetMetric: string | null, a: Scored, b: Scored): boolean {
  if (a.group !== b.group) return a.group < b.group;
  const sa = a.candidate.score as number;
  const sb = b.candidate.score as number;
  const metric = tune.select.metric;
  // Group 1 of stepsToTarget is ranked by the best value seen of the target's own metric.
  const higher = metric === 'stepsToTarget' ? a.group === 1 && higherIsBetter(targetMetric ?? '') : higherIsBetter(metric);
  return higher ? sa > sb : sa < sb;
}

function edgesOf(tune: Tune, label: string, values: Values): string[] {
  const edges: string[] = [];
  for (const entry of tune.grid) {
    if (entry.optimizers !== undefined && !entry.optimizers.includes(label)) continue;
    const numbers = entry.values.filter((v): v is number => typeof v === 'number');
    const v = values[entry.path];
    if (typeof v !== 'number' || numbers.length < 2) continue;
    if (v === Math.min(...numbers)) edges.push(`${entry.path}=${v} is the lowest value tried`);
    else if (v === Math.max(...numbers)) edges.push(`${entry.path}=${v} is the highest value tried`);
  }
  return edges;
}

function selectCell(
  suite: Suite,
  tune: Tune,
  label: string,
  batchSize: number,
  runs: readonly PlannedRun[],
  results: ReadonlyMap<string, TuningRunResult>,
  unstableValues: readonly Values[],
): SelectionCell {
  const targetMetric = suite.budget !== undefined && 'target' in suite.budget ? suite.budget.target.metric : null;
  const cellRuns = runs.filter((r) => r.optimizerLabel === label && r.config.batchSize === batchSize);
  const scored = candidateValues(tune, label).map((values) =>
    scoreCandidate(
      tune,
      values,
      cellRuns,
      results,
      unstableValues.some((u) => sameValues(values, u)),
    ),
  );
  const eligible = scored.filter((s) => s.candidate.excluded === null);
  let best: Scored | undefined;
  for (const s of eligible) if (!best || better(tune, targetMetric, s, best)) best = s;
  const base = {
    optimizerLabel: label,
    batchSize: tune.perBatchSize ? batchSize : null,
    selectedAt: batchSize,
    candidates: scored.map((s) => s.candidate),
  };
  if (!best) {
    return {
      ...base,
      chosen: null,
      reason: `no candidate left: ${scored.map((s) => `${show(s.candidate.values)}: ${s.candidate.excluded}`).join('; ')}`,
      ties: [],
      edges: [],
    };
  }
  const chosen = best;
  const ties = eligible
    .filter((s) => s !== chosen && s.group === chosen.group && s.candidate.score === chosen.candidate.score)
    .map((s) => s.candidate.values);
  const metric = tune.select.metric;
  const what =
    metric === 'stepsToTarget'
      ? chosen.group === 0
        ? `fewest mean steps to the target (${chosen.candidate.score})`
        : `no value met the target in every seed; best mean ${targetMetric} seen (${chosen.candidate.score})`
      : `${higherIsBetter(metric) ? 'highest' : 'lowest'} mean final ${metric} (${chosen.candidate.score})`;
  return {
    ...base,
    chosen: { values: chosen.candidate.values, score: chosen.candidate.score },
    reason: `${show(chosen.candidate.values)}: ${what} over ${tune.seeds.length} seed${tune.seeds.length === 1 ? '' : 's'}, of ${eligible.length} eligible of ${scored.length}`,
    ties,
    edges: edgesOf(tune, label, chosen.candidate.values),
  };
}

export function selectTuned(
  suite: Suite,
  tuningRuns: readonly PlannedRun[],
  results: ReadonlyMap<string, TuningRunResult>,
): TuningSelection {
  const tune = suite.tune;
  if (!tune) throw new Error(`internal error: suite ${suite.name} has no "tune" section`);
  const batchSizes = selectionBatchSizes(suite, tune);
  const cells: SelectionCell[] = [];
  for (const entry of suite.optimizers) {
    const label = labelOf(entry);
    const candidates = candidateValues(tune, label);
    if (candidates.length === 0) continue;
    const labelRuns = tuningRuns.filter((r) => r.optimizerLabel === label);
    const unstable =
      tune.select.stability === 'every-batch-size'
        ? candidates.filter((values) => labelRuns.some((r) => sameValues(values, r.sweep) && results.get(r.id)?.status === 'diverged'))
        : [];
    for (const batchSize of batchSizes) cells.push(selectCell(suite, tune, label, batchSize, labelRuns, results, unstable));
  }
  return {
    schemaVersion: 1,
    suite: suite.name,
    split: 'validation',
    select: { metric: tune.select.metric, stability: tune.select.stability },
    perBatchSize: tune.perBatchSize,
    seeds: [...tune.seeds],
    grid: tune.grid.map((g) => ({ path: g.path, values: [...g.values], ...(g.optimizers ? { optimizers: [...g.optimizers] } : {}) })),
    complete: tuningRuns.every((r) => results.get(r.id)?.run?.configHash === r.configHash),
    cells,
  };
}
