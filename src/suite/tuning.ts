/**
 * A tuned suite in two phases (external tuning, as AlgoPerf calls it): the tuning runs (every candidate
 * of the tune grid on the tuning seeds, at every batch size or at one), then the final runs on the
 * suite's seeds with the values the selection chose per optimizer and batch size. The selection itself
 * is selectTuned.ts; this file plans runs only.
 */
import { planRuns, type MatrixOptions } from './expandSuite.js';
import type { PlannedRun, SweepValue } from './plannedRun.js';
import { SuiteError } from './suiteError.js';
import type { Suite, Tune } from './suiteSchema.js';
import type { TuningSelection } from '../results/tuningSelection.js';

/** The batch sizes values are selected at: each of the suite's, or the one it selects at. */
export function selectionBatchSizes(suite: Suite, tune: Tune): number[] {
  return tune.perBatchSize ? [...suite.batchSizes] : [tune.atBatchSize ?? suite.batchSizes[0]];
}

/** The batch sizes tuning runs at: where values are selected, and everywhere when stability is judged at every batch size. */
export function tuningBatchSizes(suite: Suite, tune: Tune): number[] {
  return tune.select.stability === 'every-batch-size' ? [...suite.batchSizes] : selectionBatchSizes(suite, tune);
}

/**
 * Tuning runs: the tuning seeds, the grid as extra axes; when selecting by steps-to-target they stop at
 * the target even if the final runs train on (nothing after it changes the selection).
 */
export function tuningMatrix(suite: Suite, tune: Tune): MatrixOptions {
  const matrix: MatrixOptions = { seeds: tune.seeds, batchSizes: tuningBatchSizes(suite, tune), extraSweeps: tune.grid };
  const budget = suite.budget;
  if (tune.select.metric === 'stepsToTarget' && budget !== undefined && 'target' in budget && budget.stopAtTarget === false) {
    const { stopAtTarget: _trainOn, ...stopping } = budget;
    matrix.budget = stopping;
  }
  return matrix;
}

function planned(suite: Suite, matrix: MatrixOptions): PlannedRun[] {
  const { runs, problems } = planRuns(suite, matrix);
  if (problems.length > 0) throw new SuiteError(`suite ${suite.name}`, problems);
  return runs;
}

/** Every tuning run of a tuned suite. */
export function planTuningRuns(suite: Suite): PlannedRun[] {
  if (!suite.tune) throw new Error(`internal error: suite ${suite.name} has no "tune" section`);
  return planned(suite, tuningMatrix(suite, suite.tune));
}

/**
 * The final runs: each optimizer x batch size with its selected values (an optimizer the grid does not
 * apply to keeps its configured values). A cell the selection could not decide is left out (the
 * selection says why).
 */
export function planFinalRuns(suite: Suite, selection: TuningSelection): PlannedRun[] {
  const tunedValues = (label: string, batchSize: number): Readonly<Record<string, SweepValue>> | undefined => {
    const applies = suite.tune?.grid.some((g) => g.optimizers === undefined || g.optimizers.includes(label));
    if (!applies) return {};
    const cell = selection.cells.find((c) => c.optimizerLabel === label && (c.batchSize === null || c.batchSize === batchSize));
    return cell?.chosen?.values;
  };
  return planned(suite, { tunedValues });
}
