/**
 * Tuning inside a suite: the tuning and final matrices, the selection as a pure function of the tuning
 * results (ties, divergence, missing runs, grid edges, steps-to-target with and without the target met,
 * the every-batch-size stability rule), what `validate` refuses, and a real tuned suite run end to end,
 * interrupted inside each phase and resumed with nothing lost or duplicated.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { trainChildCommand, type ChildCommandBuilder } from '../../src/harness/childCommand.js';
import type { SuiteDisplay, SuiteEvent } from '../../src/harness/runSuite.js';
import { readTuningResults, runTunedSuite, tuningDir, tuningFile } from '../../src/harness/tunedSuite.js';
import type { RunResult } from '../../src/results/runResult.js';
import { TuningSelectionSchema, type TuningSelection } from '../../src/results/tuningSelection.js';
import { assertValid } from '../../src/config/validate.js';
import { suiteFromValue } from '../../src/suite/loadSuite.js';
import type { PlannedRun } from '../../src/suite/plannedRun.js';
import { selectTuned, type TuningRunResult } from '../../src/suite/selectTuned.js';
import type { Suite } from '../../src/suite/suiteSchema.js';
import { planFinalRuns, planTuningRuns } from '../../src/suite/tuning.js';
import { runCli } from '../helpers/runCli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ngd-bench-tuning-'));

/** A tuned suite on the synthetic set; `over` replaces top-level keys. */
function tinySuite(over: Record<string, unknown> = {}): Suite {
  return suiteFromValue(
    {
      name: 'tiny-tuned',
      model: { name: 'mlp', hiddenWidths: [8] },
      dataset: { name: 'synthetic', validationSize: 256 },
      epochs: 1,
      backend: 'cpu',
      schedule: { kind: 'constant' },
      optimizers: [{ name: 'sgd' }, { name: 'ngd' }],
      batchSizes: [64, 256],
      seeds: [0, 1],
      tune: {
        grid: [
          { path: 'optimizer.lr', values: [0.01, 0.1, 1], optimizers: ['sgd'] },
          { path: 'optimizer.lr', values: [0.001, 0.01], optimizers: ['ngd'] },
        ],
        seeds: [100, 101],
        select: { metric: 'validationAccuracy' },
      },
      ...over,
    },
    'tiny-tuned.json',
  );
}

type Outcome =
  | { status: 'ok'; value: number; reached?: boolean; steps?: number }
  | { status: 'diverged' | 'failed' }
  | { status: 'missing' };

/** Fixture tuning results: `outcome(run)` says what each planned tuning run did. */
function fixtureResults(runs: readonly PlannedRun[], outcome: (run: PlannedRun) => Outcome): Map<string, TuningRunResult> {
  const results = new Map<string, TuningRunResult>();
  for (const run of runs) {
    const o = outcome(run);
    if (o.status === 'missing') continue;
    const ok = o.status === 'ok';
    results.set(run.id, {
      status: o.status,
      run: { configHash: run.configHash },
      final: ok
        ? {
            trainLoss: 0.3,
            trainAccuracy: 0.9,
            testLoss: 0.4,
            testAccuracy: 0.85,
            validationLoss: 1 - o.value,
            validationAccuracy: o.value,
            generalizationGap: 0.05,
          }
        : null,
      ...(ok && o.reached !== undefined
        ? {
            target: {
              metric: 'validationAccuracy',
              value: 0.8,
              reached: o.reached,
              stepsToTarget: o.reached ? (o.steps ?? null) : null,
              samplesToTarget: null,
              epochsToTarget: null,
              trainSecondsToTarget: null,
              best: o.value,
              bestAtStep: 1,
            },
          }
        : {}),
    });
  }
  return results;
}

const key = (r: PlannedRun) => `${r.optimizerLabel} b${r.config.batchSize} lr=${r.sweep['optimizer.lr']} s${r.config.seed}`;
const cell = (s: TuningSelection, label: string, batch: number | null) => {
  const found = s.cells.find((c) => c.optimizerLabel === label && c.batchSize === batch);
  assert.ok(found, `no cell ${label} ${batch}`);
  return found;
};

