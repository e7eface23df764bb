/**
 * The reporter (src/report, `ngd-bench report`, `ngd-bench leaderboard`): loading and validating a
 * results directory, the paper's claims on crafted data, time to target and scaling efficiency, the
 * Markdown report against a reviewed golden file, the SVG charts, the leaderboard's ranking, and a
 * static check that none of it can load tfjs or the training code.
 *
 * The golden file: UPDATE_GOLDEN=1 node --import tsx --test test/report/report.test.ts rewrites
 * test/fixtures/report/expected.md; read the diff before committing it.
 */
import type { Command } from 'commander';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import type { OptimizerName } from '../../src/config/trainConfig.js';
import type { RunResult, RunStatus } from '../../src/results/runResult.js';
import { writeJsonAtomic } from '../../src/results/writeJsonAtomic.js';
import { configHash } from '../../src/suite/runId.js';
import { displayPath } from '../../src/cli/paths.js';
import { companionDir, reportCommand } from '../../src/cli/reportCommand.js';
import { leaderboardCommand } from '../../src/cli/leaderboardCommand.js';
import { analyzeResultSet } from '../../src/report/analyze.js';
import { accuracyVsBatchChart, learningCurvesChart, renderSvg, reportCharts } from '../../src/report/charts.js';
import type { ReportFindings } from '../../src/report/findings.js';
import { groupRuns } from '../../src/report/groupRuns.js';
import { leaderboardMarkdown, rankLeaderboard, type LeaderboardSet } from '../../src/report/leaderboard.js';
import type { LoadedRun, ResultSet } from '../../src/report/resultSet.js';
import { readResultsDirectory as loadResultSet, ResultsDirectoryError } from '../../src/results/resultsDirectory.js';
import { markdownReport, type ReportInput } from '../../src/report/markdownReport.js';
import { evaluateClaims, type ClaimResult } from '../../src/report/paperClaims.js';
import { summarize } from '../../src/util/stats.js';
import { runTimeToTarget } from '../../src/report/timing.js';
import { makeRunResult } from '../fixtures/harness/makeResult.js';
import { generateFixture } from '../fixtures/report/generate.js';
import { tfjsOrTrainingReachable } from '../helpers/importGraph.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(root, 'test/fixtures/report');
const RESULTS = join(FIXTURE, 'results');
const GOLDEN = join(FIXTURE, 'expected.md');
const tmp = mkdtempSync(join(tmpdir(), 'ngd-bench-report-'));
let dirCount = 0;
const freshDir = (label: string) => join(tmp, `${++dirCount}-${label}`);

// --------------------------------------------------------------------------------------------------
// Crafted runs

interface CraftOptions {
  label?: string;
  status?: RunStatus;
  train?: number;
  workers?: number;
  trainSeconds?: number;
  samplesPerSecond?: number;
  sweep?: Record<string, number>;
}

/** A schema-valid result with the given final test accuracy (no training involved). */
function craft(name: OptimizerName, batchSize: number, seed: number, test: number, options: CraftOptions = {}): LoadedRun {
  const config = resolveTrainConfig({
    dataset: { name: 'synthetic', trainSize: 256, testSize: 64 },
    model: { name: 'mlp', hiddenWidths: [8] },
    optimizer: { name },
    epochs: 1,
    batchSize,
    backend: 'cpu',
    seed,
  });
  const status = options.status ?? 'ok';
  const result: RunResult = makeRunResult(config, status, { testAccuracy: test });
  const workers = options.workers ?? 1;
  const label = options.label ?? name;
  const hash = configHash(config, workers);
  const sweepName = Object.entries(options.sweep ?? {})
    .map(([p, v]) => `-${p.slice(p.lastIndexOf('.') + 1)}=${v}`)
    .join('');
  const runName = `${label}-b${batchSize}-w${workers}-s${seed}${sweepName}`;
  const id = `${runName}-${hash.slice(0, 10)}`;
  result.run = { id, name: runName, suite: 'crafted', optimizerLabel: label, configHash: hash, sweep: options.sweep ?? {}, attempts: 1 };
  if (workers > 1) {
    result.parallel = {
      workers,
      launcher: 'ngd-bench',
      perWorkerBatchSize: batchSize / workers,
      threadsPerWorker: 1,
      allreduce: 'ring',
      communicationSeconds: 0,
      bytesAllreducedPerStep: 0,
      replicaChecks: 0,
    };
  }
  if (result.final && options.train !== undefined) {
    result.final.trainAccuracy = options.train;
    result.final.generalizationGap = options.train - test;
    result.epochs[0].trainAccuracy = options.train;
  }
  if (options.trainSeconds !== undefined) result.timing.trainSeconds = options.trainSeconds;
  if (options.samplesPerSecond !== undefined) result.timing.samplesPerSecond = options.samplesPerSecond;
  return { file: `${id}.json`, result };
}

/** name -> batch -> test accuracies per seed. */
type Grid = Partial<Record<OptimizerName, Record<number, number[]>>>;

function gridRuns(grid: Grid): LoadedRun[] {
  const runs: LoadedRun[] = [];
  for (const [name, byBatch] of Object.entries(grid) as [OptimizerName, Record<number, number[]>][]) {
    for (const [batch, accs] of Object.entries(byBatch)) {
      accs.forEach((acc, seed) => {
        runs.push(craft(name, Number(batch), seed, acc));
      });
    }
  }
  return runs;
}

const claimsOf = (runs: LoadedRun[], options = {}) =>
  Object.fromEntries(evaluateClaims(groupRuns(runs).cells, options).map((c) => [c.id, c])) as Record<string, ClaimResult>;

const asSet = (runs: LoadedRun[], dir = 'crafted'): ResultSet => ({ dir, runs, manifest: null, probes: null });

