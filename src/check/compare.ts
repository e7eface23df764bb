/**
 * Regression detection as a pure function of (results, baseline, tolerances) -> findings, in the
 * manner of github-action-benchmark. No file system, no clock: `runCheck` does the reading.
 *
 * Rules (accuracy and time are judged separately):
 *
 * Matching. A result is matched to the baseline entry with its run id and its environment
 * fingerprint; failing that, to an entry with its run id from another environment (accuracy is
 * compared, time is skipped); failing that, it has no baseline entry (reported as missing).
 *
 * Accuracy (percentage points of final test accuracy).
 * - Both ok, single run: fails when result < baseline - accuracyDropPoints; an improvement when
 *   result > baseline + accuracyDropPoints; else passes.
 * - Seed groups (runs differing only in their seed, see `configGroupKey`): when >= 2 runs of a group
 *   are ok on both sides, the group is judged as one: mean over those paired runs (result) against the
 *   mean over the same runs (baseline), threshold max(accuracyDropPoints, seedSpreadFactor x the sample
 *   standard deviation, in points, of the group's ok baseline runs). The per-run figures are not judged.
 * - Status: ok > diverged > failed. A result worse than its baseline (e.g. diverged where the baseline
 *   was ok) is a regression, a better one (ok where the baseline diverged) an improvement, the same
 *   non-ok status passes.
 *
 * Time (only when both runs are ok and the environment fingerprints are equal; otherwise skipped with
 * the reason). The measure is the probe step median (ms) when both sides have one for the run's
 * optimizer label and batch size, else the median of per-epoch seconds; samples are probe steps or
 * epochs. ratio = result / baseline. ratio > timeRatio is a slowdown, ratio < 1 / timeRatio a speedup
 * (improvement) -- but only with >= minTimingSamples samples on both sides; with fewer, either is
 * "inconclusive" (reported, not a failure). The samples/s ratio is reported alongside.
 *
 * Coverage. No baseline file, a result without a baseline entry (for any environment), and an
 * expected run without a result are findings of their own ("missing"), never passes. Expected runs:
 * the manifest's planned runs plus the baseline's runs; for a shard (manifest.shard set) only the
 * planned runs (baseline runs of other shards are counted as `outOfShard`).
 *
 * Exit codes (`exitCodeOf`): 1 on any regression, or on anything missing unless allowMissing; else 0.
 */
import type { Tolerances } from '../suite/suiteSchema.js';
import type { Baseline, BaselineEntry, EnvironmentFingerprint } from './baselineSchema.js';
import { fingerprintKey, formatFingerprint, sameFingerprint, type Observation } from './observe.js';
import { mean, sampleStdDev } from '../util/stats.js';
import { measured, percentText, pointsText } from '../util/format.js';

export type CheckKind = 'accuracy' | 'time' | 'coverage';
export type Outcome = 'pass' | 'regression' | 'improvement' | 'inconclusive' | 'skipped' | 'missing';
export type Metric =
  /** final test accuracy, percent; delta and threshold in percentage points */
  | 'testAccuracy'
  /** mean final test accuracy of a seed group, percent */
  | 'groupTestAccuracy'
  /** run status; baseline/result null, see message */
  | 'status'
  /** median seconds per epoch; delta is the ratio result/baseline */
  | 'epochSeconds'
  /** median probe step time, ms; delta is the ratio */
  | 'probeStepMs'
  | 'baselineFile'
  | 'baselineEntry'
  | 'result';

export interface Finding {
  readonly check: CheckKind;
  readonly outcome: Outcome;
  readonly metric: Metric;
  /** A run id, a seed group key, or (baselineFile) the baseline file. */
  readonly subject: string;
  /** Readable: the run name, or the group's name with its seeds. */
  readonly label: string;
  /** The runs this finding judges: one run, a seed group's runs, or (baselineFile) every result. */
  readonly runIds: readonly string[];
  /** Accuracy: percent. Time: seconds or ms. Null where not applicable. */
  readonly baseline: number | null;
  readonly result: number | null;
  /** Accuracy: percentage points (result - baseline). Time: ratio result / baseline. */
  readonly delta: number | null;
  /** Accuracy: allowed drop, points. Time: allowed ratio. */
  readonly threshold: number | null;
  readonly samples?: { readonly baseline: number; readonly result: number; readonly required: number };
  readonly samplesPerSecond?: { readonly baseline: number; readonly result: number; readonly ratio: number | null };
  readonly group?: {
    readonly key: string;
    readonly pairedRuns: number;
    readonly baselineRuns: number;
    readonly baselineStdDevPoints: number;
  };
  readonly environments?: { readonly baseline: EnvironmentFingerprint; readonly result: EnvironmentFingerprint };
  /** Run statuses, for status findings. */
  readonly status?: { readonly baseline: BaselineEntry['status']; readonly result: BaselineEntry['status'] };
  readonly message: string;
}