describe('tuning plans', () => {
  it('tuning runs: every grid value of each optimizer on the tuning seeds at every batch size; final runs: the suite seeds with the chosen values', () => {
    const suite = tinySuite();
    const tuning = planTuningRuns(suite);
    assert.equal(tuning.length, (3 + 2) * 2 * 2);
    assert.deepEqual([...new Set(tuning.map((r) => r.config.seed))], [100, 101]);
    assert.ok(tuning.every((r) => r.config.optimizer.lr === r.sweep['optimizer.lr']));
    const selection = selectTuned(
      suite,
      tuning,
      fixtureResults(tuning, (r) => ({ status: 'ok', value: r.config.optimizer.lr })),
    );
    const final = planFinalRuns(suite, selection);
    assert.equal(final.length, 2 * 2 * 2);
    for (const run of final) {
      assert.deepEqual(Object.keys(run.sweep), [], 'selected values are not sweep axes');
      assert.equal(run.config.optimizer.lr, run.tuned?.['optimizer.lr']);
      assert.equal(run.config.optimizer.lr, run.optimizerLabel === 'sgd' ? 1 : 0.01, 'the highest validation accuracy (= lr here)');
    }
  });

  it('perBatchSize false selects once, at atBatchSize; the every-batch-size stability rule tunes at every batch size', () => {
    const once = tinySuite({ tune: { ...tinySuite().tune, perBatchSize: false, atBatchSize: 256 } });
    assert.deepEqual([...new Set(planTuningRuns(once).map((r) => r.config.batchSize))], [256]);
    const stable = tinySuite({
      tune: {
        ...tinySuite().tune,
        perBatchSize: false,
        atBatchSize: 256,
        select: { metric: 'validationAccuracy', stability: 'every-batch-size' },
      },
    });
    assert.deepEqual([...new Set(planTuningRuns(stable).map((r) => r.config.batchSize))], [64, 256]);
  });
});

