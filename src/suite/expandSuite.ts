/**
 * A suite -> its run matrix. Order (deterministic): optimizers (file order) > batchSizes > workers >
 * sweep values (first sweep outermost, values in file order) > seeds, so the seeds of one
 * configuration are adjacent. Every cell is resolved through resolveTrainConfig.
 */
import { UnknownNameError, resolveTrainConfig } from '../config/resolveConfig.js';
import type { TrainConfig } from '../config/trainConfig.js';
import { ValidationError } from '../config/validate.js';
import { semanticProblems } from './checkSuite.js';
import { trainExamples } from './datasetSizes.js';
import { optimizerUses } from '../config/trainConfig.js';
import { setPath } from './configPaths.js';
import { compileFilter } from './filter.js';
import type { PlannedRun, SweepValue } from './plannedRun.js';
import { configHash, runId, runName, sweepKeys } from './runId.js';
import { SuiteError, type SuiteProblem } from './suiteError.js';
import { labelOf, workersFor, type OptimizerEntry, type Suite } from './suiteSchema.js';
import { ghostBatchProblem, lowRankGradientProblem } from '../config/batchSplits.js';

export interface ExpandOptions {
  /** Keep only matching runs; see compileFilter in filter.ts. No match is an error. */
  filter?: string;
}

export interface RunCell {
  optimizerLabel: string;
  batchSize: number;
  seed: number;
  /** Swept values keyed by config path. */
  sweep?: Readonly<Record<string, SweepValue>>;
  /** Values chosen by tuning, keyed by config path (applied after the swept ones). */
  tuned?: Readonly<Record<string, SweepValue>>;
}

/**
 * Which part of a suite's matrix to plan: the suite's own (default), its tuning runs (the tuning seeds,
 * the tune grid as extra axes), or its final runs (each cell with the values tuning selected).
 */
export interface MatrixOptions {
  seeds?: readonly number[];
  batchSizes?: readonly number[];
  /** Extra swept axes (the tune grid): in run names and the run identity's sweep like any sweep. */
  extraSweeps?: Suite['sweep'];
  /** Replaces the suite's budget (tuning runs that select by steps-to-target stop at the target). */
  budget?: Suite['budget'];
  /** Values fixed per optimizer and batch size (tuning's selection); undefined leaves the cell out. */
  tunedValues?: (optimizerLabel: string, batchSize: number) => Readonly<Record<string, SweepValue>> | undefined;
}

/** The training config (before resolution) of one cell: suite settings, then defaults, then the optimizer entry, then swept values. */
export function runConfigInput(suite: Suite, entry: OptimizerEntry, cell: Omit<RunCell, 'optimizerLabel'>): Record<string, unknown> {
  const { kfac: defaultKfac, smoothing: defaultSmoothing, sam: defaultSam, ...defaultScalars } = suite.defaults;
  const { name, label: _label, kfac, smoothing, sam, ...scalars } = entry;
  const optimizer: Record<string, unknown> = { name, ...defaultScalars, ...scalars };
  // Sections merge per key, and a default section reaches only the optimizers that read it.
  if (optimizerUses(name, 'kfac') && (defaultKfac || kfac)) optimizer.kfac = { ...defaultKfac, ...kfac };
  if (optimizerUses(name, 'smoothing') && (defaultSmoothing || smoothing)) optimizer.smoothing = { ...defaultSmoothing, ...smoothing };
  if (optimizerUses(name, 'sam') && (defaultSam || sam)) optimizer.sam = { ...defaultSam, ...sam };
  const evalEverySteps =
    suite.evalEverySamples !== undefined ? Math.max(1, Math.round(suite.evalEverySamples / cell.batchSize)) : suite.evalEverySteps;
  const input: Record<string, unknown> = structuredClone({
    model: suite.model,
    dataset: suite.dataset,
    schedule: suite.schedule,
    ...(suite.epochs !== undefined ? { epochs: suite.epochs } : {}),
    ...(suite.budget !== undefined ? { budget: suite.budget } : {}),
    ...(evalEverySteps !== undefined ? { evalEverySteps } : {}),
    ...(suite.evalGrowth !== undefined ? { evalGrowth: suite.evalGrowth } : {}),
    ...(suite.microBatchSize !== undefined ? { microBatchSize: suite.microBatchSize } : {}),
    evalBatchSize: suite.evalBatchSize,
    backend: suite.backend,
    optimizer,
    batchSize: cell.batchSize,
    seed: cell.seed,
  });
  for (const [path, value] of Object.entries({ ...cell.sweep, ...cell.tuned })) setPath(input, path, value);
  return input;
}

