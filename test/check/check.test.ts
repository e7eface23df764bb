/**
 * Baselines and regression checks (`ngd-bench check`): the pure checker on fixture results, then the
 * command end to end on fixture results directories (no training involved).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { readBaseline } from '../../src/check/baselineFile.js';
import type { Baseline } from '../../src/check/baselineSchema.js';
import { benchmarkJsonPaths, toBenchmarkJson } from '../../src/check/benchmarkJson.js';
import { compare, exitCodeOf, type CheckReport, type Finding, type Planned } from '../../src/check/compare.js';
import { escapeXml, toJUnitXml } from '../../src/check/junit.js';
import { formatFindingsTable, formatVerdict } from '../../src/check/format.js';
import { configGroupKey, observe, type Observation } from '../../src/check/observe.js';
import { runCheck, type CheckIo, type CheckOptions } from '../../src/check/runCheck.js';
import { median, sampleStdDev } from '../../src/util/stats.js';
import { updateBaseline } from '../../src/check/update.js';
import { checkCommand } from '../../src/cli/checkCommand.js';
import type { ProbeReport } from '../../src/results/probeReport.js';
import { tfjsOrTrainingReachable } from '../helpers/importGraph.js';
import type { RunResult } from '../../src/results/runResult.js';
import type { PlannedRun } from '../../src/suite/plannedRun.js';
import type { Tolerances } from '../../src/suite/suiteSchema.js';
import {
  CPU_ENV,
  fixtureRuns,
  fixtureSuite,
  makeProbeReport,
  makeResult,
  SUITE_NAME,
  writeResultsDir,
  writeSuiteFile,
  type ResultOptions,
} from '../fixtures/check/makeResults.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ngd-bench-check-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (name: string) => join(tmp, `${name}-${++dirCount}`);

const TOLERANCES: Tolerances = fixtureSuite().tolerances; // drop 1 pt, spread x2, time x1.25, >= 3 samples
const RUNS = fixtureRuns();
const run = (label: string, seed: number): PlannedRun => {
  const found = RUNS.find((r) => r.optimizerLabel === label && r.config.seed === seed);
  assert.ok(found, `fixture run ${label} s${seed}`);
  return found;
};

/** Results for the given runs, each with the same options unless `per` overrides them. */
function results(runs: readonly PlannedRun[], options: ResultOptions = {}, per: Record<string, ResultOptions> = {}): RunResult[] {
  return runs.map((r) => makeResult(r, { ...options, ...per[r.name] }));
}

const observeAll = (rs: readonly RunResult[], probes: ProbeReport | null = null): Observation[] => rs.map((r) => observe(r, probes));

function baselineFrom(rs: readonly RunResult[], probes: ProbeReport | null = null, tolerances: Tolerances = TOLERANCES): Baseline {
  return updateBaseline({
    suite: SUITE_NAME,
    previous: null,
    results: observeAll(rs, probes),
    tolerances,
    now: '2025-01-02T00:00:00.000Z',
    toolVersion: 'test',
  }).baseline;
}

function check(
  current: readonly RunResult[],
  baseline: Baseline | null,
  options: { probes?: ProbeReport; planned?: Planned | null; tolerances?: Tolerances } = {},
): CheckReport {
  return compare({
    suite: SUITE_NAME,
    results: observeAll(current, options.probes ?? null),
    baseline,
    tolerances: options.tolerances ?? TOLERANCES,
    planned: options.planned ?? null,
  });
}

const only = (report: CheckReport, pred: (f: Finding) => boolean): Finding => {
  const found = report.findings.filter(pred);
  assert.equal(found.length, 1, `expected one finding, got ${JSON.stringify(found, null, 2)}`);
  return found[0];
};
const accuracyOf = (report: CheckReport, runId: string) => only(report, (f) => f.check === 'accuracy' && f.runIds.includes(runId));
const timeOf = (report: CheckReport, runId: string) => only(report, (f) => f.check === 'time' && f.runIds.includes(runId));

describe('check: statistics and keys', () => {
  it('median and sample standard deviation', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.equal(sampleStdDev([1]), null, 'one value has no spread');
    assert.ok(Math.abs(sampleStdDev([88, 90, 92])! - 2) < 1e-12);
  });

  it('the config group key drops the seed from the name and ignores only the seed in the hash', () => {
    const [s0, s1] = [observe(makeResult(run('sgd', 0))), observe(makeResult(run('sgd', 1)))];
    assert.equal(s0.groupKey, s1.groupKey);
    assert.match(s0.groupKey, /^sgd-b64-w1-[0-9a-f]{10}$/);
    assert.notEqual(observe(makeResult(run('ngd', 0))).groupKey, s0.groupKey);
    // Another learning rate (same name) is another group.
    const other = fixtureRuns({ optimizers: [{ name: 'sgd', lr: 0.2 }] }).find((r) => r.config.seed === 0)!;
    assert.equal(other.name, run('sgd', 0).name);
    assert.notEqual(configGroupKey(makeResult(other)), s0.groupKey);
  });

  it('the environment fingerprint: backend, device (GPUs for GPU backends, else the CPU) and workers', () => {
    assert.deepEqual(observe(makeResult(run('sgd', 0))).environment, { backend: 'cpu-blas', device: CPU_ENV.cpuModel, workers: 1 });
    const gpu = makeResult(run('sgd', 0), { environment: { backend: 'tensorflow-gpu', gpus: ['NVIDIA A100', 'NVIDIA A100'] } });
    assert.deepEqual(observe(gpu).environment, { backend: 'tensorflow-gpu', device: '2x NVIDIA A100', workers: 1 });
    const cpuOnGpuMachine = makeResult(run('sgd', 0), { environment: { gpus: ['NVIDIA A100'] } });
    assert.equal(observe(cpuOnGpuMachine).environment.device, CPU_ENV.cpuModel);
    assert.deepEqual(observe(makeResult(run('sgd', 0), { status: 'failed', environment: null })).environment, {
      backend: 'unknown',
      device: 'unknown',
      workers: 1,
    });
  });
});

