/**
 * `ngd-bench report RESULTS_DIR --out reports/NAME.md`: the Markdown report of a results directory,
 * with its charts (SVG) and the runs' configs written next to it in reports/NAME/. Never loads tfjs.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { analyzeResultSet } from '../report/analyze.js';
import { renderSvg, reportCharts, supplementCharts } from '../report/charts.js';
import type { ReportFindings } from '../report/findings.js';
import type { ResultSet } from '../report/resultSet.js';
import { readResultsDirectory } from '../results/resultsDirectory.js';
import { renderReport, type Supplement } from '../report/markdownReport.js';
import { compareWithReference, referenceChart } from '../report/referenceComparison.js';
import { readPublishedReference } from '../report/referenceFile.js';
import type { AnalysisOptions } from '../report/analyze.js';
import { writeTextAtomic } from '../results/writeJsonAtomic.js';
import { assertWritableFile } from './outputPath.js';
import { displayPath, findSuiteFile, suiteDescription } from './paths.js';
import { InputFileError, firstLine } from '../util/errors.js';
import { type CommandOutput, PROCESS_OUTPUT } from './commandOutput.js';

/** Compares a result set with a baseline file (src/check provides one; the report only renders it). */
export type BaselineComparer = (set: ResultSet, baselineFile: string) => ReportFindings | Promise<ReportFindings>;

export interface ReportCommandDeps {
  compareToBaseline?: BaselineComparer;
  /** Where the "wrote ..." line goes (default: stdout). */
  output?: CommandOutput;
}

interface ReportFlags {
  out: string;
  title?: string;
  baseline?: string;
  target?: number;
  tolerance?: number;
  minSeeds?: number;
  suite?: string;
  supplement?: string[];
  notes?: string;
  reference?: string;
}

function readNotes(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputFileError(`--notes ${file}: cannot read: ${firstLine(error)}`);
  }
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** A supporting study's results, analyzed, with its own report (NAME.md next to OUT, NAME its directory's name) linked when it exists. */
function supplementOf(dir: string, out: string, options: AnalysisOptions): Supplement {
  const analysis = analyzeResultSet(readResultsDirectory(dir, { requireRuns: true }), options);
  // Named by its directory: two studies may come from one suite (e.g. runs set aside from it).
  const name = basename(resolve(dir));
  const own = join(dirname(out), `${name}.md`);
  const reportHref = existsSync(own) && resolve(own) !== resolve(out) ? relative(dirname(out), own).split(sep).join('/') : null;
  return { name, analysis, resultsDir: displayPath(dir), reportHref, chartPrefix: `${name}-` };
}

/** The directory next to the report that holds its charts and configs: reports/NAME.md -> reports/NAME. */
export function companionDir(reportFile: string): string {
  return /\.md$/i.test(reportFile) ? reportFile.replace(/\.md$/i, '') : `${reportFile}.files`;
}

function parseFraction(value: string): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x <= 0 || x > 1) throw new InvalidArgumentError('expected a test accuracy as a fraction in (0, 1], e.g. 0.85');
  return x;
}

function parsePoints(value: string): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x < 0) throw new InvalidArgumentError('expected accuracy points >= 0, e.g. 0.5');
  return x;
}

function parseCount(value: string): number {
  const x = Number(value);
  if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError('expected an integer >= 1');
  return x;
}

const HELP = `
Writes:
  OUT                    the Markdown report (GitHub-readable): the suite's description, baseline
                         verdict, the paper's claims with the numbers behind them, and judged under
                         each protocol (fixed epochs, fixed steps, steps to target, matched fit), the
                         --notes discussion, the --reference comparison (each epoch's test
                         accuracy against a published benchmark's seeds), the tuning selection
                         (if tuning.json), steps to target with the critical batch size (target
                         budgets), generalization at matched fit, final test accuracy and
                         generalization gap per optimizer x batch size (mean ± std over seeds),
                         time to a target accuracy,
                         samples/s and scaling efficiency, the probes' step phases (if probes.json),
                         failed and diverged runs, the environment and the commands to reproduce;
                         sensitivity grids and sweep curves, of this set and of each --supplement
  OUT minus .md/         accuracy-vs-batch.svg, learning-curves.svg, published-reference.svg
                         (--reference), steps- and samples-to-target.svg (target budgets), sweep
                         and sensitivity charts and configs/<run id>.json (each run's resolved config, for \`ngd-bench train --config\`)

The report is deterministic: the same results give the same text (dates come from the results).

Examples:
  ngd-bench report results/smoke --out reports/smoke.md
  ngd-bench report results/example --out reports/example.md --title 'Fashion-MNIST, large batch' --target 0.85

Exit codes: 0 written, 2 bad input (a missing directory, an invalid result file, bad flags).`;

