/**
 * The paper's claims (Naganuma & Yokota, CCGRID 2019) checked against a result set. Pure: cells in,
 * verdicts with the numbers behind them out. The rule is deliberately plain and is printed in the
 * report (CLAIM_RULES); it does not know which answer the paper expects.
 */
import type { OptimizerName } from '../config/trainConfig.js';
import { listing, pctSummary, points } from '../util/format.js';
import type { Cell } from './groupRuns.js';
import type { Summary } from '../util/stats.js';

export type ClaimId = 'C1' | 'C2' | 'C3';
export type ClaimVerdict = 'holds' | 'does not hold' | 'inconclusive';

export interface ClaimResult {
  id: ClaimId;
  claim: string;
  verdict: ClaimVerdict;
  /** The numbers behind the verdict (means ± sample std over seeds, batch sizes compared), one fact each. */
  numbers: string[];
  /** The comparison made and its outcome, or what the data lacks. */
  reason: string;
  /** The batch sizes compared, when the data allowed a comparison. */
  batchSizes: { small: number; large: number } | null;
}

export interface ClaimOptions {
  /** Smallest difference (fraction of accuracy) that counts, whatever the seed spread: default 0.005 (0.5 points). */
  tolerance?: number;
  /** Ok seeds a cell needs to take part: default 2 (a spread needs two). */
  minSeeds?: number;
}

export const DEFAULT_TOLERANCE = 0.005;
export const DEFAULT_MIN_SEEDS = 2;

export const CLAIMS: Record<ClaimId, string> = {
  C1: 'SGD degrades with batch size',
  C2: 'naive NGD degrades more than SGD at large batch',
  C3: 'smoothed NGD recovers SGD-level accuracy at large batch',
};

/**
 * What the claims compare of one cell under a protocol: its test accuracy over the seeds that count,
 * or that most of its runs missed what the protocol asks (e.g. never met the target), which ranks
 * below any accuracy.
 */
export interface CellOutcome {
  /** Ok runs that take part. */
  runs: number;
  /** Test accuracy over the runs with a point (null: none). */
  accuracy: Summary | null;
  /** Train − test accuracy at the same points. */
  gap: Summary | null;
  /** Ranks an optimizer's configurations at one batch size (higher is better; see the scorer's selection rule). */
  rank: number;
  /** Set when the cell counts as having missed: how many of its runs did. */
  missed: { count: number; what: string } | null;
}

/** A protocol's view of cells, and the words the rules use for it. */
export interface ClaimScorer {
  /** "the final test accuracy", as the rule's first sentence says it. */
  accuracy: string;
  /** How one of several configurations of an optimizer at a batch size is picked. */
  selection: string;
  /** Further rules (e.g. what a missed target counts as). */
  notes?: string[];
  /** What a missed cell failed to do, e.g. "meet the target" (scorers that can miss). */
  goal?: string;
  outcome(c: Cell): CellOutcome | null;
}

/** Picks among configurations on the validation split when every cell measured it, else on the test split. */
export function finalScorer(cells: readonly Cell[], when = ''): ClaimScorer {
  const onValidation =
    cells.some((c) => c.testAccuracy !== null) && cells.every((c) => c.testAccuracy === null || c.validationAccuracy !== null);
  return {
    accuracy: `the final test accuracy${when}`,
    selection: onValidation
      ? 'the one with the best mean final validation accuracy there is used: picked on the validation split (the test split is only reported), which still favours optimizers with more configurations.'
      : 'the one with the best mean test accuracy there is used: picked on the test set, as a sweep would be, which favours optimizers with more configurations.',
    outcome: (c) =>
      c.testAccuracy === null
        ? null
        : {
            runs: c.ok.length,
            accuracy: c.testAccuracy,
            gap: c.gap,
            rank: (onValidation ? c.validationAccuracy! : c.testAccuracy).mean,
            missed: null,
          },
  };
}

/** The rules that depend on the protocol: what accuracy is compared and how configurations are picked. */
export function scorerRules(scorer: ClaimScorer, options: ClaimOptions = {}): string[] {
  const minSeeds = options.minSeeds ?? DEFAULT_MIN_SEEDS;
  return [
    `Accuracy is ${scorer.accuracy}, mean over seeds; a cell (an optimizer at one batch size) takes part only with at least ${minSeeds} ok seeds.`,
    `Optimizers are found by their name in the config (sgd, ngd, smoothed-ngd). Where one has several configurations at a batch size (labels, sweep values, worker counts), ${scorer.selection}`,
    ...(scorer.notes ?? []),
  ];
}