describe('check: accuracy', () => {
  const single = [run('sgd', 0)];

  it('a single run: a drop beyond accuracyDropPoints fails, within passes, a rise beyond is an improvement', () => {
    const baseline = baselineFrom(results(single, { testAccuracy: 0.9 }));
    const id = single[0].id;

    const drop = check(results(single, { testAccuracy: 0.885 }), baseline);
    const f = accuracyOf(drop, id);
    assert.equal(f.outcome, 'regression');
    assert.equal(f.metric, 'testAccuracy');
    assert.ok(Math.abs(f.delta! + 1.5) < 1e-9);
    assert.equal(f.threshold, 1);
    assert.equal(exitCodeOf(drop), 1);
    assert.match(formatVerdict(drop), /^check check-test: FAIL — 1 accuracy regression \(accuracy ±1\.0 pts, time ×1\.25\)/);

    const within = check(results(single, { testAccuracy: 0.892 }), baseline);
    assert.equal(accuracyOf(within, id).outcome, 'pass');
    assert.equal(exitCodeOf(within), 0);
    assert.equal(formatVerdict(within), 'check check-test: PASS — 1 run within tolerance (accuracy ±1.0 pts, time ×1.25)');

    const better = check(results(single, { testAccuracy: 0.93 }), baseline);
    assert.equal(accuracyOf(better, id).outcome, 'improvement');
    assert.equal(exitCodeOf(better), 0);
    assert.match(formatVerdict(better), /PASS .*1 accuracy improvement/);
  });

  it('a seed group is judged by its mean, with the threshold widened by the baseline seed spread', () => {
    const sgd = [0, 1, 2].map((s) => run('sgd', s));
    // Baseline seeds 88, 90, 92 %: sd 2 pts, x2 -> 4 pts allowed (more than accuracyDropPoints = 1).
    const baseline = baselineFrom(
      results(
        sgd,
        {},
        { [sgd[0].name]: { testAccuracy: 0.88 }, [sgd[1].name]: { testAccuracy: 0.9 }, [sgd[2].name]: { testAccuracy: 0.92 } },
      ),
    );
    const shifted = (pts: number) =>
      results(sgd, {}, Object.fromEntries(sgd.map((r, i) => [r.name, { testAccuracy: [0.88, 0.9, 0.92][i] + pts / 100 }])));

    const down3 = check(shifted(-3), baseline);
    const g = only(down3, (f) => f.check === 'accuracy');
    assert.equal(g.metric, 'groupTestAccuracy');
    assert.equal(g.outcome, 'pass', 'a 3-point drop of the mean is within 2 x sd = 4 points');
    assert.deepEqual([...g.runIds].sort(), sgd.map((r) => r.id).sort());
    assert.ok(Math.abs(g.threshold! - 4) < 1e-9);
    assert.ok(Math.abs(g.delta! + 3) < 1e-9);
    assert.equal(g.group?.pairedRuns, 3);
    assert.match(g.label, /^sgd-b64-w1 \[seeds 0,1,2\]$/);
    assert.equal(exitCodeOf(down3), 0);

    const down5 = check(shifted(-5), baseline);
    assert.equal(only(down5, (f) => f.check === 'accuracy').outcome, 'regression');
    assert.equal(exitCodeOf(down5), 1);

    // With no spread, the threshold is accuracyDropPoints.
    const flat = baselineFrom(results(sgd, { testAccuracy: 0.9 }));
    const flatDown = check(results(sgd, { testAccuracy: 0.885 }), flat);
    const f = only(flatDown, (x) => x.check === 'accuracy');
    assert.equal(f.threshold, 1);
    assert.equal(f.outcome, 'regression');
  });

  it('a run that diverged or failed where the baseline was ok is a regression; ok where it diverged is an improvement', () => {
    const [a, b, c] = [run('sgd', 0), run('ngd', 0), run('ngd', 1)];
    const baseline = baselineFrom([makeResult(a), makeResult(b), makeResult(c, { status: 'diverged' })]);
    const report = check(
      [makeResult(a, { status: 'diverged' }), makeResult(b, { status: 'failed', environment: null }), makeResult(c)],
      baseline,
    );

    const diverged = accuracyOf(report, a.id);
    assert.equal(diverged.metric, 'status');
    assert.equal(diverged.outcome, 'regression');
    assert.match(diverged.message, /diverged \(baseline ok at 90\.00%\)/);
    assert.equal(accuracyOf(report, b.id).outcome, 'regression');
    assert.equal(accuracyOf(report, c.id).outcome, 'improvement');
    // No time comparison for runs that did not finish (and none across environments).
    assert.match(timeOf(report, a.id).message, /skipped: result diverged/);
    assert.equal(timeOf(report, b.id).outcome, 'skipped');
    assert.match(timeOf(report, c.id).message, /skipped: baseline diverged/);
    assert.equal(exitCodeOf(report), 1);
    assert.match(formatVerdict(report), /FAIL — 2 accuracy regressions .*1 accuracy improvement/);

    // The same non-ok status passes.
    const again = check([makeResult(c, { status: 'diverged' })], baseline, { planned: { runIds: [c.id], partial: true } });
    assert.equal(accuracyOf(again, c.id).outcome, 'pass');
    assert.equal(exitCodeOf(again), 0);
  });
});