export function reportCommand(deps: ReportCommandDeps = {}): Command {
  return new Command('report')
    .description('Write a Markdown report (with SVG charts) for a results directory')
    .argument(
      '<results-dir>',
      'a directory written by `ngd-bench run` (or `merge`): <run id>.json, manifest.json, probes.json, tuning.json',
    )
    .requiredOption('--out <file>', 'the report, e.g. reports/NAME.md; charts and configs go to reports/NAME/')
    .option('--title <text>', 'report title (default: "ngd-bench report: <suite>")')
    .option('--baseline <file>', 'compare with a baseline and show every regression and improvement')
    .option('--target <fraction>', 'test accuracy for time-to-target (default: 95% of the best mean final test accuracy)', parseFraction)
    .option('--tolerance <points>', "smallest accuracy difference the paper's claims count, in points (default 0.5)", parsePoints)
    .option('--min-seeds <n>', 'ok seeds a cell needs to take part in the claims (default 2)', parseCount)
    .option('--suite <file>', "the suite file for the reproduce commands (default: the file under suites/ with the suite's name)")
    .option('--notes <file>', "hand-written Markdown to show as the report's Discussion section, after the claims")
    .option(
      '--reference <file>',
      "a published reference (per-seed test-accuracy curves of another benchmark, e.g. reports/deepobs/published-fmnist_2c2d.json from scripts/deepobs-reference.ts) to set each epoch's test accuracy against",
    )
    .option(
      '--supplement <dir>',
      'a supporting study (e.g. a sweep) to show inside this report: its sweeps, sensitivity grids and accuracy table; repeatable',
      collect,
      [],
    )
    .addHelpText('after', HELP)
    .action(async (dir: string, flags: ReportFlags) => {
      // Checked before anything is read or written: a failed report leaves no companion directory behind.
      assertWritableFile(flags.out);
      const companion = companionDir(flags.out);
      const [companionAbs, dirAbs] = [resolve(companion), resolve(dir)];
      if (companionAbs === dirAbs || dirAbs.startsWith(companionAbs + sep)) {
        throw new InputFileError(
          `--out ${flags.out} would put its charts in ${companion}/, which holds the results directory ${dir}; name the report differently (e.g. ${companion}-report.md)`,
        );
      }
      const set = readResultsDirectory(dir, { requireRuns: true });
      let findings: ReportFindings | undefined;
      if (flags.baseline !== undefined) {
        if (!deps.compareToBaseline) throw new InputFileError('--baseline: no baseline comparison is available in this build');
        findings = await deps.compareToBaseline(set, flags.baseline);
      }
      const options = {
        target: flags.target,
        claims: { tolerance: flags.tolerance === undefined ? undefined : flags.tolerance / 100, minSeeds: flags.minSeeds },
      };
      const analysis = analyzeResultSet(set, options);
      const suiteFile = flags.suite !== undefined ? displayPath(flags.suite) : analysis.suite ? findSuiteFile(analysis.suite) : null;
      if (analysis.suite && suiteFile === null) {
        (deps.output ?? PROCESS_OUTPUT).err(
          `ngd-bench: warning: no suite file named '${analysis.suite}' under suites/; pass --suite FILE for the \`run\` commands\n`,
        );
      }
      const supplements = (flags.supplement ?? []).map((supplementDir) => supplementOf(supplementDir, flags.out, options));
      const reference =
        flags.reference === undefined
          ? null
          : compareWithReference(
              analysis.grouped,
              readPublishedReference(flags.reference),
              displayPath(flags.reference),
              set.manifest?.runIds,
            );
      const referenceCharts = reference ? [referenceChart(reference)].filter((c) => c !== null) : [];
      const configDir = join(companion, 'configs');
      const charts = [
        ...reportCharts(analysis.grouped),
        ...supplements.flatMap((s) => supplementCharts(s.analysis.grouped, s.chartPrefix)),
        ...referenceCharts,
      ];
      const text = renderReport(analysis, {
        set,
        ...options,
        title: flags.title,
        findings,
        resultsDir: displayPath(dir),
        suiteFile,
        reportFile: displayPath(flags.out),
        chartsHref: charts.length > 0 ? basename(companion) : null,
        configDir: displayPath(configDir),
        supplements,
        description: suiteFile === null ? null : suiteDescription(suiteFile),
        notes: flags.notes === undefined ? null : readNotes(flags.notes),
        notesFile: flags.notes === undefined ? null : displayPath(flags.notes),
        baselineFile: flags.baseline === undefined ? null : displayPath(flags.baseline),
        reference,
      });

      // Charts and configs first, the report last: a report on disk always has its companions.
      mkdirSync(companion, { recursive: true });
      for (const chart of charts) writeTextAtomic(join(companion, chart.file), await renderSvg(chart.spec));
      // Configs of runs no longer in the set would mislead: clear the JSON files this command wrote before.
      mkdirSync(configDir, { recursive: true });
      for (const f of readdirSync(configDir).filter((n) => n.endsWith('.json'))) rmSync(join(configDir, f));
      for (const run of analysis.grouped.runs)
        writeTextAtomic(join(configDir, `${run.id}.json`), `${JSON.stringify(run.result.config, null, 2)}\n`);
      writeTextAtomic(flags.out, text);

      const verdicts = analysis.claims.map((c) => `${c.id} ${c.verdict}`).join(', ');
      (deps.output ?? PROCESS_OUTPUT).out(
        `wrote ${displayPath(flags.out)} (${charts.length} charts, ${analysis.grouped.runs.length} run configs in ${displayPath(companion)}/); claims: ${verdicts}\n`,
      );
    });
}
