/**
 * The paper's claims (Naganuma & Yokota, CCGRID 2019) checked against a result set. Pure: cells in,
 * verdicts with the numbers behind them out. The rule is deliberately plain and is printed in the
 * report (CLAIM_RULES); it does not know which answer the paper expects.
 */
import type { OptimizerName } from '../config/trainConfig.js';
import { listing, pctSummary, points } from './format.js';
import type { Cell } from './groupRuns.js';

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

/** The rule, as the report states it. */
export function claimRules(options: ClaimOptions = {}): string[] {
  const tol = options.tolerance ?? DEFAULT_TOLERANCE;
  const minSeeds = options.minSeeds ?? DEFAULT_MIN_SEEDS;
  return [
    `Accuracy is the final test accuracy, mean over seeds; a cell (an optimizer at one batch size) takes part only with at least ${minSeeds} ok seeds.`,
    `A difference counts when it exceeds the margin m = max(${points(tol, false)} points, the largest sample std over seeds among the cells compared).`,
    'Optimizers are found by their name in the config (sgd, ngd, smoothed-ngd). Where one has several configurations at a batch size (labels, sweep values, worker counts), the one with the best mean test accuracy there is used: picked on the test set, as a sweep would be, which favours optimizers with more configurations.',
    '"Small" and "large" batch are the smallest and largest batch sizes at which every optimizer a claim compares has a cell; a claim needs two distinct ones, else it is inconclusive.',
    'C1 holds if SGD loses more than m from small to large batch. C2 holds if NGD loses more than SGD does, by more than m. C3 holds if at large batch smoothed NGD is at least SGD − m and, when NGD has a cell there, above NGD. Otherwise a claim does not hold.',
  ];
}

interface Picked {
  cell: Cell;
  /** Configurations of the optimizer eligible at that batch size. */
  candidates: number;
}

class Cells {
  constructor(
    private readonly cells: readonly Cell[],
    private readonly minSeeds: number,
  ) {}