export interface Planned {
  readonly runIds: readonly string[];
  /** One shard of a suite: baseline runs outside it are not expected here. */
  readonly partial: boolean;
}

export interface CompareInput {
  readonly suite: string;
  readonly results: readonly Observation[];
  /** null: there is no baseline file. */
  readonly baseline: Pick<Baseline, 'entries'> | null;
  readonly tolerances: Tolerances;
  /** The manifest's planned runs, if the directory has a manifest. */
  readonly planned?: Planned | null;
  /** For the message of a missing baseline file. */
  readonly baselinePath?: string;
}

export interface CheckSummary {
  /** Results in the directory. */
  readonly runs: number;
  /** Of those, matched to a baseline entry (compared). */
  readonly compared: number;
  readonly accuracyRegressions: number;
  readonly accuracyImprovements: number;
  readonly slowdowns: number;
  readonly speedups: number;
  readonly inconclusive: number;
  readonly timeSkipped: number;
  readonly missingBaselineEntries: number;
  readonly missingResults: number;
  readonly baselineFileMissing: boolean;
  /** Baseline runs of other shards, not expected in this directory. */
  readonly outOfShard: number;
}

export interface CheckReport {
  readonly suite: string;
  readonly tolerances: Tolerances;
  readonly findings: readonly Finding[];
  readonly summary: CheckSummary;
}

const STATUS_RANK = { ok: 2, diverged: 1, failed: 0 } as const;
const points = (fraction: number) => fraction * 100;
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Pair {
  readonly result: Observation;
  readonly entry: BaselineEntry;
  readonly sameEnvironment: boolean;
}

/** The baseline entry a result is compared with (see "Matching" above). */
export function matchEntry(
  result: Observation,
  entries: readonly BaselineEntry[],
): { entry: BaselineEntry; sameEnvironment: boolean } | null {
  const candidates = entries.filter((e) => e.runId === result.runId);
  const exact = candidates.find((e) => sameFingerprint(e.environment, result.environment));
  if (exact) return { entry: exact, sameEnvironment: true };
  if (candidates.length === 0) return null;
  const sorted = [...candidates].sort((a, b) => byString(fingerprintKey(a.environment), fingerprintKey(b.environment)));
  // Prefer the same worker count and backend: closer to the result's conditions.
  const near =
    sorted.find((e) => e.environment.workers === result.environment.workers && e.environment.backend === result.environment.backend) ??
    sorted.find((e) => e.environment.workers === result.environment.workers) ??
    sorted[0];
  return { entry: near, sameEnvironment: false };
}

function judgeAccuracy(delta: number, threshold: number): Outcome {
  if (delta < -threshold) return 'regression';
  if (delta > threshold) return 'improvement';
  return 'pass';
}

const fmtPct = percentText;
const fmtPts = pointsText;

function statusFinding(pair: Pair): Finding {
  const { result, entry } = pair;
  const r = STATUS_RANK[result.status];
  const b = STATUS_RANK[entry.status];
  const outcome: Outcome = r < b ? 'regression' : r > b ? 'improvement' : 'pass';
  const baselineAcc = entry.testAccuracy === null ? null : points(entry.testAccuracy);
  const resultAcc = result.testAccuracy === null ? null : points(result.testAccuracy);
  const message =
    outcome === 'pass'
      ? `${result.status}, as in the baseline`
      : `${result.status} (baseline ${entry.status}${baselineAcc === null ? '' : ` at ${fmtPct(baselineAcc)}`})`;
  return {
    check: 'accuracy',
    outcome,
    metric: 'status',
    subject: result.runId,
    label: result.name,
    runIds: [result.runId],
    baseline: baselineAcc,
    result: resultAcc,
    delta: baselineAcc !== null && resultAcc !== null ? resultAcc - baselineAcc : null,
    threshold: null,
    status: { baseline: entry.status, result: result.status },
    message,
  };
}