describe('the selection (pure)', () => {
  const suite = tinySuite();
  const tuning = planTuningRuns(suite);
  const outcomes: Record<string, Outcome> = {
    // sgd b64: lr 1 diverges in one seed (excluded), 0.1 beats 0.01.
    'sgd b64 lr=0.01 s100': { status: 'ok', value: 0.8 },
    'sgd b64 lr=0.01 s101': { status: 'ok', value: 0.8 },
    'sgd b64 lr=0.1 s100': { status: 'ok', value: 0.85 },
    'sgd b64 lr=0.1 s101': { status: 'ok', value: 0.86 },
    'sgd b64 lr=1 s100': { status: 'ok', value: 0.99 },
    'sgd b64 lr=1 s101': { status: 'diverged' },
    // sgd b256: 0.01 and 0.1 tie exactly: the first in grid order wins, at the low edge.
    'sgd b256 lr=0.01 s100': { status: 'ok', value: 0.84 },
    'sgd b256 lr=0.01 s101': { status: 'ok', value: 0.84 },
    'sgd b256 lr=0.1 s100': { status: 'ok', value: 0.84 },
    'sgd b256 lr=0.1 s101': { status: 'ok', value: 0.84 },
    'sgd b256 lr=1 s100': { status: 'diverged' },
    'sgd b256 lr=1 s101': { status: 'diverged' },
    // ngd b64: the highest value wins (edge); ngd b256: nothing is left.
    'ngd b64 lr=0.001 s100': { status: 'ok', value: 0.7 },
    'ngd b64 lr=0.001 s101': { status: 'ok', value: 0.7 },
    'ngd b64 lr=0.01 s100': { status: 'ok', value: 0.9 },
    'ngd b64 lr=0.01 s101': { status: 'ok', value: 0.9 },
    'ngd b256 lr=0.001 s100': { status: 'failed' },
    'ngd b256 lr=0.001 s101': { status: 'ok', value: 0.9 },
    'ngd b256 lr=0.01 s100': { status: 'diverged' },
    'ngd b256 lr=0.01 s101': { status: 'ok', value: 0.9 },
  };
  const results = fixtureResults(tuning, (r) => outcomes[key(r)] ?? assert.fail(`no outcome for ${key(r)}`));
  const selection = selectTuned(suite, tuning, results);

  it('validates against its schema, says it selected on validation, and is a function of its inputs', () => {
    assertValid(TuningSelectionSchema, selection, 'selection');
    assert.equal(selection.split, 'validation');
    assert.equal(selection.complete, true);
    assert.deepEqual(selectTuned(suite, tuning, new Map([...results].reverse())), selection, 'order of results does not matter');
  });

  it('excludes a value that diverged in any seed, and picks the best mean of the rest', () => {
    const c = cell(selection, 'sgd', 64);
    assert.deepEqual(c.chosen?.values, { 'optimizer.lr': 0.1 });
    assert.equal(c.chosen?.score, 0.855);
    assert.match(c.candidates.find((x) => x.values['optimizer.lr'] === 1)?.excluded ?? '', /seed 101 diverged/);
    assert.deepEqual(c.edges, []);
  });

  it('breaks an exact tie by grid order, lists the tie, and flags a value at the edge of the grid', () => {
    const c = cell(selection, 'sgd', 256);
    assert.deepEqual(c.chosen?.values, { 'optimizer.lr': 0.01 });
    assert.deepEqual(c.ties, [{ 'optimizer.lr': 0.1 }]);
    assert.deepEqual(c.edges, ['optimizer.lr=0.01 is the lowest value tried']);
    assert.deepEqual(cell(selection, 'ngd', 64).edges, ['optimizer.lr=0.01 is the highest value tried']);
  });

  it('chooses nothing, and says why, when every value diverged or failed; final runs leave that cell out', () => {
    const c = cell(selection, 'ngd', 256);
    assert.equal(c.chosen, null);
    assert.match(c.reason, /no candidate left: optimizer.lr=0.001: seed 100 failed; optimizer.lr=0.01: seed 100 diverged/);
    const final = planFinalRuns(suite, selection);
    assert.ok(!final.some((r) => r.optimizerLabel === 'ngd' && r.config.batchSize === 256));
    assert.equal(final.length, 3 * 2);
  });

  it('is incomplete while a tuning run is missing (or from another config), and excludes what is missing', () => {
    const partial = new Map(results);
    const dropped = tuning.find((r) => key(r) === 'sgd b64 lr=0.1 s101')!;
    partial.delete(dropped.id);
    const s = selectTuned(suite, tuning, partial);
    assert.equal(s.complete, false);
    assert.match(cell(s, 'sgd', 64).candidates[1].excluded ?? '', /seed 101 missing/);
    const stale = new Map(results);
    stale.set(dropped.id, { ...results.get(dropped.id)!, run: { configHash: '0'.repeat(64) } });
    assert.equal(selectTuned(suite, tuning, stale).complete, false);
  });

  it('the every-batch-size rule drops a value that diverged at any batch size of the optimizer', () => {
    const strict = tinySuite({ tune: { ...suite.tune, select: { metric: 'validationAccuracy', stability: 'every-batch-size' } } });
    const runs = planTuningRuns(strict);
    const r = fixtureResults(runs, (run) => {
      if (run.optimizerLabel === 'sgd' && run.config.batchSize === 256 && run.config.optimizer.lr === 0.1) return { status: 'diverged' };
      return { status: 'ok', value: run.config.optimizer.lr };
    });
    const s = selectTuned(strict, runs, r);
    // lr 1 would win at b64, but only 0.1 diverged (at b256): 1 stays; 0.1 is dropped at b64 too.
    assert.deepEqual(cell(s, 'sgd', 64).chosen?.values, { 'optimizer.lr': 1 });
    assert.match(cell(s, 'sgd', 64).candidates[1].excluded ?? '', /diverged at another batch size/);
  });

  it('steps-to-target: fewest mean steps among values whose every seed met the target, else the best value seen', () => {
    const target = tinySuite({
      epochs: undefined,
      budget: { target: { metric: 'validationAccuracy', value: 0.8 }, max: { steps: 50 } },
      tune: { ...suite.tune, select: { metric: 'stepsToTarget' } },
    });
    const runs = planTuningRuns(target);
    const r = fixtureResults(runs, (run) => {
      const lr = run.config.optimizer.lr;
      if (run.optimizerLabel === 'sgd') {
        // 1: met fastest in one seed but not the other; 0.1: met in both, 30 steps on average.
        if (lr === 1)
          return run.config.seed === 100
            ? { status: 'ok', value: 0.81, reached: true, steps: 5 }
            : { status: 'ok', value: 0.79, reached: false };
        if (lr === 0.1) return { status: 'ok', value: 0.82, reached: true, steps: run.config.seed === 100 ? 20 : 40 };
        return { status: 'ok', value: 0.8, reached: true, steps: 45 };
      }
      // ngd: never met; the best validation accuracy seen decides.
      return { status: 'ok', value: lr === 0.001 ? 0.7 : 0.75, reached: false };
    });
    const s = selectTuned(target, runs, r);
    const sgd = cell(s, 'sgd', 64);
    assert.deepEqual(sgd.chosen?.values, { 'optimizer.lr': 0.1 });
    assert.equal(sgd.chosen?.score, 30);
    assert.match(sgd.reason, /fewest mean steps to the target \(30\)/);
    const ngd = cell(s, 'ngd', 64);
    assert.deepEqual(ngd.chosen?.values, { 'optimizer.lr': 0.01 });
    assert.match(ngd.reason, /no value met the target in every seed; best mean validationAccuracy seen \(0.75\)/);
  });
});

