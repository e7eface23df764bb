/**
 * Splitting a run matrix across CI jobs: `--shard i/n` (1-based). Each run lands in exactly one shard,
 * so shards 1..n together are the whole matrix with no overlap. Runs are dealt out by estimated cost
 * (longest first, each to the least-loaded shard; ties by expansion order, then lowest shard), which is
 * deterministic and keeps shards' wall-clock times close; within a shard runs keep the expansion order.
 */
import { budgetLimit } from '../config/budget.js';
import type { PlannedRun } from './plannedRun.js';
import { SPLIT_SIZES } from './datasetSizes.js';
import { SuiteError } from './suiteError.js';

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const bad = (why: string): never => {
    throw new SuiteError('--shard', [{ path: '', message: `'${text}' ${why}` }]);
  };
  if (!m) return bad("is not of the form i/n (e.g. '2/4': the second of four shards)");
  const index = Number(m![1]);
  const count = Number(m![2]);
  if (count < 1) bad('has no shards: n must be at least 1');
  if (index < 1 || index > count) bad(`is out of range: i must be between 1 and ${count} (shards are numbered from 1)`);
  return { index, count };
}

/** Relative cost multipliers per optimizer (per training example) and per-step K-FAC overheads; rough, for balancing only. */
const OPTIMIZER_COST: Record<string, number> = { sgd: 1, 'smoothed-sgd': 1.3, ngd: 2, 'smoothed-ngd': 2.6, 'sam-sgd': 2, 'sam-ngd': 3 };
const MODEL_COST: Record<string, number> = { mlp: 1, cnn: 8, resnet20: 40, 'deepobs-mlp': 5, '2c2d': 12, '3c3d': 10 };

/**
 * A run's expected cost in arbitrary units: examples processed (epochs x training set) times model and
 * optimizer factors, plus K-FAC's per-inversion work (independent of the batch), divided across workers.
 * Only the ratios between runs of one matrix matter.
 */
export function estimateRunCost(run: PlannedRun): number {
  const { config } = run;
  const trainCount = (config.dataset.trainSize ?? SPLIT_SIZES[config.dataset.name]?.train ?? 10_000) - (config.dataset.validationSize ?? 0);
  // A target run may stop early; its maximum is the only bound known before it runs.
  const limit = budgetLimit(config);
  const examples = 'epochs' in limit ? limit.epochs * trainCount : limit.steps * config.batchSize;
  const model = MODEL_COST[config.model.name] ?? 1;
  const perExample = model * (OPTIMIZER_COST[config.optimizer.name] ?? 1);
  const steps = examples / config.batchSize;
  const kfac = config.optimizer.kfac;
  // An inversion costs about as much as a step over 256 examples; it happens every inverseUpdateInterval steps.
  const inversions = kfac ? (steps / kfac.inverseUpdateInterval) * model * 256 : 0;
  return (examples * perExample + inversions) / run.workers;
}

/**
 * The runs of shard `index` of `count`. Deterministic: the same runs and shard always give the same
 * selection. `cost` defaults to estimateRunCost; pass measured times (e.g. from a baseline) to balance better.
 */
export function selectShard<R extends PlannedRun>(runs: readonly R[], shard: Shard, cost: (run: R) => number = estimateRunCost): R[] {
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 1 || shard.index > shard.count) {
    throw new SuiteError('--shard', [{ path: '', message: `shard ${shard.index}/${shard.count} is out of range` }]);
  }
  const costs = runs.map((r) => {
    const c = cost(r);
    return Number.isFinite(c) && c > 0 ? c : 0;
  });
  const order = runs.map((_, i) => i).sort((a, b) => costs[b] - costs[a] || a - b);
  const load = new Array<number>(shard.count).fill(0);
  const size = new Array<number>(shard.count).fill(0);
  const owner = new Array<number>(runs.length);
  for (const i of order) {
    // Least loaded; among equals, fewest runs (so equal costs are dealt round-robin); then the lowest shard.
    let best = 0;
    for (let s = 1; s < shard.count; s++) if (load[s] < load[best] || (load[s] === load[best] && size[s] < size[best])) best = s;
    owner[i] = best;
    load[best] += costs[i];
    size[best]++;
  }
  return runs.filter((_, i) => owner[i] === shard.index - 1);
}
