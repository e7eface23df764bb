/**
 * The baseline comparison as a report shows it: the same pure checker as `ngd-bench check`, reduced
 * to its regressions and improvements (missing runs and inconclusive timings stay in `check`'s output).
 */
import type { ReportFindings } from '../report/findings.js';
import { defaultTolerances, readBaseline } from '../check/baselineFile.js';
import { compare, hasRegression } from '../check/compare.js';
import { observe } from '../check/observe.js';
import { readResultsDirectory } from '../results/resultsDirectory.js';

export function baselineFindings(resultsDir: string, baselineFile: string): ReportFindings {
  const dir = readResultsDirectory(resultsDir);
  const baseline = readBaseline(baselineFile);
  if (!baseline) return { verdict: 'no-baseline', lines: [], baseline: baselineFile };
  const planned = dir.manifest ? { runIds: dir.manifest.runIds, partial: dir.manifest.shard !== null } : null;
  const report = compare({
    suite: dir.suite,
    results: dir.runs.map((r) => observe(r.result, dir.probes)),
    baseline,
    tolerances: baseline.tolerances ?? defaultTolerances(),
    planned,
    baselinePath: baselineFile,
  });
  const lines = report.findings
    .filter((f) => f.outcome === 'regression' || f.outcome === 'improvement')
    .map((f) => ({
      runId: f.label,
      metric: f.metric,
      baseline: f.baseline,
      result: f.result,
      delta: f.delta,
      threshold: f.threshold,
      kind: f.outcome as 'regression' | 'improvement',
      note: f.message,
    }));
  return { verdict: hasRegression(report) ? 'fail' : 'pass', lines, baseline: baselineFile };
}
