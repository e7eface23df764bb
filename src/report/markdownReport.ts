/**
 * The Markdown report of one result set. Pure: an Analysis and a few paths in, a string out — the
 * same input always gives the same text (dates come from the results, never from the clock).
 */
import { markdownTable } from 'markdown-table';
import { referenceChart, referenceSection, type ReferenceComparison } from './referenceComparison.js';
import { type ProbeReport, shownPhaseColumns, type StepPhase } from '../results/probeReport.js';
import type { RunResult } from '../results/runResult.js';
import { analyzeResultSet, type Analysis, type AnalysisOptions } from './analyze.js';
import { plotsEvaluationCurves, reportCharts } from './charts.js';
import { annotated, cellTable, chartImage, seedNote, table } from './cellTables.js';
import { describeEnvironment } from './environment.js';
import type { FindingLine, ReportFindings } from './findings.js';
import { cell, code, listing, num, pct, pctSummary, plural, rate, rateSummary, secondsSummary } from '../util/format.js';
import type { Cell, RunView } from './groupRuns.js';
import { claimRules } from './paperClaims.js';
import { matchedFitSection, protocolClaimsSection, stepsToTargetSection } from './protocolSections.js';
import { stopsAtTarget } from './protocols.js';
import { targetsOf } from './stepsToTarget.js';
import { tuningSection } from './tuningSection.js';
import { sensitivityChartFile, sensitivityGrids } from './sensitivity.js';
import { sweepChartFile, sweepCurves } from './sweeps.js';
import type { ResultSet } from './resultSet.js';

export interface ReportPaths {
  /** The results directory as commands should name it (relative to where they are run). */
  resultsDir: string;
  /** The suite file for `ngd-bench run`, or null when the runs are not from a suite. */
  suiteFile: string | null;
  /** The report file itself, for the command that regenerates it; null to leave that line out. */
  reportFile: string | null;
  /** Where chart links point, relative to the report (e.g. `NAME`); null for no charts. */
  chartsHref: string | null;
  /** Directory holding one `<run id>.json` config per run, as commands name it; null to leave `train` lines out. */
  configDir: string | null;
}

/** Another result set shown inside this report (a sweep or sensitivity study behind the main suite). */
export interface Supplement {
  /** Its heading: the results directory's name. */
  name: string;
  analysis: Analysis;
  /** Its results directory, as commands name it. */
  resultsDir: string;
  /** Its own full report, relative to this report, if there is one. */
  reportHref: string | null;
  /** Prefix of its chart files in this report's chart directory (see supplementCharts). */
  chartPrefix: string;
}

export interface ReportInput extends ReportPaths, AnalysisOptions {
  set: ResultSet;
  title?: string;
  /** The suite file's description: what was run and why, as its authors wrote it. */
  description?: string | null;
  /** Hand-written Markdown shown as the report's discussion (e.g. why a claim does not hold here). */
  notes?: string | null;
  /** The notes' and baseline's files, as commands name them, for the command that regenerates the report. */
  notesFile?: string | null;
  baselineFile?: string | null;
  findings?: ReportFindings;
  supplements?: readonly Supplement[];
  /** Our runs against a published reference (--reference), shown after the claims. */
  reference?: ReferenceComparison | null;
}

/** Where a study's sections go: its heading level and chart file prefix. */
interface Placement {
  heading: string;
  chartPrefix: string;
}

const MAIN: Placement = { heading: '##', chartPrefix: '' };

