/**
 * Run identity: a content hash of what a run computes (its resolved config and worker count), and a
 * readable name. Both are stable: they do not depend on key order in the suite file, on the suite's
 * name, or on where the run sits in the matrix — so results can be matched across suites and resumes.
 */
import { createHash } from 'node:crypto';
import type { TrainConfig } from '../config/trainConfig.js';
import type { SweepValue } from './plannedRun.js';

/** JSON with object keys sorted at every depth and no whitespace; rejects what JSON cannot hold exactly. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
}

/** sha256 (hex) of canonicalJson({ config, workers }). */
export function configHash(config: TrainConfig, workers: number): string {
  return createHash('sha256').update(canonicalJson({ config, workers })).digest('hex');
}

/**
 * The names swept paths take in run names: the last segment (`damping`), or the whole path when two
 * swept paths of the suite share their last segment.
 */
export function sweepKeys(paths: readonly string[]): Map<string, string> {
  const last = (p: string) => p.slice(p.lastIndexOf('.') + 1);
  const unique = [...new Set(paths)];
  return new Map(unique.map((p) => [p, unique.filter((q) => last(q) === last(p)).length > 1 ? p : last(p)]));
}

/** A swept value as it appears in names: numbers as JS prints them, strings reduced to file-name-safe characters. */
export function formatSweepValue(value: SweepValue): string {
  if (typeof value === 'string') return value.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
  return String(value);
}

export interface RunNameParts {
  optimizerLabel: string;
  batchSize: number;
  workers: number;
  seed: number;
  /** Swept values keyed by config path, in the suite's sweep order. */
  sweep: Readonly<Record<string, SweepValue>>;
}

/** `${label}-b${batch}-w${workers}-s${seed}` then `-${key}=${value}` per swept value, e.g. `ngd-b1024-w2-s0-damping=0.01`. */
export function runName(parts: RunNameParts, keys: ReadonlyMap<string, string> = sweepKeys(Object.keys(parts.sweep))): string {
  const base = `${parts.optimizerLabel}-b${parts.batchSize}-w${parts.workers}-s${parts.seed}`;
  const swept = Object.entries(parts.sweep).map(([path, value]) => `-${keys.get(path) ?? path}=${formatSweepValue(value)}`);
  return base + swept.join('');
}

/** `${name}-${configHash.slice(0, 10)}`: readable, unique, and stable. */
export function runId(name: string, hash: string): string {
  return `${name}-${hash.slice(0, 10)}`;
}
