/**
 * The probe reports of several result directories as one (`merge` keeps every shard's probes, so the
 * merged directory's time checks still see them). Pure. Probes are only comparable on one machine:
 * reports from different environments are not merged (the first is kept, and a warning says so), and a
 * step probe measured twice (the same optimizer label and batch size) keeps its first measurement.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ProbeReport } from '../results/probeReport.js';

export interface ProbeSource {
  readonly file: string;
  readonly report: ProbeReport;
}

export function mergeProbeReports(sources: readonly ProbeSource[]): { report: ProbeReport | null; warnings: string[] } {
  if (sources.length === 0) return { report: null, warnings: [] };
  const [first, ...rest] = sources;
  const warnings: string[] = [];
  const stepPhases = [...first.report.stepPhases];
  const key = (p: ProbeReport['stepPhases'][number]) => `${p.optimizerLabel}\0${p.batchSize}`;
  const seen = new Set(stepPhases.map(key));
  let allreduce = first.report.allreduce;
  for (const source of rest) {
    if (source.report.suite !== first.report.suite) {
      warnings.push(`${source.file}: probes of suite '${source.report.suite}', not '${first.report.suite}': left out`);
      continue;
    }
    if (!isDeepStrictEqual(source.report.environment, first.report.environment)) {
      warnings.push(`${source.file}: probes from another environment than ${first.file} (timings compare only on one machine): left out`);
      continue;
    }
    for (const probe of source.report.stepPhases) {
      if (seen.has(key(probe))) continue;
      seen.add(key(probe));
      stepPhases.push(probe);
    }
    allreduce ??= source.report.allreduce;
  }
  return { report: { ...first.report, stepPhases, allreduce }, warnings };
}
