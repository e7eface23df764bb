/**
 * `ngd-bench check RESULTS_DIR`: reads the results directory and the baseline, runs the pure checker
 * (compare.ts) or the baseline update (update.ts), and writes the requested outputs.
 *
 * Exit codes: 0 every check within tolerance (or --update done); 1 a regression, or something missing
 * (no baseline file, a run without a baseline entry, an expected run without a result) unless
 * --allow-missing; 2 usage or input error (one line on stderr naming the file; nothing written).
 */
import { appendFileSync } from 'node:fs';
import { writeTextAtomic } from '../results/writeJsonAtomic.js';
import { loadSuite } from '../suite/loadSuite.js';
import type { Tolerances } from '../suite/suiteSchema.js';
import { TOOL_VERSION } from '../version.js';
import { defaultBaselinePath, defaultTolerances, readBaseline, writeBaseline } from './baselineFile.js';
import { benchmarkJsonPaths, toBenchmarkJson } from './benchmarkJson.js';
import { compare, exitCodeOf, type CheckReport, type Planned } from './compare.js';
import { BadInputError, errorLine, firstLine } from '../util/errors.js';
import { CheckInputError } from './errors.js';
import { EXIT } from '../util/exitCodes.js';
import { formatFindingsTable, formatMarkdownSummary, formatUpdate, formatVerdict } from './format.js';
import { toJUnitXml } from './junit.js';
import { observe, type Observation } from './observe.js';
import { readResultsDirectory, type ResultsDirectory } from '../results/resultsDirectory.js';
import { updateBaseline } from './update.js';

export interface CheckOptions {
  readonly resultsDir: string;
  /** Default: `baselines/<suite>.json` (suite from the manifest). */
  readonly baseline?: string;
  /** A suite file to take tolerances from (default: the baseline's). */
  readonly suite?: string;
  readonly update?: boolean;
  readonly json?: boolean;
  readonly junit?: string;
  readonly benchmarkJson?: string;
  readonly allowMissing?: boolean;
}

export interface CheckIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** `GITHUB_STEP_SUMMARY` is read from here. */
  readonly env: Readonly<Record<string, string | undefined>>;
  now(): Date;
}

export const processIo: CheckIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  get env() {
    return process.env;
  },
  now: () => new Date(),
};

/** The JSON printed by `check --json`. */
export interface CheckJson {
  readonly suite: string;
  readonly resultsDir: string;
  readonly baselineFile: string;
  readonly baselineFound: boolean;
  readonly verdict: 'pass' | 'fail';
  readonly exitCode: number;
  readonly allowMissing: boolean;
  readonly tolerances: Tolerances;
  readonly summary: CheckReport['summary'];
  readonly findings: CheckReport['findings'];
}

function writeOutput(path: string, text: string, what: string): void {
  try {
    writeTextAtomic(path, text);
  } catch (error) {
    throw new CheckInputError(`${path}: cannot write ${what}: ${firstLine(error)}`);
  }
}

function writeBenchmarkJson(file: string, dir: ResultsDirectory, observations: readonly Observation[]): void {
  const json = toBenchmarkJson(dir.suite, observations, dir.probes);
  const paths = benchmarkJsonPaths(file);
  writeOutput(paths.bigger, `${JSON.stringify(json.customBiggerIsBetter, null, 2)}\n`, 'benchmark JSON');
  writeOutput(paths.smaller, `${JSON.stringify(json.customSmallerIsBetter, null, 2)}\n`, 'benchmark JSON');
}

function tolerancesFrom(options: CheckOptions, suiteName: string, baselineTolerances: Tolerances | null): Tolerances | null {
  if (options.suite === undefined) return baselineTolerances;
  const suite = loadSuite(options.suite);
  if (suite.name !== suiteName)
    throw new CheckInputError(`${options.suite}: suite '${suite.name}', but the results are of suite '${suiteName}'`);
  return suite.tolerances;
}