/** The resolved TrainConfig of one cell (e.g. for timing probes). Throws UnknownNameError / ValidationError. */
export function runConfig(suite: Suite, cell: RunCell): TrainConfig {
  const entry = suite.optimizers.find((e) => labelOf(e) === cell.optimizerLabel);
  if (!entry) throw new SuiteError(`suite ${suite.name}`, [{ path: '', message: `no optimizer labelled '${cell.optimizerLabel}'` }]);
  return resolveTrainConfig(runConfigInput(suite, entry, cell), `suite ${suite.name} ${cell.optimizerLabel}`);
}

/** The cartesian product of sweeps, first sweep outermost. */
function sweepCombinations(sweeps: Suite['sweep']): Record<string, SweepValue>[] {
  let combos: Record<string, SweepValue>[] = [{}];
  for (const sweep of sweeps) combos = combos.flatMap((c) => sweep.values.map((v) => ({ ...c, [sweep.path]: v })));
  return combos;
}

/**
 * resolveTrainConfig's problems (`/optimizer/lr: must be > 0`) at the place in the suite they come
 * from: optimizer settings at the optimizer entry, the rest where the suite sets them.
 */
function resolveProblems(error: ValidationError | UnknownNameError, entryIndex: number): SuiteProblem[] {
  const lines = error instanceof ValidationError ? error.problems : [error.message];
  return lines.map((line) => {
    const m = /^(\/\S*): (.*)$/.exec(line);
    if (!m) return { path: `/optimizers/${entryIndex}`, message: line };
    const path = m[1].startsWith('/optimizer/')
      ? `/optimizers/${entryIndex}/${m[1].slice('/optimizer/'.length)}`
      : m[1] === '/optimizer'
        ? `/optimizers/${entryIndex}`
        : m[1];
    return { path, message: m[2] };
  });
}