function runAccuracyFinding(pair: Pair, tolerances: Tolerances): Finding {
  const baseline = points(pair.entry.testAccuracy!);
  const result = points(pair.result.testAccuracy!);
  const delta = result - baseline;
  const threshold = tolerances.accuracyDropPoints;
  const outcome = judgeAccuracy(delta, threshold);
  const verb = outcome === 'regression' ? 'dropped' : outcome === 'improvement' ? 'rose' : 'within';
  return {
    check: 'accuracy',
    outcome,
    metric: 'testAccuracy',
    subject: pair.result.runId,
    label: pair.result.name,
    runIds: [pair.result.runId],
    baseline,
    result,
    delta,
    threshold,
    message:
      outcome === 'pass'
        ? `test accuracy ${fmtPct(result)} (${fmtPts(delta)}), within ${threshold.toFixed(2)} pts`
        : `test accuracy ${verb} ${Math.abs(delta).toFixed(2)} pts: ${fmtPct(baseline)} -> ${fmtPct(result)} (allowed ${threshold.toFixed(2)} pts)`,
  };
}

/** The group's name: the run name with `-s<seed>` removed. */
function groupName(pair: Pair): string {
  const { name, batchSize, workers, seed } = pair.result;
  return name.replace(new RegExp(`(-b${batchSize}-w${workers})-s${seed}(?=-|$)`), '$1');
}

function groupAccuracyFinding(
  key: string,
  pairs: readonly Pair[],
  baselineGroup: readonly BaselineEntry[],
  tolerances: Tolerances,
): Finding {
  const baselineMean = mean(pairs.map((p) => points(p.entry.testAccuracy!)));
  const resultMean = mean(pairs.map((p) => points(p.result.testAccuracy!)));
  // One baseline seed has no spread: the tolerance alone applies.
  const spread = sampleStdDev(baselineGroup.map((e) => points(e.testAccuracy!))) ?? 0;
  const threshold = Math.max(tolerances.accuracyDropPoints, tolerances.seedSpreadFactor * spread);
  const delta = resultMean - baselineMean;
  const outcome = judgeAccuracy(delta, threshold);
  const seeds = pairs.map((p) => p.result.seed).sort((a, b) => a - b);
  const label = `${groupName(pairs[0])} [seeds ${seeds.join(',')}]`;
  const basis = `max(${tolerances.accuracyDropPoints.toFixed(2)}, ${tolerances.seedSpreadFactor} × sd ${spread.toFixed(2)}) = ${threshold.toFixed(2)} pts`;
  return {
    check: 'accuracy',
    outcome,
    metric: 'groupTestAccuracy',
    subject: key,
    label,
    runIds: pairs.map((p) => p.result.runId).sort(byString),
    baseline: baselineMean,
    result: resultMean,
    delta,
    threshold,
    group: { key, pairedRuns: pairs.length, baselineRuns: baselineGroup.length, baselineStdDevPoints: spread },
    message:
      outcome === 'pass'
        ? `mean test accuracy over ${pairs.length} seeds ${fmtPct(resultMean)} (${fmtPts(delta)}), within ${basis}`
        : `mean test accuracy over ${pairs.length} seeds ${outcome === 'regression' ? 'dropped' : 'rose'} ${Math.abs(delta).toFixed(2)} pts: ${fmtPct(baselineMean)} -> ${fmtPct(resultMean)} (allowed ${basis})`,
  };
}