describe('validate refuses, exit 2, one line each naming the JSON path', () => {
  // biome-ignore lint/suspicious/noExplicitAny: mutating a suite document freely is the point of these fixtures
  type Doc = Record<string, any>;
  const base = JSON.parse(JSON.stringify(tinySuite())) as Doc;
  const cases: [string, (s: Doc) => void, RegExp][] = [
    [
      'a validation split larger than the training file',
      (s) => (s.dataset.validationSize = 2048),
      /^\S+: \/dataset\/validationSize: 2048 is not smaller than the 2048 examples/,
    ],
    [
      'a target metric on a split that does not exist',
      (s) => {
        delete s.dataset.validationSize;
        delete s.epochs;
        s.tune.select.metric = 'stepsToTarget';
        s.budget = { target: { metric: 'validationLoss', value: 0.5 }, max: { steps: 10 } };
      },
      /^\S+: \/budget\/target\/metric: 'validationLoss' is measured on the validation split/,
    ],
    [
      'a budget with neither epochs, steps nor a target',
      (s) => Object.assign(s, { epochs: undefined, budget: {} }),
      /^\S+: \/budget: must have "epochs", or "steps", or "target" and "max"$/,
    ],
    [
      'a max smaller than one step',
      (s) => Object.assign(s, { epochs: undefined, budget: { target: { metric: 'trainLoss', value: 0.1 }, max: { steps: 0 } } }),
      /^\S+: \/budget\/max\/steps: must be >= 1$/,
    ],
    [
      'a tune path that is not sweepable',
      (s) => (s.tune.grid[0].path = 'batchSize'),
      /^\S+: \/tune\/grid\/0\/path: 'batchSize' cannot be swept/,
    ],
    [
      'a tune grid with one value',
      (s) => (s.tune.grid[1].values = [0.01]),
      /^\S+: \/tune\/grid\/1\/values: tuning needs at least two values/,
    ],
    [
      'selection on the test split',
      (s) => (s.tune.select.metric = 'testAccuracy'),
      /^\S+: \/tune\/select\/metric: must be one of "validationAccuracy", "validationLoss", "stepsToTarget"/,
    ],
    [
      'selection on validation without a validation split',
      (s) => delete s.dataset.validationSize,
      /^\S+: \/tune\/select\/metric: 'validationAccuracy' is measured on the validation split/,
    ],
  ];
  for (const [what, mutate, expected] of cases) {
    it(what, () => {
      const suite = structuredClone(base);
      mutate(suite);
      const file = join(tmp, `${what.replace(/\W+/g, '-')}.json`);
      writeFileSync(file, JSON.stringify(suite));
      const r = runCli(['validate', file]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], expected);
    });
  }
});

