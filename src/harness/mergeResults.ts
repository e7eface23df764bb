/**
 * Joins the result directories of several shards (or machines) into one: every `<id>.json` is copied,
 * a merged manifest lists the union of the planned runs, the shards' probe reports become one
 * `probes.json` (mergeProbes.ts), and a tuned suite's `tuning/` directories are merged the same way into
 * `OUT/tuning/` (its selection, `tuning.json`, is copied when every shard holds the same one; otherwise
 * `ngd-bench run SUITE --out OUT --resume` recomputes it from the merged tuning runs).
 *
 * The same id in several directories: complete results (ok, diverged) must be identical, otherwise it
 * is an error naming both files; a complete result is preferred over a failed one; among failed ones
 * the latest (finishedAt) wins. Nothing is written if there is any error.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { MANIFEST_FILE, writeManifest, type Manifest } from '../results/manifest.js';
import { PROBES_FILE, TUNING_DIR, TUNING_FILE } from '../results/resultsLayout.js';
import { readResultsDirectory, type ResultsDirectory } from '../results/resultsDirectory.js';
import type { RunResult } from '../results/runResult.js';
import type { TuningSelection } from '../results/tuningSelection.js';
import { writeJsonAtomic, writeTextAtomic } from '../results/writeJsonAtomic.js';
import { BadInputError, BadInputProblems, firstLine } from '../util/errors.js';
import { TOOL_VERSION } from '../version.js';
import { mergeProbeReports, type ProbeSource } from './mergeProbes.js';

/** Every problem found in the inputs (nothing was written): bad input, one line each. */
export class MergeError extends BadInputProblems {}

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
  /** Probe reports merged into OUT/probes.json (0: none). */
  readonly probes: number;
  /** A tuned suite's merged tuning directory, if any input had one. */
  readonly tuning: MergeReport | null;
}

interface Candidate {
  readonly file: string;
  readonly result: RunResult;
}

const isComplete = (r: RunResult) => r.status === 'ok' || r.status === 'diverged';

/** Picks the result to keep for one id, or explains the conflict. */
export function chooseResult(candidates: readonly Candidate[]): { chosen: Candidate } | { conflict: string } {
  const complete = candidates.filter((c) => isComplete(c.result));
  if (complete.length > 0) {
    const first = complete[0];
    const other = complete.find((c) => !isDeepStrictEqual(c.result, first.result));
    if (other) {
      return {
        conflict: `${first.file} and ${other.file} hold different complete results for the same run (${first.result.status} vs ${other.result.status})`,
      };
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
  // Whether each is a readable results directory is the shared reader's to say, below.
  for (const dir of options.dirs) if (resolve(dir) === outAbs) problems.push(`${dir}: --out must not be one of the input directories`);
  if (new Set(options.dirs.map((d) => resolve(d))).size !== options.dirs.length) problems.push('the same input directory is given twice');
  if (problems.length > 0) throw new MergeError(problems);

  const manifests: Manifest[] = [];
  const probes: ProbeSource[] = [];
  const selections: TuningSelection[] = [];
  const byId = new Map<string, Candidate[]>();
  const suites = new Set<string>();
  for (const dir of options.dirs) {
    let loaded: ResultsDirectory;
    try {
      loaded = readResultsDirectory(dir);
    } catch (error) {
      if (!(error instanceof BadInputError)) throw error;
      problems.push(firstLine(error));
      continue;
    }
    suites.add(loaded.suite);
    if (loaded.manifest) manifests.push(loaded.manifest);
    else warnings.push(`${dir}: no ${MANIFEST_FILE}; its planned runs are unknown`);
    if (loaded.probes && loaded.probesFile) probes.push({ file: loaded.probesFile, report: loaded.probes });
    if (loaded.tuning) selections.push(loaded.tuning);
    for (const { path, result } of loaded.runs) byId.set(result.run.id, [...(byId.get(result.run.id) ?? []), { file: path, result }]);
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

  const mergedProbes = mergeProbeReports(probes);
  warnings.push(...mergedProbes.warnings);
  // A tuned suite's tuning runs: merged like the rest, into OUT/tuning (before anything is written here).
  const tuningDirs = options.dirs.map((d) => join(d, TUNING_DIR)).filter((d) => existsSync(d));
  const tuning = tuningDirs.length > 0 ? mergeResults({ dirs: tuningDirs, outDir: join(options.outDir, TUNING_DIR) }) : null;

  const planned = [...new Set(manifests.flatMap((m) => m.runIds))];
  const plannedSet = new Set(planned);
  const extra = [...chosen.keys()].filter((id) => !plannedSet.has(id)).sort();
  const missing = planned.filter((id) => !chosen.has(id));

  mkdirSync(options.outDir, { recursive: true });
  for (const [id, { file }] of chosen) {
    writeTextAtomic(join(options.outDir, `${id}.json`), readFileSync(file));
  }
  if (mergedProbes.report) writeJsonAtomic(join(options.outDir, PROBES_FILE), mergedProbes.report);
  if (selections.length > 0) {
    if (selections.every((t) => isDeepStrictEqual(t, selections[0]))) writeJsonAtomic(join(options.outDir, TUNING_FILE), selections[0]);
    else
      warnings.push(
        `the shards hold different ${TUNING_FILE} files: not copied; \`ngd-bench run SUITE --out ${options.outDir} --resume\` recomputes it from the merged tuning runs`,
      );
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
    probes: mergedProbes.report ? probes.length - mergedProbes.warnings.length : 0,
    tuning,
  };
}

/** "merged N results from M directories (K failed, L missing from planned)" */
export function formatMergeReport(report: MergeReport): string {
  const m = report.directories.length;
  return (
    `merged ${report.merged} result${report.merged === 1 ? '' : 's'} from ${m} director${m === 1 ? 'y' : 'ies'} ` +
    `(${report.failed} failed, ${report.missing.length} missing from planned) into ${report.outDir}` +
    (report.probes > 0 ? `, with ${report.probes} probe report${report.probes === 1 ? '' : 's'}` : '') +
    (report.tuning ? `; tuning runs: ${formatMergeReport(report.tuning)}` : '')
  );
}