function timeFinding(pair: Pair, tolerances: Tolerances): Finding {
  const { result, entry } = pair;
  const base = {
    check: 'time' as const,
    subject: result.runId,
    label: result.name,
    runIds: [result.runId],
  };
  const skipped = (message: string, extra: Partial<Finding> = {}): Finding => ({
    ...base,
    outcome: 'skipped',
    metric: 'epochSeconds',
    baseline: entry.medianEpochSeconds,
    result: result.medianEpochSeconds,
    delta: null,
    threshold: null,
    message,
    ...extra,
  });
  if (result.status !== 'ok' || entry.status !== 'ok') {
    const which = result.status !== 'ok' ? `result ${result.status}` : `baseline ${entry.status}`;
    return skipped(`skipped: ${which}`);
  }
  if (!pair.sameEnvironment) {
    return skipped(`skipped: different environment (${formatFingerprint(entry.environment)} vs ${formatFingerprint(result.environment)})`, {
      environments: { baseline: entry.environment, result: result.environment },
    });
  }
  const useProbe = result.probeStep !== undefined && entry.probeStep !== undefined;
  const metric: Metric = useProbe ? 'probeStepMs' : 'epochSeconds';
  const b = useProbe ? entry.probeStep!.medianMs : entry.medianEpochSeconds;
  const r = useProbe ? result.probeStep!.medianMs : result.medianEpochSeconds;
  if (b === null || r === null || b <= 0) return skipped(`skipped: no timing samples${b === 0 ? ' (baseline time is 0)' : ''}`, { metric });
  const samples = {
    baseline: useProbe ? entry.probeStep!.samples : entry.epochSeconds.length,
    result: useProbe ? result.probeStep!.samples : result.epochSeconds.length,
    required: tolerances.minTimingSamples,
  };
  // Probes timed beside a calibration workload: compare step / reference, so load from other
  // processes (which slows both alike) does not read as a regression.
  const bRef = useProbe ? entry.probeStep!.referenceMedianMs : undefined;
  const rRef = useProbe ? result.probeStep!.referenceMedianMs : undefined;
  const normalized = bRef !== undefined && rRef !== undefined;
  const rawRatio = r / b;
  const ratio = normalized ? r / rRef / (b / bRef) : rawRatio;
  const enough = samples.baseline >= samples.required && samples.result >= samples.required;
  const limit = tolerances.timeRatio;
  const slower = ratio > limit;
  const faster = ratio < 1 / limit;
  const outcome: Outcome = slower || faster ? (enough ? (slower ? 'regression' : 'improvement') : 'inconclusive') : 'pass';
  const unit = useProbe ? 'ms/step (probe)' : 's/epoch';
  const what = normalized
    ? `${fmtTime(b)} -> ${fmtTime(r)} ${unit}, ×${rawRatio.toFixed(2)} raw, ×${ratio.toFixed(2)} relative to the reference workload (${fmtTime(bRef)} -> ${fmtTime(rRef)} ms)`
    : `${fmtTime(b)} -> ${fmtTime(r)} ${unit} (×${ratio.toFixed(2)})`;
  const message =
    outcome === 'pass'
      ? `${what}, within ×${limit.toFixed(2)}`
      : outcome === 'inconclusive'
        ? `${slower ? 'slower' : 'faster'} ${what} beyond ×${limit.toFixed(2)}, but only ${samples.baseline} vs ${samples.result} samples (need ${samples.required} each)`
        : `${slower ? 'slowdown' : 'speedup'} ${what}, beyond ×${limit.toFixed(2)}`;
  return {
    ...base,
    outcome,
    metric,
    baseline: b,
    result: r,
    delta: ratio,
    threshold: limit,
    samples,
    samplesPerSecond: {
      baseline: entry.samplesPerSecond,
      result: result.samplesPerSecond,
      ratio: entry.samplesPerSecond > 0 ? result.samplesPerSecond / entry.samplesPerSecond : null,
    },
    message,
  };
}

const fmtTime = measured;

/** The baseline's ok entries of a seed group, one per run id (preferring the given environment). */
function baselineGroupOf(key: string, entries: readonly BaselineEntry[], environment: EnvironmentFingerprint): BaselineEntry[] {
  const byRun = new Map<string, BaselineEntry>();
  for (const e of [...entries].sort((a, b) => byString(fingerprintKey(a.environment), fingerprintKey(b.environment)))) {
    if (e.groupKey !== key || e.status !== 'ok' || e.testAccuracy === null) continue;
    const current = byRun.get(e.runId);
    if (!current || (!sameFingerprint(current.environment, environment) && sameFingerprint(e.environment, environment)))
      byRun.set(e.runId, e);
  }
  return [...byRun.values()];
}