/** Every run of the suite, or every problem that stops the suite from being run. */
export function planRuns(suite: Suite, matrix: MatrixOptions = {}): { runs: PlannedRun[]; problems: SuiteProblem[] } {
  const semantic = semanticProblems(suite);
  if (semantic.length > 0) return { runs: [], problems: semantic };
  const sweeps = [...suite.sweep, ...(matrix.extraSweeps ?? [])];
  const keys = sweepKeys(sweeps.map((s) => s.path));
  const runs: PlannedRun[] = [];
  const byHash = new Map<string, { run: PlannedRun; entry: number }>();
  // The same problem in many runs is reported once, with the first run and how many more.
  const failures = new Map<string, { problem: SuiteProblem; run: string; count: number }>();
  const fail = (problem: SuiteProblem, run: string) => {
    const key = `${problem.path}\0${problem.message}`;
    const seen = failures.get(key);
    if (seen) seen.count++;
    else failures.set(key, { problem, run, count: 1 });
  };
  const duplicates: SuiteProblem[] = [];
  suite.optimizers.forEach((entry, entryIndex) => {
    const label = labelOf(entry);
    const combos = sweepCombinations(sweeps.filter((s) => s.optimizers === undefined || s.optimizers.includes(label)));
    for (const batchSize of matrix.batchSizes ?? suite.batchSizes) {
      const tuned = matrix.tunedValues ? matrix.tunedValues(label, batchSize) : {};
      if (tuned === undefined) continue;
      for (const workers of workersFor(suite, batchSize)) {
        for (const sweep of combos) {
          for (const seed of matrix.seeds ?? suite.seeds) {
            const name = runName({ optimizerLabel: label, batchSize, workers, seed, sweep }, keys);
            let config: TrainConfig;
            try {
              const input = runConfigInput(suite, entry, { batchSize, seed, sweep, tuned });
              if (matrix.budget !== undefined) input.budget = structuredClone(matrix.budget);
              config = resolveTrainConfig(input, `run ${name}`);
            } catch (error) {
              if (!(error instanceof ValidationError || error instanceof UnknownNameError)) throw error;
              for (const problem of resolveProblems(error, entryIndex)) fail(problem, name);
              continue;
            }
            const examples = trainExamples(config.dataset);
            if (examples && config.batchSize > examples.count) {
              // Only reachable through a swept dataset setting (checkSuite covers the suite's own).
              const sweepIndex = sweeps.findIndex((s) => s.path.startsWith('dataset.') && s.path in sweep);
              const message = `batch size ${config.batchSize} exceeds the ${examples.count} training examples (${examples.source}): no full batch can be formed`;
              const at =
                sweepIndex < 0
                  ? '/dataset'
                  : sweepIndex < suite.sweep.length
                    ? `/sweep/${sweepIndex}`
                    : `/tune/grid/${sweepIndex - suite.sweep.length}`;
              fail({ path: at, message }, name);
              continue;
            }
            const ghost = ghostBatchProblem(config, workers);
            if (ghost !== null) {
              fail({ path: `/optimizers/${entryIndex}/smoothing/ghostBatchSize`, message: ghost }, name);
              continue;
            }
            const lowRank = lowRankGradientProblem(config, workers);
            if (lowRank !== null) {
              fail({ path: `/optimizers/${entryIndex}/kfac/lowRankGradient`, message: lowRank }, name);
              continue;
            }
            const hash = configHash(config, workers);
            const run: PlannedRun = {
              id: runId(name, hash),
              name,
              configHash: hash,
              suite: suite.name,
              optimizerLabel: label,
              config,
              workers,
              sweep,
              ...(matrix.tunedValues ? { tuned } : {}),
              timeoutSeconds: Math.round(suite.run.timeoutMinutes * 60),
              retries: suite.run.retries,
            };
            const twin = byHash.get(hash);
            if (twin) {
              duplicates.push({
                path: `/optimizers/${entryIndex}`,
                message: `runs '${twin.run.name}' (/optimizers/${twin.entry}) and '${name}' have the same resolved config and workers (hash ${hash.slice(0, 10)}); remove one or make them differ`,
              });
            } else byHash.set(hash, { run, entry: entryIndex });
            runs.push(run);
          }
        }
      }
    }
  });
  const problems = [...failures.values()].map(({ problem, run, count }) => ({
    path: problem.path,
    message: `${problem.message} (run '${run}'${count > 1 ? ` and ${count - 1} more` : ''})`,
  }));
  return { runs, problems: [...problems, ...duplicates] };
}

/** The run matrix of a (schema-valid) suite; throws SuiteError listing every problem. */
export function expandSuite(suite: Suite, options: ExpandOptions = {}): PlannedRun[] {
  const { runs, problems } = planRuns(suite);
  if (problems.length > 0) throw new SuiteError(`suite ${suite.name}`, problems);
  return filterRuns(runs, options.filter, suite.name);
}

/** The runs matching --filter (all without one); a filter that matches none is a SuiteError. */
export function filterRuns(runs: PlannedRun[], filter: string | undefined, suiteName: string): PlannedRun[] {
  if (filter === undefined || filter.trim() === '') return runs;
  const matches = compileFilter(filter, runs);
  const kept = runs.filter(matches);
  if (kept.length === 0) {
    throw new SuiteError('--filter', [{ path: '', message: `'${filter}' matches none of the ${runs.length} runs of suite ${suiteName}` }]);
  }
  return kept;
}
