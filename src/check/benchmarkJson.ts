/**
 * `check --benchmark-json FILE`: the results in github-action-benchmark's custom formats, an array of
 * `{ name, unit, value, range?, extra? }` per file. The action takes one `tool` per file, so two files
 * are written next to each other:
 *
 *   <FILE without .json>.bigger.json   tool: customBiggerIsBetter   test accuracy (%), samples/s
 *   <FILE without .json>.smaller.json  tool: customSmallerIsBetter  median epoch seconds, probe step ms
 *
 * Only ok runs contribute (a diverged run has no final accuracy). Names are `<suite>/<run name> <what>`;
 * the run id and environment go to `extra`.
 */
import type { ProbeReport } from '../results/probeReport.js';
import { deviceOf, formatFingerprint, type Observation } from './observe.js';
import { sampleStdDev } from '../util/stats.js';

export interface BenchmarkEntry {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly range?: string;
  readonly extra?: string;
}

export interface BenchmarkJson {
  readonly customBiggerIsBetter: BenchmarkEntry[];
  readonly customSmallerIsBetter: BenchmarkEntry[];
}

export function benchmarkJsonPaths(file: string): { bigger: string; smaller: string } {
  const base = file.replace(/\.json$/i, '');
  return { bigger: `${base}.bigger.json`, smaller: `${base}.smaller.json` };
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

export function toBenchmarkJson(suite: string, results: readonly Observation[], probes: ProbeReport | null = null): BenchmarkJson {
  const bigger: BenchmarkEntry[] = [];
  const smaller: BenchmarkEntry[] = [];
  const ok = [...results].filter((r) => r.status === 'ok').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const r of ok) {
    const extra = `run ${r.runId}\n${formatFingerprint(r.environment)}`;
    if (r.testAccuracy !== null)
      bigger.push({ name: `${suite}/${r.name} test accuracy`, unit: '%', value: round(r.testAccuracy * 100, 4), extra });
    bigger.push({ name: `${suite}/${r.name} samples/s`, unit: 'samples/s', value: round(r.samplesPerSecond, 2), extra });
    if (r.medianEpochSeconds !== null) {
      const spread = r.epochSeconds.length >= 2 ? { range: `± ${round(sampleStdDev(r.epochSeconds) ?? 0, 4)}` } : {};
      smaller.push({
        name: `${suite}/${r.name} epoch time`,
        unit: 's/epoch',
        value: round(r.medianEpochSeconds, 4),
        ...spread,
        extra: `median of ${r.epochSeconds.length} epochs\n${extra}`,
      });
    }
  }
  if (probes) {
    const environment = `${probes.environment.backend} on ${deviceOf(probes.environment)}`;
    for (const p of probes.stepPhases) {
      const { medianMs, meanMs, rmePercent, samples } = p.step;
      smaller.push({
        name: `${suite}/${p.optimizerLabel}-b${p.batchSize} step time (probe)`,
        unit: 'ms',
        value: round(medianMs, 4),
        ...(rmePercent !== null ? { range: `± ${round((meanMs * rmePercent) / 100, 4)}` } : {}),
        extra: `median of ${samples} steps\n${environment}`,
      });
    }
  }
  return { customBiggerIsBetter: bigger, customSmallerIsBetter: smaller };
}
