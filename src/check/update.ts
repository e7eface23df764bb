/**
 * `check --update`: a new baseline from a results directory, as a pure function of (previous
 * baseline, results, tolerances, time) -> (baseline, changes).
 *
 * - Every ok or diverged result replaces the entry with its run id and environment fingerprint (or is
 *   added). Entries of other environments are kept: each machine keeps its own times.
 * - Failed results are not recorded (a failure is not an expectation); a previous entry stays.
 * - With a whole-suite manifest (no shard), entries of runs the suite no longer plans are removed,
 *   and results the manifest does not plan (stale files) are not recorded.
 * - Tolerances are replaced by the given ones (the suite's, or the previous baseline's).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Tolerances } from '../suite/suiteSchema.js';
import { BASELINE_SCHEMA_VERSION, type Baseline, type BaselineEntry, type EnvironmentFingerprint } from './baselineSchema.js';
import type { Planned } from './compare.js';
import { fingerprintKey, sameFingerprint, type Observation } from './observe.js';

export interface EntrySummary {
  readonly status: BaselineEntry['status'];
  /** Percent, null unless ok. */
  readonly testAccuracy: number | null;
  readonly medianEpochSeconds: number | null;
  /** The probe's median step time, if the entry has one. */
  readonly probeStepMs: number | null;
}

export interface BaselineChange {
  readonly change: 'added' | 'changed' | 'unchanged' | 'removed' | 'not-recorded';
  readonly runId: string;
  readonly name: string;
  readonly environment: EnvironmentFingerprint;
  readonly before: EntrySummary | null;
  readonly after: EntrySummary | null;
  /** For 'not-recorded' and 'removed'. */
  readonly reason?: string;
}

export interface UpdateInput {
  readonly suite: string;
  readonly previous: Baseline | null;
  readonly results: readonly Observation[];
  readonly tolerances: Tolerances;
  readonly planned?: Planned | null;
  /** ISO date-time of the update. */
  readonly now: string;
  readonly toolVersion: string;
}

export interface BaselineUpdate {
  readonly baseline: Baseline;
  /** Sorted by run id; 'unchanged' entries included. */
  readonly changes: readonly BaselineChange[];
  /** `changed`: the previous baseline had other tolerances (false for a new baseline). */
  readonly tolerances: { readonly before: Tolerances | null; readonly after: Tolerances; readonly changed: boolean };
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const entryOrder = (a: BaselineEntry, b: BaselineEntry) =>
  byString(a.runId, b.runId) || byString(fingerprintKey(a.environment), fingerprintKey(b.environment));

export function summarizeEntry(e: BaselineEntry): EntrySummary {
  return {
    status: e.status,
    testAccuracy: e.testAccuracy === null ? null : e.testAccuracy * 100,
    medianEpochSeconds: e.medianEpochSeconds,
    probeStepMs: e.probeStep?.medianMs ?? null,
  };
}

export function updateBaseline(input: UpdateInput): BaselineUpdate {
  const planned = input.planned ?? null;
  const plannedIds = new Set(planned?.runIds ?? []);
  const whole = planned !== null && !planned.partial;
  const changes: BaselineChange[] = [];
  let entries: BaselineEntry[] = [...(input.previous?.entries ?? [])];

  if (whole) {
    const kept: BaselineEntry[] = [];
    for (const e of entries) {
      if (plannedIds.has(e.runId)) kept.push(e);
      else
        changes.push({
          change: 'removed',
          runId: e.runId,
          name: e.name,
          environment: e.environment,
          before: summarizeEntry(e),
          after: null,
          reason: 'no longer planned by the suite',
        });
    }
    entries = kept;
  }

  for (const result of input.results) {
    const index = entries.findIndex((e) => e.runId === result.runId && sameFingerprint(e.environment, result.environment));
    const previous = index >= 0 ? entries[index] : null;
    const notRecorded = (reason: string) =>
      changes.push({
        change: 'not-recorded',
        runId: result.runId,
        name: result.name,
        environment: result.environment,
        before: previous ? summarizeEntry(previous) : null,
        after: null,
        reason: previous ? `${reason}; the previous entry is kept` : reason,
      });
    if (whole && !plannedIds.has(result.runId)) {
      notRecorded('not planned by the manifest (a stale result?)');
      continue;
    }
    if (result.status === 'failed') {
      notRecorded('the run failed');
      continue;
    }
    const entry: BaselineEntry = structuredClone(result);
    if (previous) {
      const same = isDeepStrictEqual(previous, entry);
      entries[index] = entry;
      changes.push({
        change: same ? 'unchanged' : 'changed',
        runId: result.runId,
        name: result.name,
        environment: result.environment,
        before: summarizeEntry(previous),
        after: summarizeEntry(entry),
      });
    } else {
      entries.push(entry);
      changes.push({
        change: 'added',
        runId: result.runId,
        name: result.name,
        environment: result.environment,
        before: null,
        after: summarizeEntry(entry),
      });
    }
  }

  entries.sort(entryOrder);
  changes.sort((a, b) => byString(a.runId, b.runId) || byString(fingerprintKey(a.environment), fingerprintKey(b.environment)));
  const before = input.previous?.tolerances ?? null;
  const baseline: Baseline = {
    schemaVersion: BASELINE_SCHEMA_VERSION,
    kind: 'ngd-bench-baseline',
    suite: input.suite,
    createdAt: input.previous?.createdAt ?? input.now,
    updatedAt: input.now,
    toolVersion: input.toolVersion,
    tolerances: { ...input.tolerances },
    entries,
  };
  return {
    baseline,
    changes,
    tolerances: { before, after: baseline.tolerances, changed: before !== null && !isDeepStrictEqual(before, baseline.tolerances) },
  };
}
