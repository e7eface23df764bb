/**
 * A run's budget in steps, and what "reaching the target" means. Pure: the trainer, the harness's
 * cost estimate and the reporter all read a config's budget through here.
 */
import type { Target, TargetMetric, TrainConfig } from './trainConfig.js';

export interface ResolvedBudget {
  kind: 'epochs' | 'steps' | 'target';
  /** Steps after which the run stops (the schedule spans them). */
  maxSteps: number;
  /** Epochs the run may start: ceil(maxSteps / stepsPerEpoch). */
  maxEpochs: number;
  target: Target | null;
  /** Stop at the first evaluation that meets the target (false: train on to maxSteps). */
  stopAtTarget: boolean;
}

type BudgetFields = Pick<TrainConfig, 'epochs' | 'budget'>;

/** The budget's limit, before the data says how many steps an epoch has. */
export function budgetLimit(config: BudgetFields): { epochs: number } | { steps: number } {
  const budget = config.budget;
  if (budget === undefined) return { epochs: config.epochs ?? 1 };
  return 'target' in budget ? budget.max : budget;
}

export function resolveBudget(config: BudgetFields, stepsPerEpoch: number): ResolvedBudget {
  const limit = budgetLimit(config);
  const maxSteps = 'epochs' in limit ? limit.epochs * stepsPerEpoch : limit.steps;
  const budget = config.budget;
  const target = budget !== undefined && 'target' in budget ? budget.target : null;
  return {
    stopAtTarget: budget !== undefined && 'target' in budget ? (budget.stopAtTarget ?? true) : false,
    kind: target ? 'target' : 'epochs' in limit ? 'epochs' : 'steps',
    maxSteps,
    maxEpochs: Math.ceil(maxSteps / stepsPerEpoch),
    target,
  };
}

/** The steps ceil(g^k) up to maxSteps, for evaluations spaced evenly on a log scale. */
export function geometricSteps(growth: number, maxSteps: number): Set<number> {
  const steps = new Set<number>();
  for (let x = 1; Math.ceil(x) <= maxSteps; x *= growth) steps.add(Math.ceil(x));
  return steps;
}

/** Accuracies are met from above, losses from below. */
export const higherIsBetter = (metric: TargetMetric | string): boolean => metric.endsWith('Accuracy');

export function meetsTarget(target: Target, value: number | null | undefined): boolean {
  if (value === null || value === undefined || !Number.isFinite(value)) return false;
  return higherIsBetter(target.metric) ? value >= target.value : value <= target.value;
}

/** The better of two observed values of a metric (null-safe). */
export function better(metric: TargetMetric, a: number | null, b: number | null): number | null {
  if (a === null || !Number.isFinite(a)) return b;
  if (b === null || !Number.isFinite(b)) return a;
  return higherIsBetter(metric) ? Math.max(a, b) : Math.min(a, b);
}

/** Describes a budget for humans, e.g. "10 epochs", "validationAccuracy >= 0.87 within 3000 steps". */
export function describeBudget(config: BudgetFields): string {
  const limit = budgetLimit(config);
  const limitText = 'epochs' in limit ? `${limit.epochs} epoch${limit.epochs === 1 ? '' : 's'}` : `${limit.steps} steps`;
  const budget = config.budget;
  if (budget === undefined || !('target' in budget)) return limitText;
  const { metric, value } = budget.target;
  return `${metric} ${higherIsBetter(metric) ? '>=' : '<='} ${value} within ${limitText}`;
}
