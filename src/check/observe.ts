/**
 * From a run result (and the suite's probe report, if any) to the record the checker compares: the
 * same shape as a baseline entry, so results and baselines are compared like with like.
 */
import { createHash } from 'node:crypto';
import type { ProbeReport } from '../results/probeReport.js';
import type { Environment, RunResult } from '../results/runResult.js';
import { canonicalJson } from '../suite/runId.js';
import type { BaselineEntry, EnvironmentFingerprint, ProbeStep } from './baselineSchema.js';
import { median } from '../util/stats.js';

/** A result (or baseline entry) as the checker sees it. */
export type Observation = BaselineEntry;

const UNKNOWN = 'unknown';

/** `n x name` for repeated GPU names, joined by ', ' (order of first appearance). */
function describeGpus(gpus: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const gpu of gpus) counts.set(gpu, (counts.get(gpu) ?? 0) + 1);
  return [...counts].map(([name, n]) => (n > 1 ? `${n}x ${name}` : name)).join(', ');
}

/**
 * The device that did the work: the GPU name(s) when the backend runs on a GPU and GPUs were found,
 * else the CPU model (a CPU backend on a GPU machine is timed by its CPU).
 */
export function deviceOf(environment: Environment): string {
  const onGpu = /gpu/i.test(environment.backend);
  if (onGpu && environment.gpus.length > 0) return describeGpus(environment.gpus);
  return environment.cpuModel || UNKNOWN;
}

export function fingerprintOf(result: RunResult): EnvironmentFingerprint {
  const workers = result.parallel?.workers ?? 1;
  if (!result.environment) return { backend: UNKNOWN, device: UNKNOWN, workers };
  return { backend: result.environment.backend, device: deviceOf(result.environment), workers };
}

export function probeFingerprintMatches(report: ProbeReport, fingerprint: EnvironmentFingerprint): boolean {
  return report.environment.backend === fingerprint.backend && deviceOf(report.environment) === fingerprint.device;
}

export const sameFingerprint = (a: EnvironmentFingerprint, b: EnvironmentFingerprint): boolean =>
  a.backend === b.backend && a.device === b.device && a.workers === b.workers;

/** `cpu-blas on Intel Xeon 8375C, 1 worker` */
export function formatFingerprint(f: EnvironmentFingerprint): string {
  return `${f.backend} on ${f.device}, ${f.workers} worker${f.workers === 1 ? '' : 's'}`;
}

/** A stable string for sorting and map keys. */
export const fingerprintKey = (f: EnvironmentFingerprint): string => canonicalJson(f);

/**
 * The seed-group key: the run name without its `-s<seed>` part, then the first 10 hex digits of the
 * sha256 of canonical JSON `{ config (with seed 0), workers }`. Runs that differ only in their seed
 * share it; anything else (a changed learning rate, a different dataset size) separates them even
 * when their names agree.
 */
export function configGroupKey(result: RunResult): string {
  const identity = result.run;
  if (!identity) throw new TypeError('configGroupKey: the result has no run identity');
  const workers = result.parallel?.workers ?? 1;
  const hash = createHash('sha256')
    .update(canonicalJson({ config: { ...result.config, seed: 0 }, workers }))
    .digest('hex');
  const { batchSize, seed } = result.config;
  const base = identity.name.replace(new RegExp(`(-b${batchSize}-w${workers})-s${seed}(?=-|$)`), '$1');
  return `${base}-${hash.slice(0, 10)}`;
}

/** The probe's step figure for this run's optimizer label and batch size, if measured in the same environment. */
export function probeStepFor(
  report: ProbeReport | null,
  label: string,
  batchSize: number,
  fingerprint: EnvironmentFingerprint,
): ProbeStep | undefined {
  if (!report || !probeFingerprintMatches(report, fingerprint)) return undefined;
  const probe = report.stepPhases.find((p) => p.optimizerLabel === label && p.batchSize === batchSize);
  if (!probe) return undefined;
  const { medianMs, meanMs, rmePercent, samples } = probe.step;
  return {
    medianMs,
    meanMs,
    rmePercent,
    samples,
    ...(probe.reference && probe.reference.medianMs > 0 ? { referenceMedianMs: probe.reference.medianMs } : {}),
  };
}

/** The checker's record of one result (a result written by `ngd-bench run`, i.e. with a run identity). */
export function observe(result: RunResult, probes: ProbeReport | null = null): Observation {
  const identity = result.run;
  if (!identity) throw new TypeError('observe: the result has no run identity');
  const environment = fingerprintOf(result);
  const epochSeconds = result.epochs.map((e) => e.seconds);
  const ok = result.status === 'ok' && result.final !== null;
  const probeStep = probeStepFor(probes, identity.optimizerLabel, result.config.batchSize, environment);
  return {
    runId: identity.id,
    name: identity.name,
    groupKey: configGroupKey(result),
    configHash: identity.configHash,
    optimizerLabel: identity.optimizerLabel,
    batchSize: result.config.batchSize,
    workers: environment.workers,
    seed: result.config.seed,
    sweep: { ...identity.sweep },
    environment,
    status: result.status,
    testAccuracy: ok ? result.final!.testAccuracy : null,
    trainAccuracy: ok ? result.final!.trainAccuracy : null,
    generalizationGap: ok ? result.final!.generalizationGap : null,
    epochSeconds,
    medianEpochSeconds: epochSeconds.length > 0 ? median(epochSeconds) : null,
    samplesPerSecond: result.timing.samplesPerSecond,
    ...(probeStep ? { probeStep } : {}),
    finishedAt: result.finishedAt,
    resultToolVersion: result.tool.version,
  };
}