function shellQuote(s: string): string {
  return /^[\w./@:=,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** "mlp (hidden 256-256)": the model, from a config. */
function modelOf(result: RunResult): string {
  const m = result.config.model;
  const widths = m.hiddenWidths ? ` (hidden ${m.hiddenWidths.join('-')})` : '';
  return `${m.name}${widths}`;
}

function datasetOf(result: RunResult): string {
  const d = result.dataset;
  const name = result.config.dataset.name;
  return d === null ? name : `${name} (${d.trainExamples} train / ${d.testExamples} test examples)`;
}

const distinct = (values: string[]) => [...new Set(values)];

/** Datasets with their sizes where some run loaded them (a run that failed before loading knows only the name). */
function datasetsOf(runs: readonly RunView[]): string[] {
  const loaded = runs.filter((r) => r.result.dataset !== null);
  return distinct((loaded.length > 0 ? loaded : runs).map((r) => datasetOf(r.result)));
}

function statusCounts(runs: readonly RunView[]): string {
  const count = (s: string) => runs.filter((r) => r.result.status === s).length;
  const parts = [`${count('ok')} ok`];
  for (const s of ['diverged', 'failed']) if (count(s) > 0) parts.push(`${count(s)} ${s}`);
  return `${plural(runs.length, 'run')} (${parts.join(', ')})`;
}

function header(a: Analysis, title: string, description: string | null): string[] {
  const runs = a.grouped.runs;
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((x, y) => x - y);
  const facts = [
    a.suite ? `Suite ${code(a.suite)}` : 'Runs outside a suite',
    `${listing(distinct(runs.map((r) => modelOf(r.result))))} on ${listing(datasetsOf(runs))}`,
    statusCounts(runs),
    `${seeds.length === 1 ? 'seed' : 'seeds'} ${seeds.join(', ')}`,
    `global batch ${a.grouped.batchSizes.length === 1 ? 'size' : 'sizes'} ${a.grouped.batchSizes.join(', ')}`,
  ];
  const lines = [`# ${title}`, '', `${facts.join(' · ')}.`];
  if (description) lines.push('', `> ${description}`);
  if (a.dates) lines.push('', `Results dated ${a.dates.from} to ${a.dates.to} (their own timestamps).`);
  return lines;
}

function baselineSection(findings: ReportFindings | undefined): string[] {
  if (!findings) return ['**Baseline check:** no baseline comparison (`--baseline FILE` adds one).'];
  const against = findings.baseline ? ` against ${code(findings.baseline)}` : '';
  const regressions = findings.lines.filter((l) => l.kind === 'regression').length;
  const improvements = findings.lines.filter((l) => l.kind === 'improvement').length;
  const counts = `${plural(regressions, 'regression')}, ${plural(improvements, 'improvement')}`;
  if (findings.verdict === 'no-baseline') return [`**Baseline check:** no baseline${against} for these runs.`];
  const verdict = findings.verdict === 'pass' ? '**Baseline check: pass**' : '**Baseline check: FAIL**';
  const lines = [`${verdict}${against}: ${counts}.`];
  if (findings.lines.length > 0) {
    const order = (l: FindingLine) => (l.kind === 'regression' ? 0 : 1);
    const sorted = [...findings.lines].sort(
      (x, y) =>
        order(x) - order(y) ||
        (x.runId < y.runId ? -1 : x.runId > y.runId ? 1 : 0) ||
        (x.metric < y.metric ? -1 : x.metric > y.metric ? 1 : 0),
    );
    const notes = sorted.some((l) => l.note !== undefined);
    const value = (x: number | null) => (x === null ? '—' : num(x));
    lines.push(
      '',
      table([
        ['', 'run', 'metric', 'baseline', 'result', 'delta', 'threshold', ...(notes ? ['note'] : [])],
        ...sorted.map((l) => [
          l.kind,
          code(l.runId),
          cell(l.metric),
          value(l.baseline),
          value(l.result),
          value(l.delta),
          value(l.threshold),
          ...(notes ? [cell(l.note ?? '')] : []),
        ]),
      ]),
    );
  }
  return lines;
}

const verdictText = (v: string) => (v === 'inconclusive' ? 'inconclusive' : `**${v}**`);

function claimsSection(a: Analysis, input: ReportInput): string[] {
  // The claims are about (smoothed) NGD against SGD: results without either NGD have nothing to judge.
  if (!a.grouped.runs.some((r) => r.optimizerName === 'ngd' || r.optimizerName === 'smoothed-ngd')) {
    const names = listing([...new Set(a.grouped.runs.map((r) => r.optimizerName))]);
    return [
      "## The paper's claims",
      '',
      `Not judged: the claims of Naganuma & Yokota (CCGRID 2019) compare K-FAC NGD and smoothed NGD with SGD, and these results have ${names} only.`,
    ];
  }
  return [
    "## The paper's claims",
    '',
    'Naganuma & Yokota (CCGRID 2019): at large batch, naive natural-gradient descent (K-FAC) generalizes worse than SGD; smoothing the loss lets it generalize as well as SGD. The rule:',
    '',
    ...claimRules(input.claims, a.claimScorer).map((r) => `* ${r}`),
    '',
    // Long cells: aligned delimiters would only pad every line of the source to the longest one.
    markdownTable(
      [
        ['', 'claim', 'verdict', 'basis'],
        ...a.claims.map((c) => [c.id, c.claim, verdictText(c.verdict), [c.reason, ...c.numbers].map(cell).join('<br>')]),
      ],
      { alignDelimiters: false },
    ),
    '',
    ...protocolClaimsSection(a, input.claims),
  ];
}

const image = (input: ReportInput, file: string, alt: string) => chartImage(input.chartsHref, file, alt);

function referenceImage(input: ReportInput): string[] {
  const chart = input.reference ? referenceChart(input.reference) : null;
  return chart ? image(input, chart.file, chart.title) : [];
}

function accuracySections(a: Analysis, input: ReportInput): string[] {
  const charts = new Map(reportCharts(a.grouped).map((c) => [c.file, c]));
  const note = seedNote(a.grouped);
  const chart = (file: string) => {
    const c = charts.get(file);
    return c ? image(input, c.file, c.title) : [];
  };
  return [
    '## Test accuracy',
    '',
    `Final test accuracy (%) ${a.finalPoint}, by global batch size: mean ± sample std over seeds (${note.text}). Diverged and failed runs are not averaged in; they are counted after a "+".`,
    '',
    cellTable(a.grouped, (c) => (c.testAccuracy ? pctSummary(c.testAccuracy) : null), note.usualN),
    ...chart('accuracy-vs-batch.svg'),
    '',
    '## Generalization gap',
    '',
    `Final train accuracy − test accuracy ${a.finalPoint}, in points: mean ± sample std over seeds (${note.text}).`,
    '',
    cellTable(a.grouped, (c) => (c.gap ? pctSummary(c.gap) : null), note.usualN),
    ...chart('gap-vs-batch.svg'),
    '',
    '## Learning curves',
    '',
    charts.has('learning-curves.svg') && input.chartsHref !== null
      ? plotsEvaluationCurves(a.grouped)
        ? 'Validation accuracy at every evaluation against optimizer steps (log scale), one line per ok run (seed), one panel per global batch size.'
        : 'Test accuracy after each epoch, mean over the ok seeds, one panel per global batch size.'
      : 'No chart: no run finished ok, or charts were not written.',
    ...chart('learning-curves.svg'),
  ];
}

/** Each two-parameter sweep as a grid: test accuracy and generalization gap, and a heatmap. */
function sensitivitySections(a: Analysis, input: ReportInput, at: Placement = MAIN): string[] {
  const grids = sensitivityGrids(a.grouped);
  if (grids.length === 0) return [];
  const lines = [`${at.heading} Sensitivity`, ''];
  const short = (p: string) => p.slice(p.lastIndexOf('.') + 1);
  for (const g of grids) {
    const usualN = Math.max(...g.cells.flat().map((c) => c?.runs.length ?? 0));
    const grid = (value: (c: Cell) => string | null) =>
      table([
        [`${short(g.rowPath)} \\ ${short(g.columnPath)}`, ...g.columnValues.map(String)],
        ...g.rowValues.map((r, i) => [
          String(r),
          ...g.columnValues.map((_, j) => {
            const c = g.cells[i][j];
            return c ? annotated(c, value, usualN) : 'not run';
          }),
        ]),
      ]);
    const workers = g.workers > 1 ? `, ${g.workers} workers` : '';
    lines.push(
      `${at.heading}# ${g.optimizerLabel} at batch ${g.batchSize}${workers}: \`${g.rowPath}\` × \`${g.columnPath}\``,
      '',
      'Final test accuracy (%), mean ± sample std over seeds:',
      '',
      grid((c) => (c.testAccuracy ? pctSummary(c.testAccuracy) : null)),
      '',
      'Generalization gap (train − test accuracy, points):',
      '',
      grid((c) => (c.gap ? pctSummary(c.gap) : null)),
      ...image(
        input,
        `${at.chartPrefix}${sensitivityChartFile(g)}`,
        `${g.optimizerLabel} at batch ${g.batchSize}: test accuracy by ${short(g.rowPath)} and ${short(g.columnPath)}`,
      ),
      '',
    );
  }
  return lines.slice(0, -1);
}

/** One-parameter sweeps (e.g. learning rate) as curves: the chart, and the best value per optimizer and batch. */
function sweepSections(a: Analysis, input: ReportInput, at: Placement = MAIN): string[] {
  const curves = sweepCurves(a.grouped);
  if (curves.length === 0) return [];
  const lines = [`${at.heading} Sweeps`, ''];
  for (const path of distinct(curves.map((c) => c.path))) {
    const mine = curves.filter((c) => c.path === path);
    // Picked on the validation split when every ok point measured it: the test split is then only reported.
    const okCells = mine.flatMap((c) => c.points.map((p) => p.cell)).filter((c) => c.testAccuracy !== null);
    const onValidation = okCells.length > 0 && okCells.every((c) => c.validationAccuracy !== null);
    const score = (c: Cell) => (onValidation ? c.validationAccuracy! : c.testAccuracy!).mean;
    const best = mine.map((c) => {
      const ok = c.points.filter((p) => p.cell.testAccuracy !== null);
      const top = ok.reduce<(typeof ok)[number] | null>((b, p) => (b === null || score(p.cell) > score(b.cell) ? p : b), null);
      const stopped = c.points.filter((p) => p.cell.testAccuracy === null).map((p) => String(p.value));
      const workers = c.workers > 1 ? ` (w=${c.workers})` : '';
      return [
        cell(c.optimizerLabel),
        `b${c.batchSize}${workers}`,
        top === null ? '—' : String(top.value),
        top === null ? '—' : pctSummary(top.cell.testAccuracy!),
        stopped.length === 0 ? '—' : stopped.join(', '),
      ];
    });
    lines.push(
      `Final test accuracy against \`${path}\` as configured (a schedule's batch-size scaling of the learning rate applies on top); the best value per optimizer and batch size (${onValidation ? 'highest mean final validation accuracy: picked on the validation split' : 'highest mean final test accuracy: picked on the test set'}), and the values that diverged or failed:`,
      '',
      table([
        ['optimizer', 'batch', `best ${path.slice(path.lastIndexOf('.') + 1)}`, 'test accuracy (%)', 'diverged or failed at'],
        ...best,
      ]),
      ...image(input, `${at.chartPrefix}${sweepChartFile(path)}`, `final test accuracy by ${path}`),
      '',
    );
  }
  return lines.slice(0, -1);
}

/** Each supporting study: where its runs are, its accuracy table, and its sweeps and grids. */
function supplementSections(input: ReportInput): string[] {
  const supplements = input.supplements ?? [];
  if (supplements.length === 0) return [];
  const lines = ['## Supporting studies', ''];
  for (const s of supplements) {
    const a = s.analysis;
    const suite = a.suite !== null && a.suite !== s.name ? ` of suite ${code(a.suite)}` : '';
    const full = s.reportHref === null ? '' : ` Full report: [${s.reportHref}](${encodeURI(s.reportHref)}).`;
    const at: Placement = { heading: '####', chartPrefix: s.chartPrefix };
    const grids = sensitivitySections(a, input, at);
    const sweeps = sweepSections(a, input, at);
    const note = seedNote(a.grouped);
    lines.push(
      `### ${s.name}`,
      '',
      `${statusCounts(a.grouped.runs)}${suite} in \`${s.resultsDir}\`, ${listing(datasetsOf(a.grouped.runs))}.${full}`,
      '',
      // Its grids and curves say it all; a study with neither gets its accuracy table.
      ...(grids.length + sweeps.length > 0
        ? [...grids, ...(grids.length > 0 && sweeps.length > 0 ? [''] : []), ...sweeps]
        : [
            `Final test accuracy (%): mean ± sample std over seeds (${note.text}).`,
            '',
            cellTable(a.grouped, (c) => (c.testAccuracy ? pctSummary(c.testAccuracy) : null), note.usualN),
          ]),
      '',
    );
  }
  return lines.slice(0, -1);
}

function timingSections(a: Analysis): string[] {
  const lines = ['## Time to target accuracy', ''];
  const t = a.target;
  if (!t) return [...lines, 'No run finished ok: nothing to time.'];
  if (a.grouped.runs.every((r) => r.result.status !== 'ok' || stopsAtTarget(r.result.config))) {
    // Runs that stop at a validation target end after their first epoch or before it: an epoch-end
    // test-accuracy target would time where they stopped, not how fast they learn.
    return [
      '## Throughput',
      '',
      "Every run stopped at its validation target: its training time to the target is in [Steps to target](#steps-to-target). Throughput over each run's whole training time:",
      '',
      table([
        ['optimizer', 'batch', 'samples/s', 'training time (s)'],
        ...a.timeToTarget.map((r) => [
          cell(r.cell.series.display),
          String(r.cell.batchSize),
          r.cell.samplesPerSecond ? rateSummary(r.cell.samplesPerSecond) : '—',
          r.cell.trainSeconds ? secondsSummary(r.cell.trainSeconds) : '—',
        ]),
      ]),
      '',
      ...scalingSection(a),
    ];
  }
  const why =
    t.source === 'given'
      ? 'as given with `--target`'
      : `${(100 * t.fraction!).toFixed(0)} % of ${pct(t.best!.testAccuracy!.mean)} %, the best mean final test accuracy: ${cell(t.best!.series.display)} at b${t.best!.batchSize}`;
  lines.push(
    `Target: **${pct(t.target)} %** test accuracy (${why}). Time to target is the training time up to the end of the first epoch at or above it (evaluation excluded: each run's evaluation time is spread evenly over its epochs), mean ± std over the seeds that reached it. samples/s is over each run's whole training time.`,
    '',
    table([
      ['optimizer', 'batch', 'time to target (s)', 'epochs', 'reached', 'samples/s', 'training time (s)'],
      ...a.timeToTarget.map((r) => [
        cell(r.cell.series.display),
        String(r.cell.batchSize),
        r.seconds ? secondsSummary(r.seconds) : 'not reached',
        r.epochs
          ? r.epochs.std === null || r.epochs.std === 0
            ? num(r.epochs.mean)
            : `${num(r.epochs.mean)} ± ${num(r.epochs.std)}`
          : '—',
        `${r.reached}/${r.total}`,
        r.cell.samplesPerSecond ? rateSummary(r.cell.samplesPerSecond) : '—',
        r.cell.trainSeconds ? secondsSummary(r.cell.trainSeconds) : '—',
      ]),
    ]),
    '',
  );
  return [...lines, ...scalingSection(a)];
}

function scalingSection(a: Analysis): string[] {
  const lines = ['## Scaling efficiency', ''];
  // Runs, not series: a series keeps workers = 1 when its batch size ran on one worker count only.
  const multi = a.grouped.runs.some((r) => r.workers > 1);
  if (a.scaling.length === 0) {
    lines.push(
      multi
        ? 'The multi-worker runs have no single-worker counterpart (same optimizer configuration and global batch size), so there is no efficiency to compute.'
        : 'Every run used one worker: no scaling efficiency to report.',
    );
    return lines;
  }
  lines.push(
    'samples/s at w workers ÷ (w × samples/s of the same optimizer configuration and global batch size on 1 worker).',
    '',
    table([
      ['optimizer', 'batch', 'workers', 'samples/s', 'samples/s on 1 worker', 'efficiency'],
      ...a.scaling.map((r) => [
        cell(r.series.display),
        String(r.batchSize),
        String(r.workers),
        rateSummary(r.samplesPerSecond),
        rateSummary(r.singleWorker),
        `${(100 * r.efficiency).toFixed(0)} %`,
      ]),
    ]),
  );
  return lines;
}

const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1);
function bytes(n: number): string {
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20} MiB`;
  if (n >= 2 ** 10 && n % 2 ** 10 === 0) return `${n / 2 ** 10} KiB`;
  return `${n} B`;
}
const gbps = (bytesPerSecond: number) => `${(bytesPerSecond / 1e9).toFixed(2)} GB/s`;

function probesSection(probes: ProbeReport | null, input: ReportInput, suite: string | null): string[] {
  const lines = ['## Step phases (probes)', ''];
  if (!probes) {
    const how = input.suiteFile
      ? ` \`ngd-bench probe ${shellQuote(input.suiteFile)} --out ${shellQuote(`${input.resultsDir}/probes.json`)}\` adds it.`
      : '';
    return [...lines, `No \`probes.json\` in the results directory.${how}`];
  }
  const columns = shownPhaseColumns(probes.stepPhases);
  lines.push(
    `From \`probes.json\` (suite ${code(probes.suite)}, ${probes.createdAt}, ${cell(describeEnvironment(probes.environment))}). Mean ms per step of each phase and its share of the phases' sum (— : the optimizer has no such phase); phases run every k steps (curvature, inversion) are amortized over the steps.`,
    '',
    table([
      ['optimizer', 'batch', 'step ms (median)', '±%', 'samples/s', ...columns.map(([, heading]) => heading)],
      ...probes.stepPhases.map((p) => {
        const meanMs = (phase: StepPhase) => p.phases[phase]?.meanMs ?? 0;
        const total = columns.reduce((sum, [phase]) => sum + meanMs(phase), 0);
        const share = (x: number) => (x === 0 || total === 0 ? '—' : `${ms(x)} (${((100 * x) / total).toFixed(0)} %)`);
        return [
          cell(p.optimizerLabel),
          String(p.batchSize),
          ms(p.step.medianMs),
          p.step.rmePercent === null ? '—' : p.step.rmePercent.toFixed(1),
          rate(p.samplesPerSecond),
          ...columns.map(([phase]) => share(meanMs(phase))),
        ];
      }),
    ]),
  );
  const ar = probes.allreduce;
  if (ar) {
    lines.push(
      '',
      `Allreduce between ${ar.workers} local workers (${cell(ar.algorithm)}) against raw loopback TCP (${gbps(ar.loopbackTcp.bytesPerSecond)}, one stream):`,
      '',
      table([
        ['bytes', 'median ms', 'p99 ms', '±%', 'algorithm bw', 'bus bw', 'bus bw / raw TCP'],
        ...ar.sizes.map((s) => [
          bytes(s.bytes),
          ms(s.latency.medianMs),
          ms(s.latency.p99Ms),
          s.latency.rmePercent === null ? '—' : s.latency.rmePercent.toFixed(1),
          gbps(s.algorithmBandwidth),
          gbps(s.busBandwidth),
          `${((100 * s.busBandwidth) / ar.loopbackTcp.bytesPerSecond).toFixed(0)} %`,
        ]),
      ]),
    );
  }
  if (suite !== null && probes.suite !== suite)
    lines.push('', `Note: the probes are from suite ${code(probes.suite)}, the runs from ${code(suite)}.`);
  return lines;
}

