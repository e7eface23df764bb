/**
 * Steps to target per optimizer and batch size (Shallue et al. 2019): how many optimizer steps (and
 * training samples) ok runs with a target budget needed to meet it, and the critical batch size
 * read from how those steps scale with the batch. Pure.
 */
import type { Cell, Grouped, Series } from './groupRuns.js';
import { summarize, type Summary } from '../util/stats.js';
import { takesPart } from './protocols.js';

/** A batch size stays in the scaling regime while its mean steps are within this factor of perfect scaling. */
export const CRITICAL_FACTOR = 2;

export interface TargetCell {
  cell: Cell;
  /** Ok runs with a target budget, and how many of them met the target. */
  runs: number;
  reached: number;
  /** Over the runs that met it. */
  steps: Summary | null;
  samples: Summary | null;
  /** Training seconds to the target (evaluation excluded), over the runs that met it and recorded it. */
  seconds: Summary | null;
  /** More than half the runs met the target: the cell counts as reaching it. */
  mostlyReached: boolean;
  /** The most steps any of its runs trained (for a miss: the budget it exhausted). */
  stepsRun: number;
}

export function targetCells(grouped: Grouped): TargetCell[] {
  const out: TargetCell[] = [];
  for (const cell of grouped.cells) {
    const runs = cell.ok.filter((r) => r.result.target !== undefined);
    if (runs.length === 0) continue;
    const hits = runs.map((r) => r.result.target!).filter((t) => t.reached && t.stepsToTarget !== null);
    out.push({
      cell,
      runs: runs.length,
      reached: hits.length,
      steps: summarize(hits.map((t) => t.stepsToTarget!)),
      samples: summarize(hits.map((t) => t.samplesToTarget ?? t.stepsToTarget! * cell.batchSize)),
      seconds: summarize(hits.flatMap((t) => (t.trainSecondsToTarget === null ? [] : [t.trainSecondsToTarget]))),
      mostlyReached: 2 * hits.length > runs.length,
      stepsRun: Math.max(...runs.map((r) => r.result.timing.steps)),
    });
  }
  return out;
}

/**
 * A cell whose every run with a target budget diverged: it never met the target (a recorded outcome,
 * drawn in the charts), with the latest step any of its runs diverged at.
 */
export interface DivergedTargetCell {
  cell: Cell;
  diverged: number;
  step: number;
}

export function divergedTargetCells(grouped: Grouped): DivergedTargetCell[] {
  return grouped.cells.flatMap((cell) => {
    const withTarget = cell.runs.filter((r) => takesPart(r.result.config, 'target'));
    if (withTarget.length === 0 || withTarget.some((r) => r.result.status !== 'diverged')) return [];
    const steps = withTarget.flatMap((r) => (r.result.divergedAtStep === undefined ? [] : [r.result.divergedAtStep]));
    return steps.length === 0 ? [] : [{ cell, diverged: withTarget.length, step: Math.max(...steps) }];
  });
}

/** The distinct targets of the runs, as "validationAccuracy >= 0.87" (normally one). */
export function targetsOf(cells: readonly TargetCell[]): string[] {
  const targets = cells.flatMap((c) => c.cell.ok.flatMap((r) => (r.result.target ? [r.result.target] : [])));
  return [...new Set(targets.map((t) => `${t.metric} ${t.metric.endsWith('Accuracy') ? '>=' : '<='} ${t.value}`))].sort();
}

export interface ScalingPoint {
  batchSize: number;
  target: TargetCell;
  /** Mean steps / perfect scaling from the smallest batch size; null when the cell mostly missed the target. */
  ratio: number | null;
}

export interface CriticalBatch {
  series: Series;
  /** The smallest batch size and its mean steps: where perfect scaling starts. */
  base: { batchSize: number; steps: number } | null;
  points: ScalingPoint[];
  /** Null: inconclusive. `reason` says why, or what ended the scaling regime. */
  critical: number | null;
  /** Every batch size tested stayed within the factor: the critical batch size is at least `critical`. */
  atLeast: boolean;
  reason: string;
}

/** Steps perfect scaling predicts at batch b from (b0, s0): s0 × b0 / b. */
export const perfectSteps = (base: { batchSize: number; steps: number }, b: number) => (base.steps * base.batchSize) / b;

/**
 * Per series: the largest batch size up to which every batch size (ascending from the smallest) met the
 * target in most seeds with mean steps ≤ CRITICAL_FACTOR × perfect scaling from the smallest.
 */
export function criticalBatchSizes(cells: readonly TargetCell[], factor = CRITICAL_FACTOR): CriticalBatch[] {
  const seriesList = [...new Map(cells.map((c) => [c.cell.series.key, c.cell.series])).values()];
  return seriesList.map((series) => {
    const mine = cells.filter((c) => c.cell.series.key === series.key).sort((a, b) => a.cell.batchSize - b.cell.batchSize);
    const first = mine[0];
    const base = first.mostlyReached && first.steps ? { batchSize: first.cell.batchSize, steps: first.steps.mean } : null;
    const points = mine.map((t) => ({
      batchSize: t.cell.batchSize,
      target: t,
      ratio: base && t.mostlyReached && t.steps ? t.steps.mean / perfectSteps(base, t.cell.batchSize) : null,
    }));
    const none = (reason: string): CriticalBatch => ({ series, base, points, critical: null, atLeast: false, reason });
    if (mine.length < 2) return none(`target runs at one batch size only (b${first.cell.batchSize})`);
    if (!base)
      return none(`at its smallest batch size, b${first.cell.batchSize}, the target was met in ${first.reached} of ${first.runs} seeds`);
    let last = 0;
    while (last + 1 < points.length && points[last + 1].ratio !== null && points[last + 1].ratio! <= factor) last++;
    const critical = points[last].batchSize;
    if (last === points.length - 1) {
      return {
        series,
        base,
        points,
        critical,
        atLeast: true,
        reason: `every batch size tested stays within ${factor}× of perfect scaling`,
      };
    }
    const next = points[last + 1];
    const why =
      next.ratio === null
        ? `b${next.batchSize} met the target in ${next.target.reached} of ${next.target.runs} seeds`
        : `b${next.batchSize} needs ${next.ratio.toFixed(2)}× perfect scaling`;
    return { series, base, points, critical, atLeast: false, reason: why };
  });
}