function writeSet(dir: string, runs: readonly LoadedRun[]): string {
  mkdirSync(dir, { recursive: true });
  for (const r of runs) writeJsonAtomic(join(dir, r.file), r.result);
  return dir;
}

/** Runs a standalone command as the CLI would, capturing stdout. */
async function runCommand(command: Command, args: string[]): Promise<string> {
  reported.length = 0;
  await command.exitOverride().parseAsync(args, { from: 'user' });
  return reported.splice(0).join('');
}

/** The report command's stdout lines, collected (never by replacing process.stdout.write: see src/cli/commandOutput.ts). */
const reported: string[] = [];
const collect = { out: (text: string) => void reported.push(text), err: () => {} };

// --------------------------------------------------------------------------------------------------

describe('loading a results directory', () => {
  it('reads every result, the manifest and probes.json, skipping them as results', () => {
    const set = loadResultSet(RESULTS);
    assert.equal(set.runs.length, 15);
    assert.ok(set.runs.every((r) => r.file.endsWith('.json') && r.file !== 'manifest.json' && r.file !== 'probes.json'));
    assert.deepEqual(
      set.runs.map((r) => r.file),
      [...set.runs.map((r) => r.file)].sort(),
    );
    assert.equal(set.manifest?.suite, 'report-fixture');
    assert.equal(set.probes?.stepPhases.length, 6);
  });

  it('the committed fixture is what generate.ts writes', () => {
    const dir = freshDir('regenerated');
    generateFixture(dir);
    const names = readdirSync(RESULTS).sort();
    assert.deepEqual(readdirSync(dir).sort(), names);
    for (const n of names)
      assert.equal(readFileSync(join(dir, n), 'utf8'), readFileSync(join(RESULTS, n), 'utf8'), `${n} differs: rerun generate.ts`);
  });

  it('names a bad file in a one-line error', () => {
    const dir = freshDir('bad');
    writeSet(dir, [craft('sgd', 64, 0, 0.8)]);
    const bad = craft('sgd', 64, 1, 0.8);
    (bad.result as unknown as Record<string, unknown>).status = 'exploded';
    writeJsonAtomic(join(dir, 'broken.json'), bad.result);
    assert.throws(
      () => loadResultSet(dir),
      (e: Error) =>
        e instanceof ResultsDirectoryError && /broken\.json: invalid result file: \/status/.test(e.message) && !e.message.includes('\n'),
    );

    writeFileSync(join(dir, 'broken.json'), '{ "schemaVersion": 1,');
    assert.throws(() => loadResultSet(dir), /broken\.json: malformed JSON in result file/);
    rmSync(join(dir, 'broken.json'));

    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ schemaVersion: 1, suite: 'x' }));
    assert.throws(
      () => loadResultSet(dir),
      (e: Error) => /manifest\.json: invalid manifest: .*runIds/.test(e.message) && !e.message.includes('\n'),
    );
    rmSync(join(dir, 'manifest.json'));

    writeFileSync(join(dir, 'probes.json'), '[]');
    assert.throws(() => loadResultSet(dir), /probes\.json: invalid probe report/);
  });

  it('refuses a missing or empty directory', () => {
    assert.throws(() => loadResultSet(join(tmp, 'nope')), /nope: no such directory/);
    const empty = freshDir('empty');
    mkdirSync(empty);
    assert.throws(() => loadResultSet(empty), /no manifest\.json and no result files/);
    assert.throws(() => loadResultSet(empty, { requireRuns: true }), /no result files/);
  });

  it('groups by label, sweep values, workers and batch size across seeds', () => {
    const runs = [
      craft('sgd', 256, 0, 0.8),
      craft('sgd', 256, 1, 0.9),
      craft('sgd', 256, 0, 0.7, { workers: 2 }),
      craft('ngd', 256, 0, 0.6, { sweep: { 'optimizer.kfac.damping': 0.01 } }),
      craft('ngd', 256, 0, 0.5, { sweep: { 'optimizer.kfac.damping': 0.001 } }),
      craft('ngd', 256, 1, 0.55, { sweep: { 'optimizer.kfac.damping': 0.001 } }),
      craft('ngd', 1024, 0, 0.4, { sweep: { 'optimizer.kfac.damping': 0.001 }, status: 'diverged' }),
    ];
    const g = groupRuns(runs);
    assert.deepEqual(
      g.series.map((s) => s.display),
      ['sgd', 'sgd w=2', 'ngd damping=0.001', 'ngd damping=0.01'],
    );
    assert.deepEqual(g.batchSizes, [256, 1024]);
    const sgd = g.cells.find((c) => c.series.display === 'sgd')!;
    assert.equal(sgd.testAccuracy!.n, 2);
    assert.ok(Math.abs(sgd.testAccuracy!.mean - 0.85) < 1e-12);
    assert.ok(Math.abs(sgd.testAccuracy!.std! - Math.sqrt(0.005)) < 1e-12, 'sample std (n - 1)');
    const diverged = g.cells.find((c) => c.batchSize === 1024)!;
    assert.equal(diverged.runs.length, 1);
    assert.equal(diverged.ok.length, 0);
    assert.equal(diverged.testAccuracy, null);
  });

  it('summarize: mean and sample std; no std for one value', () => {
    assert.deepEqual(summarize([0.5]), { n: 1, mean: 0.5, std: null, min: 0.5, max: 0.5 });
    assert.equal(summarize([]), null);
    assert.equal(summarize([1, 2, 3, 4])!.std, Math.sqrt(5 / 3));
  });
});