describe('check: time', () => {
  const single = [run('ngd', 0)];
  const id = single[0].id;

  it('a slowdown beyond timeRatio with enough samples fails; the samples/s ratio is reported', () => {
    const baseline = baselineFrom(results(single, { epochSeconds: [1, 1, 1] }));
    const report = check(results(single, { epochSeconds: [1.4, 1.35, 1.45] }), baseline);
    const f = timeOf(report, id);
    assert.equal(f.outcome, 'regression');
    assert.equal(f.metric, 'epochSeconds');
    assert.ok(Math.abs(f.delta! - 1.4) < 1e-9);
    assert.equal(f.threshold, 1.25);
    assert.deepEqual(f.samples, { baseline: 3, result: 3, required: 3 });
    assert.ok(f.samplesPerSecond && f.samplesPerSecond.ratio !== null && f.samplesPerSecond.ratio < 0.75);
    assert.equal(accuracyOf(report, id).outcome, 'pass', 'accuracy is judged separately');
    assert.equal(exitCodeOf(report), 1);
    assert.match(formatVerdict(report), /FAIL — 1 slowdown/);
    const table = formatFindingsTable(report);
    assert.match(table, /\| slowdown \|/);
    assert.match(table, /×1\.40/);
  });

  it('noisy timings whose median is within timeRatio pass (one slow epoch does not fail)', () => {
    const baseline = baselineFrom(results(single, { epochSeconds: [1.0, 1.1, 0.95, 1.05] }));
    const report = check(results(single, { epochSeconds: [1.6, 1.02, 0.98, 1.08] }), baseline);
    assert.equal(timeOf(report, id).outcome, 'pass');
    assert.equal(exitCodeOf(report), 0);
    assert.equal(formatFindingsTable(report), '');
  });

  it('too few timing samples: a slowdown is inconclusive, reported, not a failure', () => {
    const baseline = baselineFrom(results(single, { epochSeconds: [1, 1] }));
    const report = check(results(single, { epochSeconds: [2, 2] }), baseline);
    const f = timeOf(report, id);
    assert.equal(f.outcome, 'inconclusive');
    assert.match(f.message, /only 2 vs 2 samples \(need 3 each\)/);
    assert.equal(exitCodeOf(report), 0);
    assert.match(formatVerdict(report), /PASS .*1 inconclusive/);
    assert.match(formatFindingsTable(report), /inconclusive/);
  });

  it('a different environment skips the time check (with both fingerprints) but still checks accuracy', () => {
    const baseline = baselineFrom(results(single, { testAccuracy: 0.9, epochSeconds: [1, 1, 1] }));
    const elsewhere = results(single, { testAccuracy: 0.85, epochSeconds: [5, 5, 5], environment: { cpuModel: 'Other CPU 9000' } });
    const report = check(elsewhere, baseline);
    const t = timeOf(report, id);
    assert.equal(t.outcome, 'skipped');
    assert.equal(
      t.message,
      `skipped: different environment (cpu-blas on ${CPU_ENV.cpuModel}, 1 worker vs cpu-blas on Other CPU 9000, 1 worker)`,
    );
    assert.equal(accuracyOf(report, id).outcome, 'regression');
    assert.equal(exitCodeOf(report), 1);
    assert.equal(report.summary.missingBaselineEntries, 0, 'an entry from another machine still counts for accuracy');

    const fine = check(
      results(single, { testAccuracy: 0.9, epochSeconds: [5, 5, 5], environment: { cpuModel: 'Other CPU 9000' } }),
      baseline,
    );
    assert.equal(exitCodeOf(fine), 0);
    assert.match(formatVerdict(fine), /PASS .*1 time check skipped/);
  });

  it('probe step medians are compared instead of epoch seconds when both sides have them', () => {
    const both = [run('sgd', 0), run('ngd', 0)];
    const baseline = baselineFrom(results(both), makeProbeReport({ sgd: 10, ngd: 20 }));
    assert.deepEqual(baseline.entries.find((e) => e.optimizerLabel === 'ngd')?.probeStep, {
      medianMs: 20,
      meanMs: 20,
      rmePercent: 1,
      samples: 10,
    });
    const report = check(results(both), baseline, { probes: makeProbeReport({ sgd: 10.5, ngd: 30 }) });
    const ngd = timeOf(report, run('ngd', 0).id);
    assert.equal(ngd.metric, 'probeStepMs');
    assert.equal(ngd.outcome, 'regression');
    assert.ok(Math.abs(ngd.delta! - 1.5) < 1e-9);
    assert.equal(timeOf(report, run('sgd', 0).id).outcome, 'pass');
    // Without a probe on one side: epoch seconds.
    assert.equal(timeOf(check(results(both), baseline), run('ngd', 0).id).metric, 'epochSeconds');
    // A probe from another machine is not attached.
    assert.equal(observe(makeResult(both[0]), makeProbeReport({ sgd: 1 }, { environment: { cpuModel: 'Other' } })).probeStep, undefined);
  });

  it('with a calibration reference on both sides, step / reference is compared: machine load cancels, a real slowdown does not', () => {
    const both = [run('sgd', 0), run('ngd', 0)];
    const baseline = baselineFrom(results(both), makeProbeReport({ sgd: 10, ngd: 20 }, { referenceMs: 4 }));
    assert.equal(baseline.entries.find((e) => e.optimizerLabel === 'ngd')?.probeStep?.referenceMedianMs, 4);
    // A machine 3x busier: every step and the reference 3x slower -> within tolerance.
    const loaded = check(results(both), baseline, { probes: makeProbeReport({ sgd: 30, ngd: 60 }, { referenceMs: 12 }) });
    const ngdLoaded = timeOf(loaded, run('ngd', 0).id);
    assert.equal(ngdLoaded.outcome, 'pass');
    assert.ok(Math.abs(ngdLoaded.delta! - 1) < 1e-9);
    assert.match(ngdLoaded.message, /×3\.00 raw, ×1\.00 relative to the reference workload/);
    // ngd 3x slower on an equally loaded machine -> a regression.
    const slower = check(results(both), baseline, { probes: makeProbeReport({ sgd: 10, ngd: 60 }, { referenceMs: 4 }) });
    assert.equal(timeOf(slower, run('ngd', 0).id).outcome, 'regression');
    assert.equal(timeOf(slower, run('sgd', 0).id).outcome, 'pass');
  });
});

