/**
 * Watches a run's evaluations for its target: the first evaluation that meets it (steps, samples,
 * epochs and training seconds to target) and, whether met or not, the best value seen.
 */
import { better, meetsTarget } from '../config/budget.js';
import type { Target } from '../config/trainConfig.js';
import type { Evaluation, TargetOutcome } from '../results/runResult.js';

export class TargetTracker {
  private hit: Evaluation | null = null;
  private best: number | null = null;
  private bestAtStep: number | null = null;

  constructor(private readonly target: Target) {}

  get reached(): boolean {
    return this.hit !== null;
  }

  observe(point: Evaluation): void {
    const value = point[this.target.metric] ?? null;
    const improved = better(this.target.metric, this.best, value);
    if (improved !== this.best) {
      this.best = improved;
      this.bestAtStep = point.step;
    }
    if (this.hit === null && meetsTarget(this.target, value)) this.hit = point;
  }

  outcome(): TargetOutcome {
    const hit = this.hit;
    return {
      metric: this.target.metric,
      value: this.target.value,
      reached: hit !== null,
      stepsToTarget: hit?.step ?? null,
      samplesToTarget: hit?.samples ?? null,
      epochsToTarget: hit?.epoch ?? null,
      trainSecondsToTarget: hit?.trainSeconds ?? null,
      best: this.best,
      bestAtStep: this.bestAtStep,
    };
  }
}