  /** The best eligible cell of an optimizer at a batch size. */
  pick(name: OptimizerName, batchSize: number): Picked | null {
    const eligible = this.cells.filter(
      (c) => c.series.optimizerName === name && c.batchSize === batchSize && c.testAccuracy !== null && c.ok.length >= this.minSeeds,
    );
    if (eligible.length === 0) return null;
    // Cells come in series order, so the first of equal means wins: deterministic.
    const best = eligible.reduce((a, b) => (b.testAccuracy!.mean > a.testAccuracy!.mean ? b : a));
    return { cell: best, candidates: eligible.length };
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
      parts.push(`${c.series.display} b${c.batchSize}: ${statuses.map((s) => `${bad.filter((r) => r.result.status === s).length} ${s}`).join(', ')}`);
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
  return `${c.series.display} b${c.batchSize}: ${pctSummary(c.testAccuracy!)} % (n=${c.testAccuracy!.n}${best})`;
}

const spread = (...picked: Picked[]) => Math.max(...picked.map((p) => p.cell.testAccuracy!.std ?? 0));

function missing(allCells: readonly Cell[], cells: Cells, names: readonly OptimizerName[], minSeeds: number): string {
  const have = names.map((n) => {
    const mine = allCells.filter((c) => c.series.optimizerName === n && c.ok.length > 0);
    const sizes = [...new Set(mine.map((c) => c.batchSize))].sort((a, b) => a - b);
    if (sizes.length === 0) return `${n}: no ok run`;
    const seeds = (b: number) => Math.max(...mine.filter((c) => c.batchSize === b).map((c) => c.ok.length));
    return `${n}: ${sizes.map((b) => `b${b} (${seeds(b)} ok ${seeds(b) === 1 ? 'seed' : 'seeds'})`).join(', ')}`;
  });
  const common = cells.commonBatches(names);
  const what = names.length === 1 ? '' : common.length === 1 ? `; only b${common[0]} qualifies for all` : '; no batch size qualifies for all';
  return `needs ${listing([...names])} at two batch sizes with ≥ ${minSeeds} ok seeds each; has ${have.join('; ')}${what}`;
}

function inconclusive(id: ClaimId, reason: string): ClaimResult {
  return { id, claim: CLAIMS[id], verdict: 'inconclusive', numbers: [], reason, batchSizes: null };
}

const join = (...parts: (string | null)[]) => parts.filter((p): p is string => p !== null);

export function evaluateClaims(allCells: readonly Cell[], options: ClaimOptions = {}): ClaimResult[] {
  const tol = options.tolerance ?? DEFAULT_TOLERANCE;
  const minSeeds = options.minSeeds ?? DEFAULT_MIN_SEEDS;
  const cells = new Cells(allCells, minSeeds);
  const margin = (...picked: Picked[]) => Math.max(tol, spread(...picked));

  const extremes = (names: readonly OptimizerName[]) => {
    const common = cells.commonBatches(names);
    return common.length < 2 ? null : { small: common[0], large: common[common.length - 1] };
  };

  const c1 = (): ClaimResult => {
    const names: OptimizerName[] = ['sgd'];
    const b = extremes(names);
    if (!b) return inconclusive('C1', missing(allCells, cells, names, minSeeds));
    const small = cells.pick('sgd', b.small)!;
    const large = cells.pick('sgd', b.large)!;
    const drop = small.cell.testAccuracy!.mean - large.cell.testAccuracy!.mean;
    const m = margin(small, large);
    const holds = drop > m;
    return {
      id: 'C1',
      claim: CLAIMS.C1,
      verdict: holds ? 'holds' : 'does not hold',
      numbers: join(`${describe(small)} → ${describe(large)}`, cells.notCounted(names, b.small)),
      reason: `SGD loses ${points(drop, false)} points from b${b.small} to b${b.large}: ${holds ? 'more than' : 'not more than'} m = ${points(m, false)}`,
      batchSizes: b,
    };
  };

  const c2 = (): ClaimResult => {
    const names: OptimizerName[] = ['sgd', 'ngd'];
    const b = extremes(names);
    if (!b) return inconclusive('C2', missing(allCells, cells, names, minSeeds));
    const [s0, s1, n0, n1] = [cells.pick('sgd', b.small)!, cells.pick('sgd', b.large)!, cells.pick('ngd', b.small)!, cells.pick('ngd', b.large)!];
    const sgdDrop = s0.cell.testAccuracy!.mean - s1.cell.testAccuracy!.mean;
    const ngdDrop = n0.cell.testAccuracy!.mean - n1.cell.testAccuracy!.mean;
    const excess = ngdDrop - sgdDrop;
    const m = margin(s0, s1, n0, n1);
    const holds = excess > m;
    const gap = (p: Picked) => `${p.cell.series.display} ${points(p.cell.gap!.mean, false)}`;
    return {
      id: 'C2',
      claim: CLAIMS.C2,
      verdict: holds ? 'holds' : 'does not hold',
      numbers: join(
        `${describe(n0)} → ${describe(n1)}`,
        `${describe(s0)} → ${describe(s1)}`,
        `generalization gap (train − test) at b${b.large}: ${gap(n1)}, ${gap(s1)} points`,
        cells.notCounted(names, b.small),
      ),
      reason: `from b${b.small} to b${b.large} NGD loses ${points(ngdDrop, false)} points, SGD ${points(sgdDrop, false)}: NGD's extra loss ${points(excess, false)} is ${holds ? 'more than' : 'not more than'} m = ${points(m, false)}`,
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
    const m = margin(sgd, smooth);
    const behind = sgd.cell.testAccuracy!.mean - smooth.cell.testAccuracy!.mean;
    const matchesSgd = behind <= m;
    const beatsNgd = ngd === null || smooth.cell.testAccuracy!.mean > ngd.cell.testAccuracy!.mean;
    // "Within m" only reads right for a shortfall; above SGD, say that it clears SGD − m.
    const vsSgd =
      behind > 0
        ? `${points(behind, false)} points below SGD (${matchesSgd ? 'within' : 'beyond'} m = ${points(m, false)})`
        : `${points(-behind, false)} points above SGD (so at least SGD − m, m = ${points(m, false)})`;
    const vsNgd =
      ngd === null
        ? 'NGD has no cell there (not compared)'
        : `${beatsNgd ? 'above' : 'not above'} NGD (${points(smooth.cell.testAccuracy!.mean - ngd.cell.testAccuracy!.mean)} points)`;
    return {
      id: 'C3',
      claim: CLAIMS.C3,
      verdict: matchesSgd && beatsNgd ? 'holds' : 'does not hold',
      numbers: join(describe(smooth), describe(sgd), ngd ? describe(ngd) : null, cells.notCounted(['sgd', 'ngd', 'smoothed-ngd'], b.large)),
      reason: `at b${b.large} smoothed NGD is ${vsSgd} and ${vsNgd}`,
      batchSizes: b,
    };
  };

  return [c1(), c2(), c3()];
}