describe('check: coverage', () => {
  it('runs without a baseline entry and baseline runs without a result are missing (exit 1 unless allowed)', () => {
    const [a, b, c] = [run('sgd', 0), run('sgd', 1), run('ngd', 0)];
    const baseline = baselineFrom([makeResult(a), makeResult(b)]);
    const report = check([makeResult(a), makeResult(c)], baseline);
    const noEntry = only(report, (f) => f.metric === 'baselineEntry');
    assert.deepEqual(noEntry.runIds, [c.id]);
    assert.equal(noEntry.outcome, 'missing');
    const noResult = only(report, (f) => f.metric === 'result');
    assert.deepEqual(noResult.runIds, [b.id]);
    assert.match(noResult.message, /no result for this run \(baseline ok at 90\.00%\)/);
    assert.equal(report.summary.missingBaselineEntries, 1);
    assert.equal(report.summary.missingResults, 1);
    assert.equal(exitCodeOf(report), 1);
    assert.equal(exitCodeOf(report, { allowMissing: true }), 0);
    assert.match(formatVerdict(report), /FAIL — 1 run without a baseline entry, 1 missing result/);
    assert.match(formatVerdict(report, { allowMissing: true }), /PASS .*\(allowed\)/);
  });

  it('planned runs without a result are missing; in a shard, baseline runs of other shards are not', () => {
    const [a, b, c] = [run('sgd', 0), run('sgd', 1), run('ngd', 0)];
    const baseline = baselineFrom([makeResult(a), makeResult(b), makeResult(c)]);
    const shard = check([makeResult(a)], baseline, { planned: { runIds: [a.id, c.id], partial: true } });
    assert.deepEqual(
      shard.findings.filter((f) => f.metric === 'result').map((f) => f.subject),
      [c.id],
    );
    assert.equal(shard.summary.outOfShard, 1);
    const whole = check([makeResult(a)], baseline, { planned: { runIds: [a.id], partial: false } });
    assert.deepEqual(
      whole.findings
        .filter((f) => f.metric === 'result')
        .map((f) => f.subject)
        .sort(),
      [b.id, c.id].sort(),
    );
  });

  it('no baseline file: reported, every run unchecked, exit 1 unless allowed', () => {
    const report = compare({
      suite: SUITE_NAME,
      results: observeAll(results([run('sgd', 0)])),
      baseline: null,
      tolerances: TOLERANCES,
      baselinePath: 'baselines/x.json',
    });
    assert.equal(report.summary.baselineFileMissing, true);
    assert.equal(exitCodeOf(report), 1);
    assert.equal(exitCodeOf(report, { allowMissing: true }), 0);
    assert.equal(
      formatVerdict(report, { baselinePath: 'baselines/x.json' }),
      'check check-test: FAIL — no baseline file baselines/x.json (1 run unchecked)',
    );
  });
});

