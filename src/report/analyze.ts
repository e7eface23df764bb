/** Everything the report and the leaderboard compute from one result set, in one pure pass. */
import { matchedFit, type MatchedFit } from './matchedFit.js';
import { evaluateClaims, finalScorer, type ClaimOptions, type ClaimResult, type ClaimScorer } from './paperClaims.js';
import { protocolClaims, type ProtocolClaims } from './protocolClaims.js';
import { finalPointPhrase } from './protocols.js';
import {
  criticalBatchSizes,
  divergedTargetCells,
  targetCells,
  type CriticalBatch,
  type DivergedTargetCell,
  type TargetCell,
} from './stepsToTarget.js';
import { dateRange, environments, type EnvironmentGroup } from './environment.js';
import { groupRuns, type Grouped } from './groupRuns.js';
import type { ResultSet } from './resultSet.js';
import {
  chooseTarget,
  DEFAULT_TARGET_FRACTION,
  scalingEfficiency,
  timeToTarget,
  type CellTimeToTarget,
  type ScalingRow,
  type TargetChoice,
} from './timing.js';

export interface AnalysisOptions {
  claims?: ClaimOptions;
  /** Target test accuracy (fraction) for time-to-target; default: targetFraction x the best mean. */
  target?: number;
  targetFraction?: number;
}

export interface Analysis {
  set: ResultSet;
  grouped: Grouped;
  /** C1–C3 on every run's final test accuracy, and how that scorer reads cells. */
  claims: ClaimResult[];
  claimScorer: ClaimScorer;
  /** When the final metrics were taken, e.g. "after 10 epochs". */
  finalPoint: string;
  /** C1–C3 under each protocol the runs' budgets may support. */
  protocols: ProtocolClaims[];
  /** Steps to target per cell (ok runs with a target budget) and the critical batch size per series. */
  targets: TargetCell[];
  /** Cells whose every target run diverged (drawn in the steps-to-target charts). */
  divergedTargets: DivergedTargetCell[];
  critical: CriticalBatch[];
  matchedFit: MatchedFit | null;
  target: TargetChoice | null;
  timeToTarget: CellTimeToTarget[];
  scaling: ScalingRow[];
  environments: EnvironmentGroup[];
  dates: { from: string; to: string } | null;
  /** The suite name (manifest first, then the runs' identities), or null for loose `train` results. */
  suite: string | null;
  /** Run ids the manifest planned that have no result file. */
  missing: string[];
}

export function analyzeResultSet(set: ResultSet, options: AnalysisOptions = {}): Analysis {
  const grouped = groupRuns(set.runs);
  const target = chooseTarget(grouped.cells, options.target, options.targetFraction ?? DEFAULT_TARGET_FRACTION);
  const ids = new Set(grouped.runs.map((r) => r.id));
  const suites = [...new Set(grouped.runs.map((r) => r.suite).filter((s) => s !== null))].sort();
  const finalPoint = finalPointPhrase(grouped.runs.map((r) => r.result.config));
  const claimScorer = finalScorer(grouped.cells, ` ${finalPoint}`);
  const fit = matchedFit(grouped);
  const targets = targetCells(grouped);
  return {
    set,
    grouped,
    claims: evaluateClaims(grouped.cells, options.claims, claimScorer),
    claimScorer,
    finalPoint,
    protocols: protocolClaims(set.runs, grouped, fit, options.claims),
    targets,
    divergedTargets: divergedTargetCells(grouped),
    critical: criticalBatchSizes(targets),
    matchedFit: fit,
    target,
    timeToTarget: target ? timeToTarget(grouped.cells, target.target) : [],
    scaling: scalingEfficiency(grouped.cells),
    environments: environments(grouped.runs),
    dates: dateRange(grouped.runs),
    suite: set.manifest?.suite ?? suites[0] ?? null,
    missing: set.manifest ? set.manifest.runIds.filter((id) => !ids.has(id)) : [],
  };
}