/** The rules every protocol shares: the margin, the batch sizes compared, the verdicts. */
export function sharedClaimRules(options: ClaimOptions = {}): { margin: string; batches: string; verdicts: string } {
  const tol = options.tolerance ?? DEFAULT_TOLERANCE;
  return {
    margin: `A difference counts when it exceeds the margin m = max(${points(tol, false)} points, the largest sample std over seeds among the cells compared).`,
    batches:
      '"Small" and "large" batch are the smallest and largest batch sizes at which every optimizer a claim compares has a cell; a claim needs two distinct ones, else it is inconclusive.',
    verdicts:
      'C1 holds if SGD loses more than m from small to large batch. C2 holds if NGD loses more than SGD does, by more than m. C3 holds if at large batch smoothed NGD is at least SGD − m and, when NGD has a cell there, above NGD. Otherwise a claim does not hold.',
  };
}

/** The rule, as the report states it. */
export function claimRules(options: ClaimOptions = {}, scorer: ClaimScorer = finalScorer([])): string[] {
  const [accuracy, selection, ...notes] = scorerRules(scorer, options);
  const shared = sharedClaimRules(options);
  return [accuracy, shared.margin, selection, ...notes, shared.batches, shared.verdicts];
}

interface Picked {
  cell: Cell;
  outcome: CellOutcome;
  /** Configurations of the optimizer eligible at that batch size. */
  candidates: number;
}

/** A picked cell's accuracy, a miss ranking below any (so drops through a miss are ±Infinity, NaN when both missed). */
const acc = (p: Picked) => (p.outcome.missed ? -Infinity : p.outcome.accuracy!.mean);

class Cells {
  private readonly outcomes: Map<Cell, CellOutcome | null>;

  constructor(
    private readonly cells: readonly Cell[],
    private readonly minSeeds: number,
    scorer: ClaimScorer,
  ) {
    this.outcomes = new Map(cells.map((c) => [c, scorer.outcome(c)]));
  }

  /** The outcome of a cell if it may take part. */
  eligible(c: Cell): CellOutcome | null {
    const o = this.outcomes.get(c) ?? null;
    if (o === null) return null;
    if (o.missed) return o.runs >= this.minSeeds ? o : null;
    return o.accuracy !== null && o.accuracy.n >= this.minSeeds ? o : null;
  }

  /** Ok runs taking part, for "what is missing" messages. */
  runsOf(c: Cell): number {
    return this.outcomes.get(c)?.runs ?? 0;
  }

  /** The best eligible cell of an optimizer at a batch size. */
  pick(name: OptimizerName, batchSize: number): Picked | null {
    const eligible = this.cells.flatMap((c) => {
      const outcome = c.series.optimizerName === name && c.batchSize === batchSize ? this.eligible(c) : null;
      return outcome ? [{ cell: c, outcome }] : [];
    });
    if (eligible.length === 0) return null;
    // Cells come in series order, so the first of equal ranks wins: deterministic.
    const best = eligible.reduce((a, b) => (b.outcome.rank > a.outcome.rank ? b : a));
    return { ...best, candidates: eligible.length };
  }

  /** Batch sizes where every named optimizer has an eligible cell, ascending. */
  commonBatches(names: readonly OptimizerName[]): number[] {
    const sizes = [...new Set(this.cells.map((c) => c.batchSize))].sort((a, b) => a - b);
    return sizes.filter((b) => names.every((n) => this.pick(n, b) !== null));
  }

  /** Runs of these optimizers at batch sizes >= from that did not finish ok: they are not counted. */
  notCounted(names: readonly OptimizerName[], from: number): string | null {
    const parts: string[] = [];
    for (const c of this.cells) {
      if (!names.includes(c.series.optimizerName) || c.batchSize < from) continue;
      const bad = c.runs.filter((r) => r.result.status !== 'ok');
      if (bad.length === 0) continue;
      const statuses = [...new Set(bad.map((r) => r.result.status))].sort();
      parts.push(
        `${c.series.display} b${c.batchSize}: ${statuses.map((s) => `${bad.filter((r) => r.result.status === s).length} ${s}`).join(', ')}`,
      );
    }
    return parts.length === 0 ? null : `not counted: ${parts.join('; ')}`;
  }

  /** Batch sizes an optimizer has eligible cells at (for "what is missing" messages). */
  batchesOf(name: OptimizerName): number[] {
    return this.commonBatches([name]);
  }
}