describe('a tuned suite, for real (tiny synthetic runs)', () => {
  /** Counts launches by run name; stops the suite after `stopAfter` finished runs of the given phase. */
  function launcher() {
    const launched: string[] = [];
    const real = trainChildCommand({ cliPath: join(root, 'src/cli.ts'), execArgv: ['--import', 'tsx'] });
    const childCommand: ChildCommandBuilder = (run, files) => {
      launched.push(`${run.sweep['optimizer.lr'] !== undefined ? 'tune' : 'final'} ${run.name}`);
      return real(run, files);
    };
    return { launched, childCommand };
  }
  const suite = tinySuite({
    optimizers: [{ name: 'sgd' }],
    batchSizes: [64],
    seeds: [0, 1],
    tune: { grid: [{ path: 'optimizer.lr', values: [0.01, 0.1] }], seeds: [100], select: { metric: 'validationAccuracy' } },
  });
  const run = (outDir: string, childCommand: ChildCommandBuilder, stopAfter?: { phase: string; runs: number }, resume = true) => {
    const controller = new AbortController();
    let finished = 0;
    const display: SuiteDisplay = {
      handle: (e: SuiteEvent) => {
        if (e.type !== 'run-finished' || !stopAfter) return;
        const phase = e.run.sweep['optimizer.lr'] !== undefined ? 'tuning' : 'final';
        if (phase === stopAfter.phase && ++finished === stopAfter.runs) controller.abort();
      },
    };
    return runTunedSuite({ suite, outDir, resume, signal: controller.signal, display, childCommand, killGraceMs: 500, retryDelayMs: 0 });
  };

  it('interrupted inside tuning, then inside the final phase, and resumed: every run exactly once, the same selection as from the results alone', async () => {
    const out = join(tmp, 'tuned');
    const a = launcher();
    const first = await run(out, a.childCommand, { phase: 'tuning', runs: 1 });
    assert.equal(first.tuning.interrupted, true);
    assert.equal(first.selection, null);
    assert.equal(existsSync(tuningFile(out)), false, 'no selection from a partial tuning phase');
    const second = await run(out, a.childCommand, { phase: 'final', runs: 1 });
    assert.equal(second.tuning.counts.skipped, 1);
    assert.equal(second.final?.interrupted, true);
    const third = await run(out, a.childCommand);
    assert.equal(third.final?.interrupted, false);
    assert.equal(third.final?.counts.skipped, 1);
    assert.equal(third.final?.counts.ok, 2);
    // Launches: tuning lr 0.01, lr 0.1 (the interrupted one may run again), then the finals.
    const counts = new Map<string, number>();
    for (const l of a.launched) counts.set(l, (counts.get(l) ?? 0) + 1);
    const done = a.launched.filter((l, i) => a.launched.indexOf(l) === i);
    assert.equal(done.filter((l) => l.startsWith('tune')).length, 2);
    assert.equal(done.filter((l) => l.startsWith('final')).length, 2);
    for (const [name, n] of counts) assert.ok(n <= 2, `${name} launched ${n} times`);
    assert.equal(readdirSync(tuningDir(out)).filter((f) => f.endsWith('.json') && f !== 'manifest.json').length, 2);
    assert.equal(readdirSync(out).filter((f) => /^sgd-.*\.json$/.test(f)).length, 2);
    // The selection on disk is what the tuning results alone give.
    const onDisk = JSON.parse(readFileSync(tuningFile(out), 'utf8')) as TuningSelection;
    const tuning = planTuningRuns(suite);
    assert.deepEqual(onDisk, selectTuned(suite, tuning, readTuningResults(out, tuning)));
    const chosen = onDisk.cells[0].chosen?.values['optimizer.lr'];
    for (const f of readdirSync(out).filter((n) => /^sgd-.*\.json$/.test(n))) {
      const result = JSON.parse(readFileSync(join(out, f), 'utf8')) as RunResult;
      assert.equal(result.config.optimizer.lr, chosen);
      assert.deepEqual(result.run?.tuned, { 'optimizer.lr': chosen });
      assert.equal(typeof result.final?.validationAccuracy, 'number');
    }
    // Once the tuning is complete, a filter may name final runs only (seed 0: no tuning run has it).
    const file = join(tmp, 'tiny-tuned.json');
    writeFileSync(file, JSON.stringify(suite));
    const finalOnly = runCli(['run', file, '--out', out, '--resume', '--dry-run', '--filter', 'seed=0']);
    assert.equal(finalOnly.code, 0, finalOnly.stderr);
    assert.match(finalOnly.stdout, /^sgd-b64-w1-s0-[0-9a-f]{10} /m);
    assert.doesNotMatch(finalOnly.stdout, /^sgd-b64-w1-s1-/m);
    const none = runCli(['run', file, '--out', out, '--resume', '--dry-run', '--filter', 'seed=7']);
    assert.equal(none.code, 2, none.stdout + none.stderr);
    assert.match(none.stderr, /^ngd-bench: error: --filter: 'seed=7' matches none/);
  });
});
