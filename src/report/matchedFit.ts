/**
 * Generalization at matched fit: compare runs where they fit the training data equally well, not
 * where their budgets ended. L* is the largest, over the ok runs that set it (below), of each run's
 * lowest recorded train loss, so every one of them reaches it; each run is read at its first evaluation with
 * train loss ≤ L*. A run whose budget was a target and that missed it (it trained its whole step
 * budget without fitting: paper-cnn's SGD at b4096 sat at chance accuracy for 600 steps) sets no L*:
 * otherwise its lowest loss, reached before it collapsed, would move every run's reading point to the
 * start of training (there L* went from 0.39 to 1.33, test accuracies from ~86 % to ~60 %). Such a run
 * is compared only if it reaches the L* of the others; else it is named as not reaching it. Pure.
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
  /** Ok runs with a train loss that missed their target and so set no L* (0 where every run missed it). */
  missedTarget: number;
  /** The runs L* is the largest lowest train loss of. */
  levelRuns: number;
  /** Ok runs that missed their target and never reached L* (set by the others), with their lowest train loss. */
  notReached: { run: RunView; lowest: number }[];
  /** Compared runs with epoch-end evaluations only. */
  epochResolution: number;
  /** By run id. */
  points: Map<string, FitPoint>;
  cells: MatchedFitCell[];
}

export function matchedFit(grouped: Grouped): MatchedFit | null {
  const ok = grouped.cells.flatMap((c) => c.ok);
  const curves = ok.map((run) => ({ run, curve: runCurve(run.result) })).map((x) => ({ ...x, lowest: lowestTrainLoss(x.curve.points) }));
  const withCurve = curves.filter((x) => x.lowest !== null);
  const setters = withCurve.filter((x) => !missedTarget(x.run));
  // Where every run missed its target, they all set L* (no run fitted better to be matched against).
  const candidates = setters.length > 0 ? setters : withCurve;
  if (candidates.length === 0) return null;
  // Ties go to the first run in cell order: deterministic.
  const worst = candidates.reduce((a, b) => (b.lowest! > a.lowest! ? b : a));
  const level = worst.lowest!;
  const compared = withCurve.filter((x) => x.lowest! <= level);
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
    missedTarget: candidates === setters ? withCurve.length - setters.length : 0,
    levelRuns: candidates.length,
    notReached: withCurve.filter((x) => x.lowest! > level).map((x) => ({ run: x.run, lowest: x.lowest! })),
    epochResolution: compared.filter((x) => x.curve.resolution === 'epochs').length,
    points,
    cells,
  };
}

/** An ok run with a target budget that did not meet it. */
function missedTarget(run: RunView): boolean {
  return run.result.target !== undefined && !run.result.target.reached;
}
