/**
 * The comparison protocols a result set can support, read from each run's budget (src/config/budget.ts):
 *   fixed epochs   every run trains N epochs; compare final test accuracy
 *   fixed steps    every run trains N steps; compare final test accuracy
 *   steps to target  runs train until a target is met (or a maximum); compare steps, and the test
 *                    accuracy at the step the target was met
 *   matched fit    every run read at the first evaluation where its train loss reaches a common level
 * A target run with stopAtTarget: false trains to its maximum, so it also serves the fixed protocol
 * of that maximum; one that stops at the target does not (only its misses would run the full budget).
 */
import { budgetLimit, describeBudget } from '../config/budget.js';
import type { TrainConfig } from '../config/trainConfig.js';
import { listing } from '../util/format.js';

export type ProtocolId = 'epochs' | 'steps' | 'target' | 'matched-fit';

export const PROTOCOL_IDS: readonly ProtocolId[] = ['epochs', 'steps', 'target', 'matched-fit'];

export const PROTOCOL_NAMES: Record<ProtocolId, string> = {
  epochs: 'fixed epochs',
  steps: 'fixed steps',
  target: 'steps to target',
  'matched-fit': 'matched fit',
};

type BudgetFields = Pick<TrainConfig, 'epochs' | 'budget'>;

const hasTarget = (config: BudgetFields) => config.budget !== undefined && 'target' in config.budget;
/** A target budget that ends the run at the first evaluation meeting it (the default). */
export const stopsAtTarget = (config: BudgetFields) =>
  config.budget !== undefined && 'target' in config.budget && (config.budget.stopAtTarget ?? true);

/** Does a run's budget let it take part in a budget protocol? (Matched fit takes every run with a curve.) */
export function takesPart(config: BudgetFields, protocol: Exclude<ProtocolId, 'matched-fit'>): boolean {
  if (protocol === 'target') return hasTarget(config);
  if (stopsAtTarget(config)) return false;
  return protocol in budgetLimit(config);
}

/** Why no run takes part in a budget protocol. */
export function noRunsReason(protocol: Exclude<ProtocolId, 'matched-fit'>): string {
  if (protocol === 'target') return 'no run has a target budget';
  return `no run has ${protocol === 'epochs' ? 'an epoch' : 'a steps'} budget (a target run counts only with stopAtTarget: false)`;
}

/**
 * When the final metrics were taken, for the labels of the final-accuracy tables: "after 10 epochs",
 * "at the stop (target met or budget exhausted; …)", or each budget when they differ.
 */
export function finalPointPhrase(configs: readonly BudgetFields[]): string {
  const budgets = [...new Set(configs.map(describeBudget))].sort();
  if (budgets.length === 0) return 'at the end of each run';
  if (budgets.length > 1)
    return `at the end of each run's budget (${listing(budgets.map((b) => `"${b}"`))}; a target run stops when it meets its target)`;
  const [budget] = budgets;
  if (configs.every(stopsAtTarget)) return `at the stop (target met or budget exhausted: ${budget})`;
  if (configs.every(hasTarget)) return `after the whole budget (${budget}; the target is only recorded)`;
  return `after ${budget}`;
}