describe('check: outputs', () => {
  it('JUnit XML is well-formed: a testcase per run and check, failures for regressions, skipped for skipped checks', () => {
    const [a, b, c] = [run('sgd', 0), run('ngd', 0), run('ngd', 1)];
    const baseline = baselineFrom([makeResult(a), makeResult(b), makeResult(c)]);
    const report = check(
      [
        makeResult(a, { testAccuracy: 0.8 }),
        makeResult(b, { epochSeconds: [2, 2, 2] }),
        makeResult(c, { environment: { cpuModel: 'A <"weird"> & CPU\u0001' } }),
      ],
      baseline,
    );
    const xml = toJUnitXml(report);
    assert.equal(XMLValidator.validate(xml), true);
    const parsed = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (name) => ['testsuite', 'testcase'].includes(name),
    }).parse(xml);
    const suites = parsed.testsuites.testsuite as Array<{
      name: string;
      tests: string;
      failures: string;
      skipped: string;
      testcase: Array<Record<string, unknown>>;
    }>;
    assert.deepEqual(
      suites.map((s) => s.name),
      ['ngd-bench.check-test.accuracy', 'ngd-bench.check-test.time'],
    );
    const cases = suites.flatMap((s) => s.testcase);
    assert.equal(cases.length, 6);
    assert.equal(cases.filter((tc) => 'failure' in tc).length, 2, 'one accuracy regression, one slowdown');
    assert.equal(cases.filter((tc) => 'skipped' in tc).length, 1, 'the time check on another machine');
    assert.equal(parsed.testsuites.failures, '2');
    assert.equal(suites[0].failures, '1');
    assert.equal(suites[1].skipped, '1');
    assert.match(xml, /A &lt;&quot;weird&quot;&gt; &amp; CPU,/);
    assert.equal(escapeXml('a\u0000b<'), 'ab&lt;');
  });

  it('benchmark JSON: test accuracy and samples/s (bigger is better), epoch seconds and probe steps (smaller is better)', () => {
    const rs = [
      makeResult(run('sgd', 0), { testAccuracy: 0.9, epochSeconds: [1, 1.2, 1.1] }),
      makeResult(run('ngd', 0), { status: 'diverged' }),
    ];
    const json = toBenchmarkJson(SUITE_NAME, observeAll(rs), makeProbeReport({ sgd: 12.5 }));
    assert.deepEqual(
      json.customBiggerIsBetter.map((e) => [e.name, e.unit, e.value]),
      [
        ['check-test/sgd-b64-w1-s0 test accuracy', '%', 90],
        ['check-test/sgd-b64-w1-s0 samples/s', 'samples/s', json.customBiggerIsBetter[1].value],
      ],
    );
    assert.deepEqual(
      json.customSmallerIsBetter.map((e) => [e.name, e.unit, e.value]),
      [
        ['check-test/sgd-b64-w1-s0 epoch time', 's/epoch', 1.1],
        ['check-test/sgd-b64 step time (probe)', 'ms', 12.5],
      ],
    );
    assert.match(json.customSmallerIsBetter[0].range!, /^± 0\.1$/);
    assert.match(json.customSmallerIsBetter[0].extra!, /median of 3 epochs/);
    assert.deepEqual(benchmarkJsonPaths('out/bench.json'), { bigger: 'out/bench.bigger.json', smaller: 'out/bench.smaller.json' });
  });
});

// ---------------------------------------------------------------------------------------------------
// The command, end to end on results directories.

interface Captured {
  io: CheckIo;
  out: () => string;
  err: () => string;
}

function capture(env: Record<string, string> = {}): Captured {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        err += t;
      },
      env,
      now: () => new Date('2025-02-03T04:05:06.000Z'),
    },
    out: () => out,
    err: () => err,
  };
}