function describe(p: Picked): string {
  const c = p.cell;
  const best = p.candidates > 1 ? `, best of ${p.candidates}` : '';
  const { missed, accuracy, runs } = p.outcome;
  if (missed) return `${c.series.display} b${c.batchSize}: ${missed.what} in ${missed.count} of ${runs} seeds${best}`;
  return `${c.series.display} b${c.batchSize}: ${pctSummary(accuracy!)} % (n=${accuracy!.n}${best})`;
}

const spread = (...picked: Picked[]) => Math.max(0, ...picked.map((p) => (p.outcome.missed ? 0 : (p.outcome.accuracy!.std ?? 0))));

/** A drop in accuracy in words: points, or what a miss makes of it. */
function dropText(x: number, goal: string): string {
  if (x === Infinity) return `the ability to ${goal} (met at the small batch, missed in most seeds at the large)`;
  if (x === -Infinity) return `nothing (it fails to ${goal} in most seeds at the small batch, not at the large)`;
  return `${points(x, false)} points`;
}

/** A margin comparison's words; NaN never reaches here (both missed: inconclusive). */
const beyond = (x: number, m: number) => (x > m ? 'more than' : 'not more than');

function missing(allCells: readonly Cell[], cells: Cells, names: readonly OptimizerName[], minSeeds: number): string {
  const have = names.map((n) => {
    const mine = allCells.filter((c) => c.series.optimizerName === n && cells.runsOf(c) > 0);
    const sizes = [...new Set(mine.map((c) => c.batchSize))].sort((a, b) => a - b);
    if (sizes.length === 0) return `${n}: no ok run`;
    const seeds = (b: number) => Math.max(...mine.filter((c) => c.batchSize === b).map((c) => cells.runsOf(c)));
    return `${n}: ${sizes.map((b) => `b${b} (${seeds(b)} ok ${seeds(b) === 1 ? 'seed' : 'seeds'})`).join(', ')}`;
  });
  const common = cells.commonBatches(names);
  const what =
    names.length === 1 ? '' : common.length === 1 ? `; only b${common[0]} qualifies for all` : '; no batch size qualifies for all';
  return `needs ${listing([...names])} at two batch sizes with ≥ ${minSeeds} ok seeds each; has ${have.join('; ')}${what}`;
}

function inconclusive(id: ClaimId, reason: string): ClaimResult {
  return { id, claim: CLAIMS[id], verdict: 'inconclusive', numbers: [], reason, batchSizes: null };
}

const join = (...parts: (string | null)[]) => parts.filter((p): p is string => p !== null);