function check(options: CheckOptions, io: CheckIo): number {
  if (options.update && options.junit !== undefined)
    throw new CheckInputError('--junit cannot be combined with --update (an update checks nothing)');
  const dir = readResultsDirectory(options.resultsDir);
  const baselineFile = options.baseline ?? defaultBaselinePath(dir.suite);
  const baseline = readBaseline(baselineFile);
  if (baseline && baseline.suite !== dir.suite) {
    throw new CheckInputError(`${baselineFile}: baseline of suite '${baseline.suite}', but the results are of suite '${dir.suite}'`);
  }
  const tolerances = tolerancesFrom(options, dir.suite, baseline?.tolerances ?? null);
  const observations = dir.runs.map((r) => observe(r.result, dir.probes));
  const planned: Planned | null = dir.manifest ? { runIds: dir.manifest.runIds, partial: dir.manifest.shard !== null } : null;

  if (options.update) {
    if (!tolerances) throw new CheckInputError(`${baselineFile} does not exist yet: give --suite FILE to take the tolerances from`);
    const update = updateBaseline({
      suite: dir.suite,
      previous: baseline,
      results: observations,
      tolerances,
      planned,
      now: io.now().toISOString(),
      toolVersion: TOOL_VERSION,
    });
    try {
      writeBaseline(baselineFile, update.baseline);
    } catch (error) {
      throw new CheckInputError(`${baselineFile}: cannot write baseline: ${firstLine(error)}`);
    }
    if (options.benchmarkJson !== undefined) writeBenchmarkJson(options.benchmarkJson, dir, observations);
    if (options.json)
      io.stdout(
        `${JSON.stringify({ baselineFile, created: baseline === null, changes: update.changes, tolerances: update.tolerances }, null, 2)}\n`,
      );
    else io.stdout(`${formatUpdate(update, baselineFile, baseline === null)}\n`);
    return EXIT.ok;
  }

  const report = compare({
    suite: dir.suite,
    results: observations,
    baseline,
    tolerances: tolerances ?? defaultTolerances(),
    planned,
    baselinePath: baselineFile,
  });
  const allowMissing = options.allowMissing ?? false;
  const exitCode = exitCodeOf(report, { allowMissing });
  const verdictOptions = { allowMissing, baselinePath: baselineFile };

  if (options.junit !== undefined) writeOutput(options.junit, toJUnitXml(report, { allowMissing }), 'JUnit XML');
  if (options.benchmarkJson !== undefined) writeBenchmarkJson(options.benchmarkJson, dir, observations);

  if (options.json) {
    const json: CheckJson = {
      suite: dir.suite,
      resultsDir: dir.dir,
      baselineFile,
      baselineFound: baseline !== null,
      verdict: exitCode === 0 ? 'pass' : 'fail',
      exitCode,
      allowMissing,
      tolerances: report.tolerances,
      summary: report.summary,
      findings: report.findings,
    };
    io.stdout(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    const table = formatFindingsTable(report);
    io.stdout(`${formatVerdict(report, verdictOptions)}\n${table ? `\n${table}\n` : ''}`);
  }

  const summaryFile = io.env.GITHUB_STEP_SUMMARY;
  if (summaryFile) {
    try {
      appendFileSync(summaryFile, formatMarkdownSummary(report, verdictOptions));
    } catch (error) {
      io.stderr(`ngd-bench: warning: cannot append to GITHUB_STEP_SUMMARY ${summaryFile}: ${firstLine(error)}\n`);
    }
  }
  return exitCode;
}

/** Runs the check (or update); returns the exit code. Input errors are printed as one line and give 2. */
export function runCheck(options: CheckOptions, io: CheckIo = processIo): number {
  try {
    return check(options, io);
  } catch (error) {
    if (!(error instanceof BadInputError)) throw error;
    io.stderr(`${errorLine(firstLine(error))}\n`);
    return EXIT.badInput;
  }
}
