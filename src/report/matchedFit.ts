/**
 * Generalization at matched fit: compare runs where they fit the training data equally well, not
 * where their budgets ended. L* is the largest, over the compared ok runs, of each run's lowest
 * recorded train loss, so every one of them reaches it; each run is read at its first evaluation with
 * train loss ≤ L*. Pure.
 */
import type { Cell, Grouped, RunView } from './groupRuns.js';
import { lowestTrainLoss, runCurve, type CurvePoint } from './runCurve.js';
import { summarize, type Summary } from '../util/stats.js';

export interface FitPoint extends CurvePoint {
  run: RunView;
  /** Only epoch ends were recorded: the point may lie well below L*. */
  epochResolution: boolean;
}

export interface MatchedFitCell {
  cell: Cell;
  points: FitPoint[];
  step: Summary;
  trainLoss: Summary;
  /** Null unless every point measured the validation split. */
  validationAccuracy: Summary | null;
  testAccuracy: Summary;
  /** trainAccuracy − testAccuracy at the point. */
  gap: Summary;
}

export interface MatchedFit {
  level: number;
  /** The run whose lowest train loss is L* (the worst-fitting run). */
  setBy: RunView;
  compared: number;
  /** Ok runs left out: no finite train loss recorded. */
  withoutCurve: RunView[];
  /** Compared runs with epoch-end evaluations only. */
  epochResolution: number;
  /** By run id. */
  points: Map<string, FitPoint>;
  cells: MatchedFitCell[];
}

export function matchedFit(grouped: Grouped): MatchedFit | null {
  const ok = grouped.cells.flatMap((c) => c.ok);
  const curves = ok.map((run) => ({ run, curve: runCurve(run.result) })).map((x) => ({ ...x, lowest: lowestTrainLoss(x.curve.points) }));
  const compared = curves.filter((x) => x.lowest !== null);
  if (compared.length === 0) return null;
  // Ties go to the first run in cell order: deterministic.
  const worst = compared.reduce((a, b) => (b.lowest! > a.lowest! ? b : a));
  const level = worst.lowest!;
  const points = new Map<string, FitPoint>();
  for (const { run, curve } of compared) {
    const p = curve.points.find((q) => q.trainLoss !== null && Number.isFinite(q.trainLoss) && q.trainLoss <= level)!;
    points.set(run.id, { ...p, run, epochResolution: curve.resolution === 'epochs' });
  }
  const cells: MatchedFitCell[] = [];
  for (const cell of grouped.cells) {
    const mine = cell.ok.flatMap((r) => points.get(r.id) ?? []);
    if (mine.length === 0) continue;
    cells.push({
      cell,
      points: mine,
      step: summarize(mine.map((p) => p.step))!,
      trainLoss: summarize(mine.map((p) => p.trainLoss!))!,
      validationAccuracy: mine.every((p) => p.validationAccuracy !== null) ? summarize(mine.map((p) => p.validationAccuracy!)) : null,
      testAccuracy: summarize(mine.map((p) => p.testAccuracy))!,
      gap: summarize(mine.map((p) => p.trainAccuracy - p.testAccuracy))!,
    });
  }
  return {
    level,
    setBy: worst.run,
    compared: compared.length,
    withoutCurve: curves.filter((x) => x.lowest === null).map((x) => x.run),
    epochResolution: compared.filter((x) => x.curve.resolution === 'epochs').length,
    points,
    cells,
  };
}