/** C1–C3 on some cells, as the scorer (the protocol) sees them: by default, final test accuracy. */
export function evaluateClaims(
  allCells: readonly Cell[],
  options: ClaimOptions = {},
  scorer: ClaimScorer = finalScorer(allCells),
): ClaimResult[] {
  const tol = options.tolerance ?? DEFAULT_TOLERANCE;
  const minSeeds = options.minSeeds ?? DEFAULT_MIN_SEEDS;
  const cells = new Cells(allCells, minSeeds, scorer);
  const margin = (...picked: Picked[]) => Math.max(tol, spread(...picked));

  const extremes = (names: readonly OptimizerName[]) => {
    const common = cells.commonBatches(names);
    return common.length < 2 ? null : { small: common[0], large: common[common.length - 1] };
  };

  const goal = scorer.goal ?? 'take part';
  const bothMissed = (id: ClaimId, who: string, b: { small: number; large: number }, numbers: string[]): ClaimResult => ({
    ...inconclusive(id, `${who} fails to ${goal} in most seeds at both b${b.small} and b${b.large}: no drop to compare`),
    numbers,
    batchSizes: b,
  });

  const c1 = (): ClaimResult => {
    const names: OptimizerName[] = ['sgd'];
    const b = extremes(names);
    if (!b) return inconclusive('C1', missing(allCells, cells, names, minSeeds));
    const small = cells.pick('sgd', b.small)!;
    const large = cells.pick('sgd', b.large)!;
    const numbers = join(`${describe(small)} → ${describe(large)}`, cells.notCounted(names, b.small));
    const drop = acc(small) - acc(large);
    if (Number.isNaN(drop)) return bothMissed('C1', 'SGD', b, numbers);
    const m = margin(small, large);
    const holds = drop > m;
    return {
      id: 'C1',
      claim: CLAIMS.C1,
      verdict: holds ? 'holds' : 'does not hold',
      numbers,
      reason: `SGD loses ${dropText(drop, goal)} from b${b.small} to b${b.large}: ${beyond(drop, m)} m = ${points(m, false)}`,
      batchSizes: b,
    };
  };

  const c2 = (): ClaimResult => {
    const names: OptimizerName[] = ['sgd', 'ngd'];
    const b = extremes(names);
    if (!b) return inconclusive('C2', missing(allCells, cells, names, minSeeds));
    const [s0, s1, n0, n1] = [
      cells.pick('sgd', b.small)!,
      cells.pick('sgd', b.large)!,
      cells.pick('ngd', b.small)!,
      cells.pick('ngd', b.large)!,
    ];
    const gaps = [n1, s1].filter((p) => !p.outcome.missed && p.outcome.gap !== null);
    const gap = (p: Picked) => `${p.cell.series.display} ${points(p.outcome.gap!.mean, false)}`;
    const numbers = join(
      `${describe(n0)} → ${describe(n1)}`,
      `${describe(s0)} → ${describe(s1)}`,
      gaps.length > 0 ? `generalization gap (train − test) at b${b.large}: ${gaps.map(gap).join(', ')} points` : null,
      cells.notCounted(names, b.small),
    );
    const sgdDrop = acc(s0) - acc(s1);
    const ngdDrop = acc(n0) - acc(n1);
    if (Number.isNaN(ngdDrop)) return bothMissed('C2', 'NGD', b, numbers);
    if (Number.isNaN(sgdDrop)) return bothMissed('C2', 'SGD', b, numbers);
    const excess = ngdDrop - sgdDrop;
    if (Number.isNaN(excess)) {
      return {
        ...inconclusive(
          'C2',
          `both NGD and SGD fail to ${goal} in most seeds at b${b.large} (and not at b${b.small}): no difference to measure`,
        ),
        numbers,
        batchSizes: b,
      };
    }
    const m = margin(s0, s1, n0, n1);
    const holds = excess > m;
    const extra = Number.isFinite(excess)
      ? `NGD's extra loss ${points(excess, false)} is`
      : `NGD's extra loss is ${excess > 0 ? 'unbounded' : 'negative'}:`;
    return {
      id: 'C2',
      claim: CLAIMS.C2,
      verdict: holds ? 'holds' : 'does not hold',
      numbers,
      reason: `from b${b.small} to b${b.large} NGD loses ${dropText(ngdDrop, goal)}, SGD ${Number.isFinite(sgdDrop) ? points(sgdDrop, false) : dropText(sgdDrop, goal)}: ${extra} ${beyond(excess, m)} m = ${points(m, false)}`,
      batchSizes: b,
    };
  };

  const c3 = (): ClaimResult => {
    const names: OptimizerName[] = ['sgd', 'smoothed-ngd'];
    const b = extremes(names);
    if (!b) return inconclusive('C3', missing(allCells, cells, names, minSeeds));
    const sgd = cells.pick('sgd', b.large)!;
    const smooth = cells.pick('smoothed-ngd', b.large)!;
    const ngd = cells.pick('ngd', b.large);
    const numbers = join(
      describe(smooth),
      describe(sgd),
      ngd ? describe(ngd) : null,
      cells.notCounted(['sgd', 'ngd', 'smoothed-ngd'], b.large),
    );
    const result = (holds: boolean, reason: string): ClaimResult => ({
      id: 'C3',
      claim: CLAIMS.C3,
      verdict: holds ? 'holds' : 'does not hold',
      numbers,
      reason,
      batchSizes: b,
    });
    // A cell that mostly missed has nothing to recover with, whatever the others did.
    if (smooth.outcome.missed) return result(false, `at b${b.large} smoothed NGD fails to ${goal} in most seeds`);
    const m = margin(sgd, smooth);
    const behind = acc(sgd) - acc(smooth);
    const matchesSgd = behind <= m;
    const beatsNgd = ngd === null || acc(smooth) > acc(ngd);
    // "Within m" only reads right for a shortfall; above SGD, say that it clears SGD − m.
    const vsSgd = !Number.isFinite(behind)
      ? `above SGD, which fails to ${goal} in most seeds`
      : behind > 0
        ? `${points(behind, false)} points below SGD (${matchesSgd ? 'within' : 'beyond'} m = ${points(m, false)})`
        : `${points(-behind, false)} points above SGD (so at least SGD − m, m = ${points(m, false)})`;
    const vsNgd =
      ngd === null
        ? 'NGD has no cell there (not compared)'
        : ngd.outcome.missed
          ? `above NGD, which fails to ${goal} in most seeds`
          : `${beatsNgd ? 'above' : 'not above'} NGD (${points(acc(smooth) - acc(ngd))} points)`;
    return result(matchesSgd && beatsNgd, `at b${b.large} smoothed NGD is ${vsSgd} and ${vsNgd}`);
  };

  return [c1(), c2(), c3()];
}