export function compare(input: CompareInput): CheckReport {
  const { tolerances } = input;
  const entries = input.baseline?.entries ?? [];
  const findings: Finding[] = [];
  const results = [...input.results].sort((a, b) => byString(a.runId, b.runId));

  if (input.baseline === null) {
    findings.push({
      check: 'coverage',
      outcome: 'missing',
      metric: 'baselineFile',
      subject: input.baselinePath ?? '(baseline)',
      label: input.baselinePath ?? '(baseline)',
      runIds: results.map((r) => r.runId),
      baseline: null,
      result: null,
      delta: null,
      threshold: null,
      message: `no baseline file${input.baselinePath ? ` ${input.baselinePath}` : ''}: nothing to compare with (create one with --update)`,
    });
  }

  // Matching.
  const pairs: Pair[] = [];
  for (const result of results) {
    const match = matchEntry(result, entries);
    if (match) {
      pairs.push({ result, entry: match.entry, sameEnvironment: match.sameEnvironment });
    } else {
      const others = input.baseline === null ? ' (no baseline file)' : entries.length > 0 ? '' : ' (the baseline is empty)';
      findings.push({
        check: 'coverage',
        outcome: 'missing',
        metric: 'baselineEntry',
        subject: result.runId,
        label: result.name,
        runIds: [result.runId],
        baseline: null,
        result: result.testAccuracy === null ? null : points(result.testAccuracy),
        delta: null,
        threshold: null,
        message: `no baseline entry for this run${others}: not checked`,
      });
    }
  }

  // Accuracy: seed groups first, then single runs and status changes.
  const okPairs = pairs.filter(
    (p) => p.result.status === 'ok' && p.entry.status === 'ok' && p.result.testAccuracy !== null && p.entry.testAccuracy !== null,
  );
  const groups = new Map<string, Pair[]>();
  for (const p of okPairs) groups.set(p.result.groupKey, [...(groups.get(p.result.groupKey) ?? []), p]);
  const okSet = new Set(okPairs);
  const judgedByGroup = new Set<string>();
  for (const [key, members] of [...groups].sort(([a], [b]) => byString(a, b))) {
    if (members.length < 2) continue;
    const baselineGroup = baselineGroupOf(key, entries, members[0].result.environment);
    if (baselineGroup.length < 2) continue;
    findings.push(groupAccuracyFinding(key, members, baselineGroup, tolerances));
    for (const m of members) judgedByGroup.add(m.result.runId);
  }
  for (const p of pairs) {
    if (judgedByGroup.has(p.result.runId)) continue;
    findings.push(okSet.has(p) ? runAccuracyFinding(p, tolerances) : statusFinding(p));
  }

  // Time.
  for (const p of pairs) findings.push(timeFinding(p, tolerances));

  // Runs expected here without a result.
  const have = new Set(results.map((r) => r.runId));
  const baselineIds = [...new Set(entries.map((e) => e.runId))];
  const planned = input.planned ?? null;
  const plannedIds = new Set(planned?.runIds ?? []);
  const expected = new Set<string>(planned?.partial ? plannedIds : [...plannedIds, ...baselineIds]);
  const outOfShard = planned?.partial ? baselineIds.filter((id) => !plannedIds.has(id)).length : 0;
  for (const id of [...expected].sort(byString)) {
    if (have.has(id)) continue;
    const entry = entries.find((e) => e.runId === id);
    const where = entry
      ? `baseline ${entry.status}${entry.testAccuracy === null ? '' : ` at ${fmtPct(points(entry.testAccuracy))}`}`
      : 'planned in the manifest, not in the baseline';
    findings.push({
      check: 'coverage',
      outcome: 'missing',
      metric: 'result',
      subject: id,
      label: entry?.name ?? id,
      runIds: [id],
      baseline: entry?.testAccuracy == null ? null : points(entry.testAccuracy),
      result: null,
      delta: null,
      threshold: null,
      message: `no result for this run (${where})`,
    });
  }

  const count = (pred: (f: Finding) => boolean) => findings.filter(pred).length;
  const summary: CheckSummary = {
    runs: results.length,
    compared: pairs.length,
    accuracyRegressions: count((f) => f.check === 'accuracy' && f.outcome === 'regression'),
    accuracyImprovements: count((f) => f.check === 'accuracy' && f.outcome === 'improvement'),
    slowdowns: count((f) => f.check === 'time' && f.outcome === 'regression'),
    speedups: count((f) => f.check === 'time' && f.outcome === 'improvement'),
    inconclusive: count((f) => f.outcome === 'inconclusive'),
    timeSkipped: count((f) => f.check === 'time' && f.outcome === 'skipped'),
    missingBaselineEntries: count((f) => f.metric === 'baselineEntry'),
    missingResults: count((f) => f.metric === 'result'),
    baselineFileMissing: input.baseline === null,
    outOfShard,
  };
  return { suite: input.suite, tolerances, findings, summary };
}

export const hasRegression = (report: CheckReport): boolean => report.findings.some((f) => f.outcome === 'regression');
export const hasMissing = (report: CheckReport): boolean => report.findings.some((f) => f.outcome === 'missing');

/** 1 on a regression, or on anything missing unless `allowMissing`; else 0. (2, bad input, is decided before comparing.) */
export function exitCodeOf(report: CheckReport, options: { allowMissing?: boolean } = {}): 0 | 1 {
  if (hasRegression(report)) return 1;
  if (hasMissing(report) && !options.allowMissing) return 1;
  return 0;
}
