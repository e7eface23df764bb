/** Everything the report and the leaderboard compute from one result set, in one pure pass. */
import { evaluateClaims, type ClaimOptions, type ClaimResult } from './paperClaims.js';
import { dateRange, environments, type EnvironmentGroup } from './environment.js';
import { groupRuns, type Grouped } from './groupRuns.js';
import type { ResultSet } from './loadResults.js';
import { chooseTarget, DEFAULT_TARGET_FRACTION, scalingEfficiency, timeToTarget, type CellTimeToTarget, type ScalingRow, type TargetChoice } from './timing.js';

export interface AnalysisOptions {
  claims?: ClaimOptions;
  /** Target test accuracy (fraction) for time-to-target; default: targetFraction x the best mean. */
  target?: number;
  targetFraction?: number;
}

export interface Analysis {
  set: ResultSet;
  grouped: Grouped;
  claims: ClaimResult[];
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
  return {
    set,
    grouped,
    claims: evaluateClaims(grouped.cells, options.claims),
    target,
    timeToTarget: target ? timeToTarget(grouped.cells, target.target) : [],
    scaling: scalingEfficiency(grouped.cells),
    environments: environments(grouped.runs),
    dates: dateRange(grouped.runs),
    suite: set.manifest?.suite ?? suites[0] ?? null,
    missing: set.manifest ? set.manifest.runIds.filter((id) => !ids.has(id)) : [],
  };
}
