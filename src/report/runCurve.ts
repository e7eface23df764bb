/**
 * A run's evaluation curve: every point at which all splits were measured, in step order. Runs with
 * `evaluations` give those; older runs give their epoch ends (so matched-fit comparisons work on
 * fixed-epoch results too, at epoch resolution).
 */
import type { RunResult } from '../results/runResult.js';

export interface CurvePoint {
  step: number;
  samples: number;
  trainLoss: number | null;
  trainAccuracy: number;
  validationAccuracy: number | null;
  testAccuracy: number;
}

export interface RunCurve {
  points: CurvePoint[];
  /** 'epochs': only epoch ends were recorded (older results). */
  resolution: 'evaluations' | 'epochs';
}

export function runCurve(result: RunResult): RunCurve {
  const batch = result.config.batchSize;
  if (result.evaluations !== undefined && result.evaluations.length > 0) {
    const points = result.evaluations.map((e) => ({
      step: e.step,
      samples: e.samples,
      trainLoss: e.trainLoss,
      trainAccuracy: e.trainAccuracy,
      validationAccuracy: e.validationAccuracy ?? null,
      testAccuracy: e.testAccuracy,
    }));
    return { points, resolution: 'evaluations' };
  }
  // EpochMetrics.steps counts steps from the start of training.
  const points = result.epochs.map((e) => ({
    step: e.steps,
    samples: e.steps * batch,
    trainLoss: e.trainLoss,
    trainAccuracy: e.trainAccuracy,
    validationAccuracy: e.validationAccuracy ?? null,
    testAccuracy: e.testAccuracy,
  }));
  return { points, resolution: 'epochs' };
}

/** The point recorded after exactly `step` steps, if any. */
export function pointAtStep(result: RunResult, step: number): CurvePoint | null {
  return runCurve(result).points.find((p) => p.step === step) ?? null;
}

/** The lowest finite train loss on the curve, or null when none was recorded. */
export function lowestTrainLoss(points: readonly CurvePoint[]): number | null {
  let lowest: number | null = null;
  for (const p of points)
    if (p.trainLoss !== null && Number.isFinite(p.trainLoss) && (lowest === null || p.trainLoss < lowest)) lowest = p.trainLoss;
  return lowest;
}

/** The run recorded validation accuracy at its evaluations (a curve to plot against steps). */
export const hasValidationCurve = (result: RunResult): boolean =>
  (result.evaluations ?? []).some((e) => e.validationAccuracy !== undefined);