const MAX_REASON = 240;

function reasonOf(r: RunResult): string {
  if (r.status === 'diverged') return r.divergedAtStep === undefined ? 'non-finite loss' : `non-finite loss at step ${r.divergedAtStep}`;
  const kind = r.failureKind ? `${r.failureKind} failure: ` : '';
  const text = `${kind}${(r.error ?? 'no error message recorded').split('\n')[0]}`;
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

function failuresSection(a: Analysis): string[] {
  const bad = a.grouped.runs.filter((r) => r.result.status !== 'ok');
  const lines = ['## Failed and diverged runs', ''];
  if (bad.length === 0) lines.push('None: every run finished ok.');
  else {
    lines.push(table([['run', 'status', 'reason'], ...bad.map((r) => [code(r.id), r.result.status, cell(reasonOf(r.result))])]));
  }
  if (a.missing.length > 0) {
    lines.push('', `Planned in \`manifest.json\` but without a result file (${a.missing.length}): ${a.missing.map(code).join(', ')}.`);
  }
  return lines;
}

function environmentSection(a: Analysis): string[] {
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  const rows = a.environments.map((g) => {
    const e = g.environment;
    const versions = g.toolVersions.join(', ');
    if (e === null) return [String(g.runs), 'unknown', '—', '—', '—', '—', '—', '—', '—', '—', versions];
    return [
      String(g.runs),
      cell(e.backendRequested === 'auto' || e.backend === e.backendRequested ? e.backend : `${e.backend} (asked: ${e.backendRequested})`),
      cell(e.accelerator ?? '—'),
      cell(e.cpuModel),
      String(e.cpuCores),
      gib(e.memoryBytes),
      cell(e.gpus.length === 0 ? 'none' : e.gpus.join(', ')),
      cell(e.platform),
      cell(e.nodeVersion),
      cell(e.tfjsCoreVersion),
      versions,
    ];
  });
  return [
    '## Environment',
    '',
    table([['runs', 'backend', 'accelerator', 'CPU', 'cores', 'memory', 'GPUs', 'platform', 'node', 'tfjs-core', 'ngd-bench'], ...rows]),
  ];
}

function reproduceSection(a: Analysis, input: ReportInput): string[] {
  const q = shellQuote;
  const lines = ['## Reproduce', '', '`ngd-bench` is `npm run -s ngd-bench --` in a checkout (after `npm ci && npm run build`).', ''];
  const whole: string[] = [];
  if (input.suiteFile) {
    whole.push(`ngd-bench run ${q(input.suiteFile)} --out ${q(input.resultsDir)}`);
    if (a.set.probes) whole.push(`ngd-bench probe ${q(input.suiteFile)} --out ${q(`${input.resultsDir}/probes.json`)}`);
  }
  if (input.reportFile) {
    const flags = [
      input.title ? `--title ${q(input.title)}` : null,
      input.target !== undefined ? `--target ${input.target}` : null,
      input.baselineFile ? `--baseline ${q(input.baselineFile)}` : null,
      input.notesFile ? `--notes ${q(input.notesFile)}` : null,
      input.reference ? `--reference ${q(input.reference.file)}` : null,
      ...(input.supplements ?? []).map((s) => `--supplement ${q(s.resultsDir)}`),
    ].filter((f) => f !== null);
    whole.push([`ngd-bench report ${q(input.resultsDir)} --out ${q(input.reportFile)}`, ...flags].join(' '));
  }
  if (whole.length > 0) lines.push('The whole set, then this report:', '', '```sh', ...whole, '```', '');
  if (input.suiteFile && a.grouped.runs.some((r) => r.suite !== null)) {
    lines.push(
      `To check a published number without trusting it, \`ngd-bench reproduce ${q(input.resultsDir)} --filter <run id>\` trains that run again and compares every recorded number with its result file, bit for bit.`,
      '',
    );
  }
  const perRun: string[] = [];
  for (const r of a.grouped.runs) {
    const cmds: string[] = [];
    if (input.suiteFile && r.suite !== null)
      cmds.push(`ngd-bench run ${q(input.suiteFile)} --out ${q(`rerun/${r.id}`)} --filter ${q(r.id)}`);
    if (input.configDir) {
      const workers = r.workers > 1 ? ` --workers ${r.workers}` : '';
      cmds.push(`ngd-bench train --config ${q(`${input.configDir}/${r.id}.json`)}${workers} --out ${q(`${r.id}.json`)}`);
    }
    if (cmds.length > 0) perRun.push(`# ${r.name} (${r.result.status})`, ...cmds);
  }
  if (perRun.length > 0) {
    const configs = input.configDir ? ` \`${input.configDir}/<run id>.json\` holds each run's resolved config.` : '';
    lines.push(
      `<details><summary>One run at a time (${plural(a.grouped.runs.length, 'run')})</summary>`,
      '',
      `\`run --filter\` re-runs it as the suite would (into a fresh directory: \`run\` rewrites the manifest of its \`--out\`); \`train --config\` runs it alone.${configs}`,
      '',
      '```sh',
      ...perRun,
      '```',
      '',
      '</details>',
    );
  }
  return lines;
}

/** The full report for an analyzed result set. */
export function renderReport(a: Analysis, input: ReportInput): string {
  const title = input.title ?? (a.suite ? `ngd-bench report: ${a.suite}` : 'ngd-bench report');
  const sections = [
    header(a, title, input.description ?? null),
    baselineSection(input.findings),
    claimsSection(a, input),
    ...(input.notes ? [['## Discussion', '', input.notes.trim()]] : []),
    ...(input.reference ? [referenceSection(input.reference, referenceImage(input))] : []),
    ...[
      a.set.tuning ? tuningSection(a.set.tuning, input.resultsDir, targetsOf(a.targets)[0] ?? null) : [],
      stepsToTargetSection(a, input.chartsHref),
      matchedFitSection(a),
    ].filter((section) => section.length > 0),
    accuracySections(a, input),
    ...[sensitivitySections(a, input), sweepSections(a, input), supplementSections(input)].filter((section) => section.length > 0),
    timingSections(a),
    probesSection(a.set.probes, input, a.suite),
    failuresSection(a),
    environmentSection(a),
    reproduceSection(a, input),
  ];
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}

/** Analyze and render in one call. */
export function markdownReport(input: ReportInput): string {
  return renderReport(analyzeResultSet(input.set, input), input);
}
