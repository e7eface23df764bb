/**
 * Reading a suite's results directory (`ngd-bench run SUITE --out DIR`): `DIR/<run id>.json` results
 * with a run identity, `DIR/manifest.json` (optional) and `DIR/probes.json` (optional). Anything
 * malformed is a CheckInputError naming the file.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assertValid } from '../config/validate.js';
import { isRunResultFileName, PROBES_FILE } from '../results/resultsLayout.js';
import { MANIFEST_FILE, readManifest, type Manifest } from '../harness/manifest.js';
import { ProbeReportSchema, type ProbeReport } from '../probes/probeReport.js';
import { readJsonDocument } from '../results/readJsonDocument.js';
import { parseRunResult } from '../results/readRunResult.js';
import type { RunResult } from '../results/runResult.js';
import { CheckInputError, firstLine } from './errors.js';

export { PROBES_FILE };

export interface ResultFile {
  readonly file: string;
  readonly result: RunResult & { run: NonNullable<RunResult['run']> };
}

export interface ResultsDir {
  readonly dir: string;
  /** The suite's name: the manifest's, else the results'. */
  readonly suite: string;
  readonly manifest: Manifest | null;
  /** Sorted by run id. */
  readonly results: readonly ResultFile[];
  readonly probes: ProbeReport | null;
  readonly probesFile: string | null;
}

const readJson = (path: string, what: string) => readJsonDocument(path, what, (message) => new CheckInputError(message));

export function readProbeReport(path: string): ProbeReport {
  const value = readJson(path, 'probe report');
  try {
    assertValid(ProbeReportSchema, value, `${path}: invalid probe report`);
  } catch (error) {
    throw new CheckInputError(firstLine(error));
  }
  return value;
}

export function readResultsDir(dir: string): ResultsDir {
  if (!existsSync(dir)) throw new CheckInputError(`${dir}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new CheckInputError(`${dir}: not a directory`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new CheckInputError(`${dir}: cannot read directory: ${firstLine(error)}`);
  }

  let manifest: Manifest | null;
  try {
    manifest = readManifest(dir);
  } catch (error) {
    throw new CheckInputError(firstLine(error));
  }

  const probesFile = names.includes(PROBES_FILE) ? join(dir, PROBES_FILE) : null;
  const probes = probesFile ? readProbeReport(probesFile) : null;

  const results: ResultFile[] = [];
  const byId = new Map<string, string>();
  const files = names.filter(isRunResultFileName).sort();
  for (const name of files) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    const value = readJson(file, 'result file');
    let result: RunResult;
    try {
      result = parseRunResult(value, file);
    } catch (error) {
      throw new CheckInputError(firstLine(error));
    }
    if (!result.run) throw new CheckInputError(`${file}: result has no run identity (not written by \`ngd-bench run\`)`);
    const previous = byId.get(result.run.id);
    if (previous) throw new CheckInputError(`${file}: run ${result.run.id} also has a result in ${previous}`);
    byId.set(result.run.id, file);
    results.push({ file, result: result as ResultFile['result'] });
  }
  results.sort((a, b) => (a.result.run.id < b.result.run.id ? -1 : a.result.run.id > b.result.run.id ? 1 : 0));

  const suites = [...new Set(results.map((r) => r.result.run.suite))];
  const suite = manifest?.suite ?? suites[0];
  if (suite === undefined) throw new CheckInputError(`${dir}: no ${MANIFEST_FILE} and no result files: not a results directory of \`ngd-bench run\``);
  const stranger = results.find((r) => r.result.run.suite !== suite);
  if (stranger) throw new CheckInputError(`${stranger.file}: result of suite '${stranger.result.run.suite}' in a results directory of suite '${suite}'`);
  if (probes && probes.suite !== suite) throw new CheckInputError(`${probesFile}: probe report of suite '${probes.suite}' in a results directory of suite '${suite}'`);
  return { dir, suite, manifest, results, probes, probesFile };
}