function cli(options: CheckOptions, env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const c = capture(env);
  const code = runCheck(options, c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('ngd-bench check (command)', () => {
  const all = RUNS;

  it('--update creates a baseline that then passes against the same results; a second update reports what changed', () => {
    const base = freshDir('update');
    const dir = writeResultsDir(join(base, 'results'), results(all), { probes: makeProbeReport({ sgd: 10, ngd: 20 }) });
    const baselineFile = join(base, 'baselines', `${SUITE_NAME}.json`);
    const suiteFile = writeSuiteFile(base);

    const created = cli({ resultsDir: dir, baseline: baselineFile, suite: suiteFile, update: true });
    assert.equal(created.code, 0, created.err);
    assert.match(
      created.out,
      new RegExp(
        `^baseline ${baselineFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: created \\(6 added, 0 changed, 0 unchanged, 0 removed; 6 entries\\)`,
      ),
    );
    assert.match(
      created.out,
      /\+ sgd-b64-w1-s0-[0-9a-f]{10} \[cpu-blas on Fixture CPU 3000 @ 3\.00GHz, 1 worker\]: ok 90\.00%, 1\.000 s\/epoch/,
    );
    assert.match(created.out, /tolerances: accuracy ±1\.0 pts, time ×1\.25/);
    const baseline = readBaseline(baselineFile)!;
    assert.equal(baseline.suite, SUITE_NAME);
    assert.equal(baseline.entries.length, 6);
    assert.deepEqual(baseline.tolerances, TOLERANCES);
    assert.equal(baseline.createdAt, '2025-02-03T04:05:06.000Z');
    assert.equal(baseline.entries[0].probeStep?.samples, 10);

    const same = cli({ resultsDir: dir, baseline: baselineFile });
    assert.equal(same.code, 0, same.out + same.err);
    assert.equal(same.out, 'check check-test: PASS — 6 runs within tolerance (accuracy ±1.0 pts, time ×1.25)\n');

    // New results: one run lower, one gone from the suite (a smaller suite), one failed.
    const smaller = fixtureRuns({ seeds: [0, 1] });
    const dir2 = writeResultsDir(
      join(base, 'results2'),
      results(smaller, {}, { [run('sgd', 0).name]: { testAccuracy: 0.85 }, [run('ngd', 1).name]: { status: 'failed', environment: null } }),
      { probes: makeProbeReport({ sgd: 10, ngd: 20 }) },
    );
    const updated = cli({ resultsDir: dir2, baseline: baselineFile, update: true });
    assert.equal(updated.code, 0, updated.err);
    assert.match(updated.out, /updated \(0 added, 1 changed, 2 unchanged, 2 removed, 1 not recorded; 4 entries\)/);
    assert.match(updated.out, /~ sgd-b64-w1-s0-\w+ \[.*\]: test accuracy 90\.00% -> 85\.00% \(-5\.00 pts\)$/m);
    assert.match(updated.out, /- sgd-b64-w1-s2-\w+ \[.*\]: removed \(no longer planned by the suite\)/);
    assert.match(updated.out, /! ngd-b64-w1-s1-\w+ \[unknown on unknown, 1 worker\]: not recorded \(the run failed\)/);
    const after2 = readBaseline(baselineFile)!;
    assert.equal(after2.createdAt, baseline.createdAt);
    assert.equal(after2.entries.length, 4);
    assert.ok(!existsSync(`${baselineFile}.${process.pid}.tmp`));
  });

  it('a regression gives exit 1, the verdict line and a table with the numbers; --json prints the findings', () => {
    const base = freshDir('regress');
    const baselineFile = join(base, 'baseline.json');
    const suiteFile = writeSuiteFile(base);
    const one = [run('sgd', 0), run('ngd', 0)];
    assert.equal(
      cli({ resultsDir: writeResultsDir(join(base, 'before'), results(one)), baseline: baselineFile, suite: suiteFile, update: true }).code,
      0,
    );
    const dir = writeResultsDir(
      join(base, 'after'),
      results(one, {}, { [one[0].name]: { testAccuracy: 0.87 }, [one[1].name]: { epochSeconds: [2, 2, 2] } }),
    );

    const r = cli({ resultsDir: dir, baseline: baselineFile });
    assert.equal(r.code, 1);
    const [verdict, blank, header] = r.out.split('\n');
    assert.equal(verdict, 'check check-test: FAIL — 1 accuracy regression, 1 slowdown (accuracy ±1.0 pts, time ×1.25)');
    assert.equal(blank, '');
    assert.match(header, /^\| run +\| check +\| outcome +\| +baseline \| +result \| +delta \| +threshold \| note +\|$/);
    assert.match(r.out, /\| sgd-b64-w1-s0 +\| accuracy +\| regression +\| +90\.00% \| +87\.00% \| +-3\.00 pts \| +±1\.00 pts \|/);
    assert.match(
      r.out,
      /\| ngd-b64-w1-s0 +\| time +\| slowdown +\| +1\.000 s \(n=3\) \| +2\.000 s \(n=3\) \| +×2\.00, samples\/s ×0\.50 \| +×1\.25, n≥3 \|/,
    );

    const j = cli({ resultsDir: dir, baseline: baselineFile, json: true });
    assert.equal(j.code, 1);
    const json = JSON.parse(j.out);
    assert.equal(json.verdict, 'fail');
    assert.equal(json.summary.accuracyRegressions, 1);
    assert.equal(json.summary.slowdowns, 1);
    assert.equal(json.findings.length, 4);

    // Tolerances from --suite override the baseline's.
    const loose = writeSuiteFile(join(base, 'loose'), { tolerances: { accuracyDropPoints: 5, timeRatio: 3 } });
    const relaxed = cli({ resultsDir: dir, baseline: baselineFile, suite: loose });
    assert.equal(relaxed.code, 0, relaxed.out);
    assert.match(relaxed.out, /PASS — 2 runs within tolerance \(accuracy ±5\.0 pts, time ×3\.00\)/);
  });

  it('a missing baseline file and missing runs give exit 1, or 0 with --allow-missing; the default baseline is baselines/<suite>.json', () => {
    const base = freshDir('missing');
    const dir = writeResultsDir(join(base, 'results'), results([run('sgd', 0)]));
    const r = cli({ resultsDir: dir, baseline: join(base, 'nope.json') });
    assert.equal(r.code, 1);
    assert.match(r.out, /^check check-test: FAIL — no baseline file .*nope\.json \(1 run unchecked\)\n/);
    assert.match(r.out, /\| missing +\|/);
    const allowed = cli({ resultsDir: dir, baseline: join(base, 'nope.json'), allowMissing: true });
    assert.equal(allowed.code, 0);

    // The default path is relative to the working directory (the repository root here).
    const d = cli({ resultsDir: dir, json: true });
    assert.equal(JSON.parse(d.out).baselineFile, join('baselines', `${SUITE_NAME}.json`));

    // Planned but without a result (the manifest lists two runs, one result).
    const baselineFile = join(base, 'b.json');
    const suiteFile = writeSuiteFile(base);
    assert.equal(cli({ resultsDir: dir, baseline: baselineFile, suite: suiteFile, update: true }).code, 0);
    const partial = writeResultsDir(join(base, 'partial'), results([run('sgd', 0)]), { planned: [run('sgd', 0).id, run('sgd', 1).id] });
    const m = cli({ resultsDir: partial, baseline: baselineFile });
    assert.equal(m.code, 1);
    assert.match(m.out, /FAIL — 1 missing result/);
    assert.match(m.out, /planned in the manifest, not in the baseline/);
    assert.equal(cli({ resultsDir: partial, baseline: baselineFile, allowMissing: true }).code, 0);
  });

  it('invalid input gives exit 2 with one line naming the file', () => {
    const base = freshDir('invalid');
    const dir = writeResultsDir(join(base, 'results'), results([run('sgd', 0)]));
    const baselineFile = join(base, 'b.json');
    const suiteFile = writeSuiteFile(base);
    assert.equal(cli({ resultsDir: dir, baseline: baselineFile, suite: suiteFile, update: true }).code, 0);

    const oneLine = (r: { code: number; err: string; out: string }, pattern: RegExp) => {
      assert.equal(r.code, 2, r.out + r.err);
      assert.equal(r.out, '');
      assert.equal(r.err.split('\n').filter(Boolean).length, 1, r.err);
      assert.match(r.err, pattern);
    };
    oneLine(cli({ resultsDir: join(base, 'no-such-dir'), baseline: baselineFile }), /^ngd-bench: error: .*no-such-dir: no such directory/);

    const badResult = writeResultsDir(join(base, 'bad-result'), results([run('sgd', 0)]));
    const victim = join(badResult, `${run('sgd', 0).id}.json`);
    const value = JSON.parse(readFileSync(victim, 'utf8'));
    value.status = 'exploded';
    writeFileSync(victim, JSON.stringify(value));
    oneLine(
      cli({ resultsDir: badResult, baseline: baselineFile }),
      new RegExp(`error: ${victim.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid result file: /status`),
    );

    const malformed = writeResultsDir(join(base, 'malformed'), []);
    writeFileSync(join(malformed, 'x.json'), '{ nope');
    oneLine(cli({ resultsDir: malformed, baseline: baselineFile }), /x\.json: malformed JSON in result file/);

    const noIdentity = writeResultsDir(join(base, 'no-identity'), []);
    const plain = makeResult(run('sgd', 0));
    delete plain.run;
    writeFileSync(join(noIdentity, 'plain.json'), JSON.stringify(plain));
    oneLine(cli({ resultsDir: noIdentity, baseline: baselineFile }), /plain\.json: result has no run identity/);

    const brokenBaseline = join(base, 'broken.json');
    writeFileSync(brokenBaseline, JSON.stringify({ ...readBaseline(baselineFile), tolerances: { timeRatio: 0.5 } }));
    oneLine(cli({ resultsDir: dir, baseline: brokenBaseline }), /broken\.json: invalid baseline file: \/tolerances/);

    const otherSuite = join(base, 'other.json');
    writeFileSync(otherSuite, JSON.stringify({ ...readBaseline(baselineFile), suite: 'other' }));
    oneLine(
      cli({ resultsDir: dir, baseline: otherSuite }),
      /other\.json: baseline of suite 'other', but the results are of suite 'check-test'/,
    );

    oneLine(cli({ resultsDir: dir, baseline: baselineFile, suite: join(base, 'nope.yaml') }), /nope\.yaml: no such file/);
    const renamed = writeSuiteFile(join(base, 'renamed'), { name: 'renamed-suite' });
    oneLine(
      cli({ resultsDir: dir, baseline: baselineFile, suite: renamed }),
      /check-test\.json: suite 'renamed-suite', but the results are of suite 'check-test'/,
    );
    const empty = freshDir('empty');
    mkdirSync(empty);
    oneLine(cli({ resultsDir: empty, baseline: baselineFile }), /no manifest\.json and no result files/);
    oneLine(cli({ resultsDir: dir, baseline: join(base, 'new.json'), update: true }), /new\.json does not exist yet: give --suite FILE/);
    oneLine(
      cli({ resultsDir: dir, baseline: baselineFile, update: true, junit: join(base, 'j.xml') }),
      /--junit cannot be combined with --update/,
    );
  });

  it('--junit, --benchmark-json and $GITHUB_STEP_SUMMARY', () => {
    const base = freshDir('outputs');
    const baselineFile = join(base, 'b.json');
    const suiteFile = writeSuiteFile(base);
    const two = [run('sgd', 0), run('ngd', 0)];
    assert.equal(
      cli({ resultsDir: writeResultsDir(join(base, 'before'), results(two)), baseline: baselineFile, suite: suiteFile, update: true }).code,
      0,
    );
    const dir = writeResultsDir(join(base, 'after'), results(two, {}, { [two[0].name]: { testAccuracy: 0.8 } }));
    const summary = join(base, 'summary.md');
    writeFileSync(summary, '# earlier step\n');
    const junit = join(base, 'reports', 'check.xml');
    const bench = join(base, 'reports', 'bench.json');

    const r = cli({ resultsDir: dir, baseline: baselineFile, junit, benchmarkJson: bench }, { GITHUB_STEP_SUMMARY: summary });
    assert.equal(r.code, 1);
    const xml = readFileSync(junit, 'utf8');
    assert.equal(XMLValidator.validate(xml), true);
    assert.equal((xml.match(/<testcase /g) ?? []).length, 4);
    assert.equal((xml.match(/<failure /g) ?? []).length, 1);

    const bigger = JSON.parse(readFileSync(join(base, 'reports', 'bench.bigger.json'), 'utf8'));
    const smaller = JSON.parse(readFileSync(join(base, 'reports', 'bench.smaller.json'), 'utf8'));
    assert.deepEqual(
      bigger
        .filter((e: { unit: string }) => e.unit === '%')
        .map((e: { value: number }) => e.value)
        .sort(),
      [80, 90],
    );
    assert.equal(smaller.length, 2);
    assert.ok(smaller.every((e: { unit: string; value: number }) => e.unit === 's/epoch' && e.value === 1));
    assert.ok(!existsSync(bench), 'FILE itself is not written: the action needs one tool per file');

    const md = readFileSync(summary, 'utf8');
    assert.ok(md.startsWith('# earlier step\n### ngd-bench check check-test: FAIL — 1 accuracy regression'), md);
    assert.match(md, /\| sgd-b64-w1-s0 +\| accuracy +\| regression +\|/);

    // Appended again on the next check.
    cli({ resultsDir: dir, baseline: baselineFile }, { GITHUB_STEP_SUMMARY: summary });
    assert.equal(readFileSync(summary, 'utf8').split('### ngd-bench').length, 3);
    // Not written without the variable.
    const untouched = readFileSync(summary, 'utf8');
    cli({ resultsDir: dir, baseline: baselineFile });
    assert.equal(readFileSync(summary, 'utf8'), untouched);
  });

  it('checkCommand() parses the flags and sets process.exitCode', async () => {
    const base = freshDir('commander');
    const baselineFile = join(base, 'b.json');
    const suiteFile = writeSuiteFile(base);
    const dir = writeResultsDir(join(base, 'results'), results([run('sgd', 0)]));
    const saved = process.exitCode;
    try {
      const c1 = capture();
      await checkCommand(c1.io)
        .exitOverride()
        .parseAsync([dir, '--baseline', baselineFile, '--suite', suiteFile, '--update'], { from: 'user' });
      assert.equal(process.exitCode, 0);
      assert.match(c1.out(), /created \(1 added/);

      const c2 = capture();
      await checkCommand(c2.io).exitOverride().parseAsync([dir, '--baseline', baselineFile, '--json'], { from: 'user' });
      assert.equal(process.exitCode, 0);
      assert.equal(JSON.parse(c2.out()).verdict, 'pass');

      const c3 = capture();
      await checkCommand(c3.io)
        .exitOverride()
        .parseAsync([join(base, 'nothing'), '--baseline', baselineFile], { from: 'user' });
      assert.equal(process.exitCode, 2);
      assert.match(c3.err(), /no such directory/);

      await assert.rejects(
        checkCommand(capture().io)
          .exitOverride()
          .configureOutput({ writeErr: () => {} })
          .parseAsync([dir, '--no-such-flag'], { from: 'user' }),
        /unknown option/,
      );
    } finally {
      process.exitCode = saved;
    }
  });
});

describe('src/check imports', () => {
  it('src/check and the check command do not load tfjs, training, optimizers, models, kernels, backends or data (transitively)', () => {
    const srcDir = join(root, 'src');
    const checkDir = join(srcDir, 'check');
    const entries = readdirSync(checkDir)
      .filter((n) => n.endsWith('.ts'))
      .map((n) => join(checkDir, n));
    const { offenders, seen } = tfjsOrTrainingReachable([...entries, join(srcDir, 'cli', 'checkCommand.ts')]);
    assert.deepEqual(offenders, []);
    assert.ok(seen.size > entries.length, 'the walk followed imports');
    assert.ok([...seen].some((f) => f.endsWith(join('results', 'runResult.ts'))));
  });
});
