/**
 * Joins the result directories of several shards (or machines) into one: every `<id>.json` is copied,
 * and a merged manifest lists the union of the planned runs.
 *
 * The same id in several directories: complete results (ok, diverged) must be identical, otherwise it
 * is an error naming both files; a complete result is preferred over a failed one; among failed ones
 * the latest (finishedAt) wins. Nothing is written if there is any error.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { RunResult } from '../results/runResult.js';
import { writeTextAtomic } from '../results/writeJsonAtomic.js';
import { TOOL_VERSION } from '../version.js';
import { isRunResultFileName } from '../results/resultsLayout.js';
import { MANIFEST_FILE, readManifest, writeManifest, type Manifest } from './manifest.js';
import { readResultFile } from './verdict.js';

export class MergeError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'MergeError';
  }
}

export interface MergeOptions {
  readonly dirs: readonly string[];
  readonly outDir: string;
}

export interface MergeReport {
  readonly outDir: string;
  readonly directories: readonly string[];
  readonly suite: string | null;
  /** Result files written to outDir. */
  readonly merged: number;
  /** Of those, with status 'failed'. */
  readonly failed: number;
  /** Planned (by some input manifest) but with no result in any input. */
  readonly missing: readonly string[];
  /** Ids found in more than one directory (identical, or a complete one preferred over a failed one). */
  readonly duplicates: readonly string[];
  readonly warnings: readonly string[];
}

interface Candidate {
  readonly file: string;
  readonly result: RunResult;
}

const isComplete = (r: RunResult) => r.status === 'ok' || r.status === 'diverged';

/** Result files of one directory: top-level `*.json` except the directory's own files (manifest, probes, tuning). */
function resultFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter(isRunResultFileName)
    .sort()
    .map((name) => join(dir, name));
}

/** Picks the result to keep for one id, or explains the conflict. */
export function chooseResult(candidates: readonly Candidate[]): { chosen: Candidate } | { conflict: string } {
  const complete = candidates.filter((c) => isComplete(c.result));
  if (complete.length > 0) {
    const first = complete[0];
    const other = complete.find((c) => !isDeepStrictEqual(c.result, first.result));
    if (other) {
      return { conflict: `${first.file} and ${other.file} hold different complete results for the same run (${first.result.status} vs ${other.result.status})` };
    }
    return { chosen: first };
  }
  const latest = [...candidates].sort((a, b) => Date.parse(b.result.finishedAt) - Date.parse(a.result.finishedAt))[0];
  return { chosen: latest };
}

export function mergeResults(options: MergeOptions): MergeReport {
  const problems: string[] = [];
  const warnings: string[] = [];
  const outAbs = resolve(options.outDir);
  if (options.dirs.length === 0) throw new MergeError(['no input directories']);
  for (const dir of options.dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) problems.push(`${dir}: no such directory`);
    else if (resolve(dir) === outAbs) problems.push(`${dir}: --out must not be one of the input directories`);
  }
  if (new Set(options.dirs.map((d) => resolve(d))).size !== options.dirs.length) problems.push('the same input directory is given twice');
  if (problems.length > 0) throw new MergeError(problems);

  const manifests: Manifest[] = [];
  const byId = new Map<string, Candidate[]>();
  const suites = new Set<string>();
  for (const dir of options.dirs) {
    try {
      const manifest = readManifest(dir);
      if (manifest) {
        manifests.push(manifest);
        suites.add(manifest.suite);
      } else {
        warnings.push(`${dir}: no ${MANIFEST_FILE}; its planned runs are unknown`);
      }
    } catch (error) {
      problems.push((error as Error).message.split('\n')[0]);
    }
    for (const file of resultFiles(dir)) {
      const read = readResultFile(file);
      if (read.kind !== 'valid') {
        problems.push(read.kind === 'invalid' ? read.problem : `${file}: cannot read`);
        continue;
      }
      const id = basename(file, '.json');
      if (read.result.run && read.result.run.id !== id) {
        problems.push(`${file}: the file name does not match its run id '${read.result.run.id}'`);
        continue;
      }
      if (read.result.run) suites.add(read.result.run.suite);
      byId.set(id, [...(byId.get(id) ?? []), { file, result: read.result }]);
    }
  }
  if (suites.size > 1) problems.push(`the directories hold results of different suites: ${[...suites].sort().join(', ')}`);

  const chosen = new Map<string, Candidate>();
  const duplicates: string[] = [];
  for (const [id, candidates] of byId) {
    if (candidates.length > 1) duplicates.push(id);
    const choice = chooseResult(candidates);
    if ('conflict' in choice) problems.push(choice.conflict);
    else chosen.set(id, choice.chosen);
  }
  if (problems.length > 0) throw new MergeError(problems);

  // Shards: warn when a sharded suite is only partly merged.
  const shardCounts = new Map<number, Set<number>>();
  for (const m of manifests) if (m.shard) shardCounts.set(m.shard.count, (shardCounts.get(m.shard.count) ?? new Set()).add(m.shard.index));
  for (const [count, indexes] of shardCounts) {
    if (indexes.size < count) warnings.push(`only ${indexes.size} of ${count} shards merged`);
  }

  const planned = [...new Set(manifests.flatMap((m) => m.runIds))];
  const plannedSet = new Set(planned);
  const extra = [...chosen.keys()].filter((id) => !plannedSet.has(id)).sort();
  const missing = planned.filter((id) => !chosen.has(id));

  mkdirSync(options.outDir, { recursive: true });
  for (const [id, { file }] of chosen) {
    writeTextAtomic(join(options.outDir, `${id}.json`), readFileSync(file));
  }
  const suite = suites.size === 1 ? [...suites][0] : null;
  writeManifest(options.outDir, {
    schemaVersion: 1,
    suite: suite ?? 'unknown',
    shard: null,
    runIds: [...planned, ...extra],
    toolVersion: TOOL_VERSION,
    updatedAt: new Date().toISOString(),
    mergedFrom: options.dirs.map((d) => resolve(d)),
  });

  return {
    outDir: options.outDir,
    directories: [...options.dirs],
    suite,
    merged: chosen.size,
    failed: [...chosen.values()].filter((c) => c.result.status === 'failed').length,
    missing,
    duplicates: duplicates.sort(),
    warnings,
  };
}

/** "merged N results from M directories (K failed, L missing from planned)" */
export function formatMergeReport(report: MergeReport): string {
  const m = report.directories.length;
  return (
    `merged ${report.merged} result${report.merged === 1 ? '' : 's'} from ${m} director${m === 1 ? 'y' : 'ies'} ` +
    `(${report.failed} failed, ${report.missing.length} missing from planned) into ${report.outDir}`
  );
}