describe("the paper's claims", () => {
  const paperLike: Grid = {
    sgd: { 256: [0.862, 0.868], 4096: [0.845, 0.851] },
    ngd: { 256: [0.866, 0.86], 4096: [0.812, 0.82] },
    'smoothed-ngd': { 256: [0.864, 0.87], 4096: [0.849, 0.853] },
  };

  it('hold on data shaped like the paper, with the batch sizes and numbers behind each verdict', () => {
    const c = claimsOf(gridRuns(paperLike));
    for (const id of ['C1', 'C2', 'C3']) {
      assert.equal(c[id].verdict, 'holds', `${id}: ${c[id].reason}`);
      assert.deepEqual(c[id].batchSizes, { small: 256, large: 4096 });
    }
    assert.match(c.C1.reason, /SGD loses 1\.70 points from b256 to b4096: more than m = 0\.50/);
    assert.match(c.C1.numbers[0], /sgd b256: 86\.50 ± 0\.42 % \(n=2\) → sgd b4096: 84\.80 ± 0\.42 % \(n=2\)/);
    assert.match(c.C2.reason, /NGD loses 4\.70 points, SGD 1\.70: NGD's extra loss 3\.00 is more than m = 0\.57/);
    assert.match(c.C3.reason, /0\.30 points above SGD \(so at least SGD − m, m = 0\.50\) and above NGD \(\+3\.50 points\)/);
  });

  it('do not hold when the data says otherwise', () => {
    const c = claimsOf(
      gridRuns({
        sgd: { 256: [0.86, 0.862], 4096: [0.859, 0.861] }, // no drop
        ngd: { 256: [0.86, 0.862], 4096: [0.858, 0.86] }, // drops like SGD
        'smoothed-ngd': { 256: [0.86, 0.862], 4096: [0.84, 0.842] }, // 2 points below SGD
      }),
    );
    assert.equal(c.C1.verdict, 'does not hold');
    assert.match(c.C1.reason, /SGD loses 0\.10 points .*not more than m = 0\.50/);
    assert.equal(c.C2.verdict, 'does not hold');
    assert.equal(c.C3.verdict, 'does not hold');
    assert.match(c.C3.reason, /1\.90 points below SGD \(beyond m = 0\.50\)/);
  });

  it('a drop within the seed spread does not count', () => {
    // SGD drops 1 point, but its seeds spread by ~1.4 points.
    const c = claimsOf(gridRuns({ sgd: { 256: [0.85, 0.87], 4096: [0.84, 0.86] } }));
    assert.equal(c.C1.verdict, 'does not hold');
    assert.match(c.C1.reason, /m = 1\.41/);
    // With a larger tolerance a clear drop stops counting too.
    const d = claimsOf(gridRuns({ sgd: { 256: [0.86, 0.861], 4096: [0.85, 0.851] } }), { tolerance: 0.02 });
    assert.equal(d.C1.verdict, 'does not hold');
    assert.equal(claimsOf(gridRuns({ sgd: { 256: [0.86, 0.861], 4096: [0.85, 0.851] } })).C1.verdict, 'holds');
  });

  it('C3 needs smoothed NGD above naive NGD too', () => {
    const c = claimsOf(
      gridRuns({
        sgd: { 256: [0.86, 0.862], 4096: [0.85, 0.852] },
        ngd: { 256: [0.86, 0.862], 4096: [0.856, 0.858] },
        'smoothed-ngd': { 256: [0.86, 0.862], 4096: [0.851, 0.853] },
      }),
    );
    assert.equal(c.C3.verdict, 'does not hold');
    assert.match(c.C3.reason, /(within m|at least SGD − m).* not above NGD \(-0\.50 points\)/);
  });

  it('are inconclusive, with the reason, when the data lacks what they need', () => {
    const oneBatch = claimsOf(
      gridRuns({ sgd: { 1024: [0.85, 0.86] }, ngd: { 1024: [0.8, 0.81] }, 'smoothed-ngd': { 1024: [0.85, 0.85] } }),
    );
    for (const id of ['C1', 'C2', 'C3']) {
      assert.equal(oneBatch[id].verdict, 'inconclusive');
      assert.equal(oneBatch[id].batchSizes, null);
      assert.deepEqual(oneBatch[id].numbers, []);
    }
    assert.equal(oneBatch.C1.reason, 'needs sgd at two batch sizes with ≥ 2 ok seeds each; has sgd: b1024 (2 ok seeds)');
    assert.equal(
      oneBatch.C2.reason,
      'needs sgd and ngd at two batch sizes with ≥ 2 ok seeds each; has sgd: b1024 (2 ok seeds); ngd: b1024 (2 ok seeds); only b1024 qualifies for all',
    );
    assert.match(oneBatch.C3.reason, /only b1024 qualifies for all$/);
    const oneSeed = claimsOf(gridRuns({ sgd: { 256: [0.87], 4096: [0.8] } }));
    assert.equal(oneSeed.C1.verdict, 'inconclusive');
    assert.equal(oneSeed.C1.reason, 'needs sgd at two batch sizes with ≥ 2 ok seeds each; has sgd: b256 (1 ok seed), b4096 (1 ok seed)');
    const noNgd = claimsOf(gridRuns({ sgd: { 256: [0.87, 0.86], 4096: [0.8, 0.81] } }));
    assert.equal(noNgd.C1.verdict, 'holds');
    assert.equal(noNgd.C2.verdict, 'inconclusive');
    assert.match(noNgd.C2.reason, /has sgd: b256 \(2 ok seeds\), b4096 \(2 ok seeds\); ngd: no ok run; no batch size qualifies for all$/);
    assert.equal(noNgd.C3.verdict, 'inconclusive');
    // --min-seeds 1 makes single seeds count (the margin is then the tolerance alone).
    assert.equal(claimsOf(gridRuns({ sgd: { 256: [0.87], 4096: [0.8] } }), { minSeeds: 1 }).C1.verdict, 'holds');
  });

  it('diverged runs are not averaged in, but are named; several configurations: the best mean is used', () => {
    const runs = [
      ...gridRuns(paperLike),
      craft('ngd', 4096, 2, 0.1, { status: 'diverged' }),
      craft('smoothed-ngd', 4096, 0, 0.7, { label: 'smoothed-ngd-big-noise' }),
      craft('smoothed-ngd', 4096, 1, 0.71, { label: 'smoothed-ngd-big-noise' }),
    ];
    const c = claimsOf(runs);
    assert.equal(c.C2.verdict, 'holds');
    assert.ok(c.C2.numbers.includes('not counted: ngd b4096: 1 diverged'), c.C2.numbers.join(' | '));
    assert.equal(c.C3.verdict, 'holds');
    assert.match(c.C3.numbers[0], /^smoothed-ngd b4096: 85\.10 ± 0\.28 % \(n=2, best of 2\)$/);
  });
});

describe('time to target and scaling efficiency', () => {
  it('counts training time (evaluation spread over the epochs and taken out) up to the first epoch at the target', () => {
    const run = loadResultSet(RESULTS).runs.find((r) => r.file.startsWith('sgd-b256-w1-s0'))!.result;
    // 3 epochs of 0.1024 s training + 0.05 s evaluation each; accuracy 0.802, 0.842, 0.862.
    const first = runTimeToTarget(run, 0.8)!;
    assert.equal(first.epoch, 1);
    assert.ok(Math.abs(first.seconds - 0.1024) < 1e-9);
    const second = runTimeToTarget(run, 0.84)!;
    assert.equal(second.epoch, 2);
    assert.ok(Math.abs(second.seconds - 0.2048) < 1e-9);
    assert.equal(runTimeToTarget(run, 0.9), null);
  });

  it('scaling efficiency = samples/s at w workers / (w x samples/s on one worker)', () => {
    const a = analyzeResultSet(loadResultSet(RESULTS));
    assert.equal(a.scaling.length, 1);
    const row = a.scaling[0];
    assert.equal(row.workers, 2);
    assert.equal(row.batchSize, 1024);
    assert.ok(Math.abs(row.efficiency - 48000 / (2 * 30300)) < 1e-12);
  });

  it('the default target is 95% of the best mean final test accuracy; --target overrides it', () => {
    const a = analyzeResultSet(loadResultSet(RESULTS));
    assert.ok(Math.abs(a.target!.target - 0.95 * 0.867) < 1e-9);
    assert.equal(a.target!.best!.series.display, 'smoothed-ngd');
    const ngd1024 = a.timeToTarget.find((t) => t.cell.series.display === 'ngd' && t.cell.batchSize === 1024)!;
    assert.equal(ngd1024.reached, 0);
    assert.equal(analyzeResultSet(loadResultSet(RESULTS), { target: 0.5 }).target!.target, 0.5);
  });
});

// --------------------------------------------------------------------------------------------------
// The report

const FINDINGS: ReportFindings = {
  verdict: 'fail',
  baseline: 'baselines/report-fixture.json',
  lines: [
    {
      runId: 'smoothed-ngd-b1024-w1-s0-bf838fd68f',
      metric: 'testAccuracy',
      baseline: 0.861,
      result: 0.849,
      delta: -0.012,
      threshold: 0.01,
      kind: 'regression',
    },
    {
      runId: 'sgd-b256-w1-s0-a2598be396',
      metric: 'trainSeconds',
      baseline: 0.45,
      result: 0.3072,
      delta: 0.6827,
      threshold: 1.5,
      kind: 'improvement',
    },
  ],
};

function fixtureInput(extra: Partial<ReportInput> = {}): ReportInput {
  return {
    set: loadResultSet(RESULTS),
    resultsDir: 'test/fixtures/report/results',
    suiteFile: 'test/fixtures/report/suite.json',
    reportFile: 'reports/report-fixture.md',
    chartsHref: 'report-fixture',
    configDir: 'reports/report-fixture/configs',
    findings: FINDINGS,
    ...extra,
  };
}

describe('the Markdown report', () => {
  it('matches the reviewed golden file (UPDATE_GOLDEN=1 rewrites it)', () => {
    const text = markdownReport(fixtureInput());
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    assert.equal(text, readFileSync(GOLDEN, 'utf8'));
  });

  it('is deterministic and independent of the directory it was read from', () => {
    const copy = freshDir('copy');
    generateFixture(copy);
    const a = markdownReport(fixtureInput());
    const b = markdownReport(fixtureInput({ set: loadResultSet(copy) }));
    assert.equal(a, b);
  });

  it('says when there is no baseline comparison, and shows a passing one', () => {
    const none = markdownReport(fixtureInput({ findings: undefined }));
    assert.match(none, /\*\*Baseline check:\*\* no baseline comparison/);
    assert.doesNotMatch(none, /\| regression \|/);
    const pass = markdownReport(fixtureInput({ findings: { verdict: 'pass', lines: [] } }));
    assert.match(pass, /\*\*Baseline check: pass\*\*: 0 regressions, 0 improvements\./);
    const status = markdownReport(
      fixtureInput({
        findings: {
          verdict: 'fail',
          lines: [
            {
              runId: 'x-1',
              metric: 'status',
              baseline: null,
              result: null,
              delta: null,
              threshold: null,
              kind: 'regression',
              note: 'ok | before, diverged now',
            },
          ],
        },
      }),
    );
    assert.match(status, /\| regression \| `x-1` \| status \| — +\| — +\| — +\| — +\| ok \\\| before, diverged now \|/);
    const noBaseline = markdownReport(fixtureInput({ findings: { verdict: 'no-baseline', lines: [] } }));
    assert.match(noBaseline, /\*\*Baseline check:\*\* no baseline for these runs\./);
  });

  it('explains what is missing: no probes, no charts, a single worker', () => {
    const set = loadResultSet(RESULTS);
    const single = { ...set, probes: null, runs: set.runs.filter((r) => r.result.parallel === undefined) };
    const text = markdownReport(fixtureInput({ set: single, chartsHref: null }));
    assert.match(
      text,
      /No `probes\.json` in the results directory\. `ngd-bench probe test\/fixtures\/report\/suite\.json --out test\/fixtures\/report\/results\/probes\.json` adds it\./,
    );
    assert.match(text, /Every run used one worker: no scaling efficiency to report\./);
    assert.doesNotMatch(text, /!\[/);
  });

  it('says why there is no scaling efficiency when the large batches ran on 2 workers only', () => {
    // As in the paper suite: b64 on one process, b4096 on 2 workers, never both at one batch size.
    const runs = [
      craft('sgd', 64, 0, 0.8),
      craft('sgd', 64, 1, 0.81),
      craft('sgd', 4096, 0, 0.7, { workers: 2 }),
      craft('sgd', 4096, 1, 0.71, { workers: 2 }),
    ];
    const text = markdownReport({ ...fixtureInput({ findings: undefined }), set: asSet(runs) });
    assert.match(text, /The multi-worker runs have no single-worker counterpart/);
  });

  it('renders a set where no run finished ok', () => {
    const runs = [craft('sgd', 64, 0, 0.5, { status: 'failed' }), craft('ngd', 64, 0, 0.5, { status: 'diverged' })];
    const text = markdownReport({ ...fixtureInput({ findings: undefined }), set: asSet(runs) });
    assert.match(text, /2 runs \(0 ok, 1 diverged, 1 failed\)/);
    assert.match(text, /No run finished ok: nothing to time\./);
    assert.match(text, /\| sgd +\| — \(1 failed\) +\|/);
    assert.doesNotMatch(text, /!\[/, 'no chart links without charts');
  });

  it('escapes table cells (pipes, newlines) from error messages', () => {
    const failed = craft('sgd', 64, 0, 0.5, { status: 'failed' });
    failed.result.error = 'bad | pipe\nsecond line';
    const text = markdownReport({ ...fixtureInput({ findings: undefined }), set: asSet([craft('sgd', 64, 1, 0.8), failed]) });
    assert.match(text, /\| failed \| bad \\\| pipe \|\n/);
  });
});

interface XmlNode {
  [key: string]: unknown;
}

function parseSvg(svg: string): XmlNode {
  assert.equal(XMLValidator.validate(svg), true, 'well-formed XML');
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    isArray: (name) => ['g', 'path', 'text'].includes(name),
  }).parse(svg) as XmlNode;
  assert.deepEqual(
    Object.keys(doc).filter((k) => !k.startsWith('?')),
    ['svg'],
    'root element <svg>',
  );
  return doc.svg as XmlNode;
}

/** Every <g> whose class list contains `cls`, anywhere below `node`. */
function groupsWithClass(node: unknown, cls: string, found: XmlNode[] = []): XmlNode[] {
  if (Array.isArray(node)) for (const n of node) groupsWithClass(n, cls, found);
  else if (node && typeof node === 'object') {
    const n = node as XmlNode;
    if (typeof n['@_class'] === 'string' && n['@_class'].split(' ').includes(cls)) found.push(n);
    for (const [k, v] of Object.entries(n)) if (!k.startsWith('@_')) groupsWithClass(v, cls, found);
  }
  return found;
}

const texts = (g: XmlNode) => ((g.text ?? []) as (string | XmlNode)[]).map((t) => (typeof t === 'string' ? t : String(t['#text'])));

describe('the charts (Vega-Lite, rendered to SVG)', () => {
  const grouped = groupRuns(loadResultSet(RESULTS).runs);
  const plotted = ['sgd', 'sgd w=2', 'ngd', 'smoothed-ngd']; // smoothed-sgd has no ok run

  it('accuracy vs batch size: valid SVG, one series per optimizer in the legend and the lines', async () => {
    const svg = parseSvg(await renderSvg(accuracyVsBatchChart(grouped).spec));
    const legend = groupsWithClass(svg, 'role-legend-label').flatMap(texts);
    assert.deepEqual(legend, plotted);
    const lines = groupsWithClass(svg, 'mark-line').flatMap((g) => (g.path ?? []) as unknown[]);
    assert.equal(lines.length, plotted.length);
    const axis = groupsWithClass(svg, 'role-axis-label').flatMap(texts);
    assert.ok(axis.includes('256') && axis.includes('1024'), 'the batch sizes label the log2 axis');
  });

  it('learning curves: one panel per batch size, one line per optimizer in each', async () => {
    const svg = parseSvg(await renderSvg(learningCurvesChart(grouped).spec));
    assert.deepEqual(groupsWithClass(svg, 'role-legend-label').flatMap(texts), plotted);
    const lines = groupsWithClass(svg, 'mark-line').flatMap((g) => (g.path ?? []) as unknown[]);
    const cellsWithOkRuns = grouped.cells.filter((c) => c.ok.length > 0).length;
    assert.equal(lines.length, cellsWithOkRuns);
  });

  it('renders the same SVG for the same data', async () => {
    const spec = accuracyVsBatchChart(grouped).spec;
    assert.equal(await renderSvg(spec), await renderSvg(spec));
  });

  it('no charts when no run finished ok', () => {
    assert.deepEqual(reportCharts(groupRuns([craft('sgd', 64, 0, 0.5, { status: 'failed' })])), []);
  });
});

describe('ngd-bench report (command)', () => {
  it('writes the report, its charts and the run configs next to it', async () => {
    const out = join(freshDir('cmd'), 'reports', 'fixture.md');
    const stdout = await runCommand(reportCommand({ output: collect }), [RESULTS, '--out', out, '--suite', join(FIXTURE, 'suite.json')]);
    assert.match(stdout, /wrote .*fixture\.md \(3 charts, 15 run configs in .*\); claims: C1 holds, C2 holds, C3 holds/);
    const text = readFileSync(out, 'utf8');
    const companion = join(dirname(out), 'fixture');
    for (const chart of ['accuracy-vs-batch.svg', 'gap-vs-batch.svg', 'learning-curves.svg']) {
      assert.ok(text.includes(`](fixture/${chart})`), `links ${chart}`);
      parseSvg(readFileSync(join(companion, chart), 'utf8'));
    }
    const configs = readdirSync(join(companion, 'configs'));
    assert.equal(configs.length, 15);
    const sgd = loadResultSet(RESULTS).runs.find((r) => r.file.startsWith('sgd-b1024-w2'))!;
    assert.deepEqual(JSON.parse(readFileSync(join(companion, 'configs', sgd.file), 'utf8')), sgd.result.config);
    assert.ok(text.includes(`--config ${displayPath(join(companion, 'configs', sgd.file))} --workers 2 --out ${sgd.file}`));
    assert.match(text, /\*\*Baseline check:\*\* no baseline comparison/);
  });

  it('uses an injected baseline comparison; without one, --baseline is bad input', async () => {
    const out = join(freshDir('baseline'), 'r.md');
    let asked = '';
    const command = reportCommand({
      output: collect,
      compareToBaseline: (set, file) => {
        asked = `${set.runs.length} runs vs ${file}`;
        return FINDINGS;
      },
    });
    await runCommand(command, [RESULTS, '--out', out, '--baseline', 'b.json']);
    assert.equal(asked, '15 runs vs b.json');
    assert.match(
      readFileSync(out, 'utf8'),
      /\*\*Baseline check: FAIL\*\* against `baselines\/report-fixture\.json`: 1 regression, 1 improvement\./,
    );
    await assert.rejects(
      runCommand(reportCommand({ output: collect }), [RESULTS, '--out', out, '--baseline', 'b.json']),
      /no baseline comparison is available/,
    );
  });

  it('refuses a report whose companion directory would be the results directory', async () => {
    const dir = writeSet(join(freshDir('collide'), 'smoke'), [craft('sgd', 64, 0, 0.8)]);
    await assert.rejects(
      runCommand(reportCommand({ output: collect }), [dir, '--out', `${dir}.md`]),
      /would put its charts in .*smoke\/, which holds the results directory/,
    );
    assert.equal(existsSync(`${dir}.md`), false);
    assert.equal(companionDir('reports/x.md'), 'reports/x');
  });

  it('rejects a bad --target', async () => {
    await assert.rejects(
      runCommand(reportCommand({ output: collect }), [RESULTS, '--out', join(tmp, 'x.md'), '--target', '85']),
      /fraction in \(0, 1\]/,
    );
  });
});

// --------------------------------------------------------------------------------------------------
// Leaderboard

describe('the leaderboard', () => {
  const setA = (): LeaderboardSet => {
    const runs = [
      craft('sgd', 256, 0, 0.86, { trainSeconds: 10 }),
      craft('sgd', 256, 1, 0.86, { trainSeconds: 10 }),
      craft('ngd', 256, 0, 0.86, { trainSeconds: 5 }), // same accuracy as sgd, faster: ranks first
      craft('ngd', 256, 1, 0.86, { trainSeconds: 5 }),
      craft('smoothed-ngd', 256, 0, 0.8),
      craft('sgd', 4096, 0, 0.84),
      craft('ngd', 4096, 0, 0.5, { status: 'diverged' }), // no ok run: last
      craft('smoothed-ngd', 4096, 0, 0.845),
    ];
    return { name: 'a', analysis: analyzeResultSet(asSet(runs, 'a')) };
  };
  const setB = (): LeaderboardSet => ({
    name: 'b',
    analysis: analyzeResultSet(
      asSet([craft('sgd', 1024, 0, 0.83, { trainSeconds: 3 }), craft('smoothed-ngd', 1024, 0, 0.83, { trainSeconds: 3 })], 'b'),
    ),
  });

  it('ranks per batch size by mean test accuracy, ties by time; a cell without ok runs ranks last', () => {
    const board = rankLeaderboard([setA(), setB()]);
    const at = (set: string, b: number) =>
      board.perBatch.find((r) => r.set === set && r.batchSize === b)!.entries.map((e) => [e.rank, e.optimizer]);
    assert.deepEqual(at('a', 256), [
      [1, 'ngd'],
      [2, 'sgd'],
      [3, 'smoothed-ngd'],
    ]);
    assert.deepEqual(at('a', 4096), [
      [1, 'smoothed-ngd'],
      [2, 'sgd'],
      [3, 'ngd'],
    ]);
    assert.deepEqual(
      at('b', 1024),
      [
        [1, 'sgd'],
        [1, 'smoothed-ngd'],
      ],
      'a full tie shares the rank',
    );
    // Overall: smoothed-ngd (3 + 1 + 1) / 3 = 1.67, sgd (2 + 2 + 1) / 3 = 1.67, ngd (1 + 3) / 2 = 2.
    assert.deepEqual(
      board.overall.map((e) => [e.rank, e.optimizer, e.meanRank.toFixed(2), e.cells, e.firstPlaces]),
      [
        [1, 'sgd', '1.67', 3, 1],
        [1, 'smoothed-ngd', '1.67', 3, 2],
        [3, 'ngd', '2.00', 2, 1],
      ],
    );
  });

  it('writes Markdown naming each set and its environment', () => {
    const text = leaderboardMarkdown([setA(), setB()]);
    assert.match(text, /^# ngd-bench leaderboard\n/);
    assert.match(text, /## Overall\n\n\| rank \| optimizer +\| mean rank \|/);
    assert.match(text, /\| `a` +\| `crafted` \| 8 \(7 ok\) \|/);
    assert.match(text, /### b4096\n\n[^#]*\| 3 +\| ngd +\| — \(1 diverged\) +\| 0\/1 +\|/);
  });

  it('ngd-bench leaderboard DIR... writes it from result directories', async () => {
    const base = freshDir('leaderboard');
    const a = writeSet(join(base, 'a'), setA().analysis.set.runs);
    const out = join(base, 'board.md');
    const stdout = await runCommand(leaderboardCommand(collect), [a, RESULTS, '--out', out]);
    assert.match(stdout, /wrote .*board\.md \(2 result sets\)/);
    const text = readFileSync(out, 'utf8');
    assert.ok(text.includes(`## \`${displayPath(RESULTS)}\``));
    assert.match(text, /cpu-blas \(openblas 0\.3\.21 \(pthread, 2 threads\)\) on AMD EPYC \(fixture\), 2 cores, no GPU/);
    await assert.rejects(runCommand(leaderboardCommand(collect), [join(base, 'missing')]), /missing: no such directory/);
  });
});

// --------------------------------------------------------------------------------------------------

describe('the reporter never loads tfjs', () => {
  it('no module reachable from src/report, the report or the leaderboard command imports tfjs or the training code', () => {
    const reportDir = join(root, 'src/report');
    const { offenders, seen } = tfjsOrTrainingReachable([
      ...readdirSync(reportDir)
        .filter((n) => n.endsWith('.ts'))
        .map((n) => join(reportDir, n)),
      join(root, 'src/cli/reportCommand.ts'),
      join(root, 'src/cli/leaderboardCommand.ts'),
    ]);
    assert.deepEqual(offenders, []);
    // The walk really went through the shared modules (schemas, manifest, probes) the reporter uses.
    for (const f of [
      'src/results/runResult.ts',
      'src/config/trainConfig.ts',
      'src/results/manifest.ts',
      'src/results/resultsDirectory.ts',
      'src/results/probeReport.ts',
      'src/report/charts.ts',
    ]) {
      assert.ok(seen.has(join(root, f)), `walked ${f}`);
    }
  });

  it('the walk catches an offender', () => {
    // src/cli/trainCommand.ts imports src/compute/backend and src/train (and through them tfjs).
    const { offenders } = tfjsOrTrainingReachable([join(root, 'src/cli/trainCommand.ts')]);
    assert.ok(offenders.some((o) => o.includes('src/compute/backend/')));
    assert.ok(offenders.some((o) => o.includes('src/train/')));
    assert.ok(offenders.some((o) => o.includes('@tensorflow/')));
  });
});

describe('sensitivity grids (two swept hyper-parameters at one batch size)', () => {
  const sweepRuns = (): LoadedRun[] => {
    const runs: LoadedRun[] = [];
    for (const amplitude of [0, 0.01, 0.03]) {
      for (const damping of [0.001, 0.01]) {
        for (const seed of [0, 1]) {
          // One whole cell diverged, and one seed of another.
          const diverged = (amplitude === 0.03 && damping === 0.001) || (amplitude === 0.01 && damping === 0.001 && seed === 1);
          const acc = 0.8 + damping - amplitude + seed * 0.001;
          runs.push(
            craft('smoothed-ngd', 8192, seed, acc, {
              status: diverged ? 'diverged' : 'ok',
              sweep: { 'optimizer.smoothing.amplitude': amplitude, 'optimizer.kfac.damping': damping },
            }),
          );
        }
      }
    }
    return runs;
  };

  it('are found, rows = the parameter with more values, and every combination lands in its cell', async () => {
    const grouped = groupRuns(sweepRuns());
    const { sensitivityGrids } = await import('../../src/report/sensitivity.js');
    const [grid, ...rest] = sensitivityGrids(grouped);
    assert.equal(rest.length, 0);
    assert.equal(grid.rowPath, 'optimizer.smoothing.amplitude');
    assert.deepEqual(grid.rowValues, [0, 0.01, 0.03]);
    assert.deepEqual(grid.columnValues, [0.001, 0.01]);
    assert.ok(Math.abs(grid.cells[1][1]!.testAccuracy!.mean - (0.8 + 0.01 - 0.01 + 0.0005)) < 1e-12);
    assert.equal(grid.cells[2][0]!.testAccuracy, null, 'the diverged combination has no accuracy');
    // No grid for a single sweep.
    assert.equal(sensitivityGrids(groupRuns(gridRuns({ sgd: { 64: [0.8, 0.81] } }))).length, 0);
  });

  it('are rendered as accuracy and gap tables and a heatmap with one rect per combination', async () => {
    const set: ResultSet = { dir: 'crafted', runs: sweepRuns(), manifest: null, probes: null };
    const md = markdownReport({ set, chartsHref: 'charts' } as ReportInput);
    assert.match(md, /## Sensitivity/);
    assert.match(md, /\| amplitude \\ damping \| 0\.001 +\| 0\.01 +\|/);
    assert.match(md, /— \(2 diverged\)/);
    assert.match(md, /^\| 0\.01 +\| 79\.10 \(n=1, \+1 diverged\) \|/m);
    assert.match(
      md,
      /!\[smoothed-ngd at batch 8192: test accuracy by amplitude and damping\]\(charts\/sensitivity-smoothed-ngd-b8192\.svg\)/,
    );
    const chart = reportCharts(groupRuns(set.runs)).find((c) => c.file === 'sensitivity-smoothed-ngd-b8192.svg')!;
    const svg = await renderSvg(chart.spec);
    assert.ok(XMLValidator.validate(svg) === true);
    assert.match(svg, /class="mark-rect/);
    // One text mark per combination: five accuracies and the diverged one.
    const labels = [...svg.matchAll(/aria-roledescription="text mark"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    assert.equal(labels.length, 6);
    assert.equal(labels.filter((l) => l === 'diverged').length, 1);
    assert.ok(labels.includes('79.10 (1/2)'), `a mean over 1 of 2 seeds says so: ${labels.join(', ')}`);
  });
});

describe('one-parameter sweeps and supporting studies', () => {
  /** An lr sweep at two batch sizes: sgd improves with lr until it diverges at the largest value. */
  const lrRuns = (): LoadedRun[] => {
    const runs: LoadedRun[] = [];
    for (const batch of [1024, 8192]) {
      for (const [i, lr] of [0.01, 0.1, 1].entries()) {
        const diverged = lr === 1 && batch === 8192;
        runs.push(
          craft('sgd', batch, 0, 0.8 + 0.02 * i - (batch === 8192 ? 0.01 : 0), {
            status: diverged ? 'diverged' : 'ok',
            sweep: { 'optimizer.lr': lr },
          }),
        );
        runs.push(craft('ngd', batch, 0, 0.85 - 0.03 * i, { sweep: { 'optimizer.lr': lr } }));
      }
    }
    return runs;
  };

  it('sweepCurves finds one curve per optimizer and batch, sorted by value, diverged points kept', async () => {
    const { sweepCurves } = await import('../../src/report/sweeps.js');
    const curves = sweepCurves(groupRuns(lrRuns()));
    assert.deepEqual(
      curves.map((c) => `${c.optimizerLabel} b${c.batchSize}`),
      ['sgd b1024', 'sgd b8192', 'ngd b1024', 'ngd b8192'],
    );
    const sgd8192 = curves[1];
    assert.deepEqual(
      sgd8192.points.map((p) => p.value),
      [0.01, 0.1, 1],
    );
    assert.equal(sgd8192.points[2].cell.testAccuracy, null);
    // Two values are not a curve; two swept paths are a grid, not a curve.
    const two = lrRuns().filter((r) => r.result.run!.sweep['optimizer.lr'] !== 1);
    assert.equal(sweepCurves(groupRuns(two)).length, 0);
  });

  it('the report names the best value per optimizer and batch and where it diverged, and links the sweep chart', async () => {
    const set: ResultSet = { dir: 'crafted', runs: lrRuns(), manifest: null, probes: null };
    const md = markdownReport({ set, chartsHref: 'charts' } as ReportInput);
    assert.match(md, /^## Sweeps$/m);
    assert.match(md, /^\| sgd +\| b8192 \| 0\.1 +\| 81\.00 +\| 1 +\|$/m);
    assert.match(md, /^\| ngd +\| b1024 \| 0\.01 +\| 85\.00 +\| — +\|$/m);
    assert.match(md, /!\[final test accuracy by optimizer\.lr\]\(charts\/sweep-lr\.svg\)/);
    const chart = reportCharts(groupRuns(set.runs)).find((c) => c.file === 'sweep-lr.svg')!;
    const svg = await renderSvg(chart.spec);
    assert.ok(XMLValidator.validate(svg) === true);
    const values = (
      chart.spec as { data: { values: { optimizer: string; batch: string; value: number; accuracy: number | null; status: string }[] } }
    ).data.values;
    assert.deepEqual(
      values.filter((v) => v.accuracy === null).map((v) => [v.optimizer, v.batch, v.value, v.status]),
      [['sgd', '8192', 1, 'diverged']],
    );
    assert.equal(values.length, 12);
  });

  it('`report --supplement DIR` shows a study inside the main report, with its charts and a link to its own report', async () => {
    const main = freshDir('supplemented');
    const study = join(freshDir('study'), 'lr-study');
    mkdirSync(main, { recursive: true });
    mkdirSync(study, { recursive: true });
    for (const r of gridRuns({ sgd: { 64: [0.8, 0.81], 4096: [0.7, 0.71] } })) writeJsonAtomic(join(main, r.file), r.result);
    for (const r of lrRuns()) writeJsonAtomic(join(study, r.file), { ...r.result, run: { ...r.result.run!, suite: 'lr-suite' } });
    const reports = freshDir('reports');
    mkdirSync(reports, { recursive: true });
    writeFileSync(join(reports, 'lr-study.md'), '# its own report\n');
    const out = join(reports, 'main.md');
    const notes = join(reports, 'main.notes.md');
    writeFileSync(notes, 'SGD loses accuracy at b4096 because *fewer steps*.\n');
    const suiteFile = join(reports, 'suite.yaml');
    writeFileSync(suiteFile, 'name: crafted\ndescription: Why these runs exist.\n');
    await reportCommand({ output: collect })
      .exitOverride()
      .parseAsync(['node', 'report', main, '--out', out, '--supplement', study, '--notes', notes, '--suite', suiteFile], { from: 'node' });
    const md = readFileSync(out, 'utf8');
    assert.match(md, /^> Why these runs exist\.$/m);
    assert.match(md, /^## Discussion\n\nSGD loses accuracy at b4096 because \*fewer steps\*\.$/m);
    assert.ok(md.indexOf('## Discussion') > md.indexOf("## The paper's claims"));
    assert.match(md, /^## Supporting studies$/m);
    assert.match(md, /^### lr-study$/m);
    assert.match(md, /^12 runs \(11 ok, 1 diverged\) of suite `lr-suite` in `.*lr-study`/m);
    assert.match(md, /Full report: \[lr-study\.md\]\(lr-study\.md\)/);
    assert.match(md, /^#### Sweeps$/m);
    assert.match(md, /!\[final test accuracy by optimizer\.lr\]\(main\/lr-study-sweep-lr\.svg\)/);
    assert.ok(existsSync(join(reports, 'main', 'lr-study-sweep-lr.svg')));
    // The study's runs do not leak into the main tables or claims.
    assert.doesNotMatch(md.slice(0, md.indexOf('## Supporting studies')), /b8192/);
  });
});
