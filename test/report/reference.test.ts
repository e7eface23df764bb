/**
 * Published references (`ngd-bench report --reference`): DeepOBS's baseline files turned into a
 * reference (the most-seeded setting, seeds in order, refusals for what is ambiguous), the reference file's
 * validation, and our runs set against it per epoch with verdicts checked against hand-computed numbers;
 * through the command, the section and chart are written and a bad reference is one line, nothing written.
 */
import type { Command } from 'commander';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { reportCommand } from '../../src/cli/reportCommand.js';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { deepobsReference, type DeepobsRunFile } from '../../src/report/deepobsReference.js';
import { groupRuns } from '../../src/report/groupRuns.js';
import { compareWithReference, referenceChart, shownEpochs } from '../../src/report/referenceComparison.js';
import { parsePublishedReference } from '../../src/report/referenceFile.js';
import type { PublishedReference } from '../../src/report/referenceSchema.js';
import type { LoadedRun } from '../../src/report/resultSet.js';
import type { RunStatus } from '../../src/results/runResult.js';
import { writeJsonAtomic } from '../../src/results/writeJsonAtomic.js';
import { configHash } from '../../src/suite/runId.js';
import { InputFileError } from '../../src/util/errors.js';
import { makeRunResult } from '../fixtures/harness/makeResult.js';

const tmp = mkdtempSync(join(tmpdir(), 'ngd-bench-reference-'));

/** A DeepOBS run file as fsschneider/DeepOBS_Baselines lays them out. */
function deepobsFile(optimizer: string, lr: number, seed: number, accuracies: number[], problem = 'fmnist_2c2d'): DeepobsRunFile {
  return {
    path: `${problem}/${optimizer}/num_epochs__${accuracies.length - 1}__batch_size__128__lr__${lr}/random_seed__${seed}__2019.json`,
    json: {
      test_accuracies: accuracies,
      random_seed: seed,
      batch_size: 128,
      learning_rate: lr,
      hyperparams: optimizer === 'MomentumOptimizer' ? { momentum: 0.99, use_nesterov: false } : {},
    },
  };
}

const OPTIONS = {
  problem: 'fmnist_2c2d',
  labels: [['GradientDescentOptimizer', 'sgd']] as const,
  url: 'https://example.org/baselines',
  commit: 'abcdef1234567',
  extractedWith: 'test',
};

describe("DeepOBS's baselines as a reference", () => {
  it('takes the setting with the most seeds (the one DeepOBS re-ran), seeds in order, other problems ignored', () => {
    const files = [
      deepobsFile('GradientDescentOptimizer', 0.01, 42, [0.1, 0.5, 0.6]),
      deepobsFile('GradientDescentOptimizer', 0.1, 44, [0.1, 0.82, 0.88]),
      deepobsFile('GradientDescentOptimizer', 0.1, 42, [0.1, 0.8, 0.9]),
      deepobsFile('GradientDescentOptimizer', 0.1, 43, [0.1, 0.81, 0.89]),
      deepobsFile('GradientDescentOptimizer', 0.1, 45, [0.1, 0.5, 0.5], 'mnist_2c2d'),
    ];
    const reference = deepobsReference(files, OPTIONS);
    assert.equal(reference.curves.length, 1);
    const [curve] = reference.curves;
    assert.deepEqual([curve.label, curve.batchSize, curve.setting], ['sgd', 128, 'GradientDescentOptimizer, lr 0.1']);
    assert.deepEqual(
      curve.seeds.map((s) => [s.seed, s.testAccuracy[2]]),
      [
        [42, 0.9],
        [43, 0.89],
        [44, 0.88],
      ],
    );
    assert.equal(parsePublishedReference(reference, 'r.json'), reference);
  });

  it('names the hyper-parameters and refuses a tie or a setting whose runs disagree', () => {
    const momentum = deepobsReference([deepobsFile('MomentumOptimizer', 0.0025, 42, [0.1, 0.8])], {
      ...OPTIONS,
      labels: [['MomentumOptimizer', 'momentum']],
    });
    assert.equal(momentum.curves[0].setting, 'MomentumOptimizer, lr 0.0025, momentum 0.99, use_nesterov false');
    const tie = [
      deepobsFile('GradientDescentOptimizer', 0.1, 42, [0.1, 0.8]),
      deepobsFile('GradientDescentOptimizer', 0.3, 42, [0.1, 0.8]),
    ];
    assert.throws(() => deepobsReference(tie, OPTIONS), /have as many seeds \(1\); which one DeepOBS chose is not clear/);
    const epochs = [
      deepobsFile('GradientDescentOptimizer', 0.1, 42, [0.1, 0.8]),
      deepobsFile('GradientDescentOptimizer', 0.1, 43, [0.1, 0.8, 0.9]),
    ];
    // Different epoch counts put the two runs under different setting names; same name, different length:
    epochs[1].path = epochs[0].path.replace('seed__42', 'seed__43');
    assert.throws(() => deepobsReference(epochs, OPTIONS), /differ from .* in the same setting/);
    assert.throws(
      () => deepobsReference([{ path: 'fmnist_2c2d/GradientDescentOptimizer/s/r.json', json: { test_accuracies: [2, 3] } }], OPTIONS),
      /not a DeepOBS run file \(test_accuracies must be fractions/,
    );
  });
});

describe('the reference file', () => {
  const valid = (): PublishedReference => deepobsReference([deepobsFile('GradientDescentOptimizer', 0.1, 42, [0.1, 0.8])], OPTIONS);

  it('is validated against its schema, every problem at its JSON path', () => {
    const bad = valid() as unknown as { curves: { batchSize: unknown; seeds: { testAccuracy: unknown[] }[] }[] };
    bad.curves[0].batchSize = 0;
    bad.curves[0].seeds[0].testAccuracy[1] = 1.5;
    assert.throws(
      () => parsePublishedReference(bad, 'r.json'),
      (e: unknown) =>
        e instanceof InputFileError &&
        /^r\.json: invalid reference file: /.test(e.message) &&
        e.message.includes('/curves/0/batchSize') &&
        e.message.includes('/curves/0/seeds/0/testAccuracy/1'),
    );
  });

  it('refuses two curves for one label and batch size', () => {
    const twice = valid();
    twice.curves.push(structuredClone(twice.curves[0]));
    assert.throws(() => parsePublishedReference(twice, 'r.json'), /\/curves\/1: a second curve for sgd at batch 128/);
  });
});

/** A schema-valid result with one test accuracy per epoch. */
function run(label: string, seed: number, accuracies: number[], status: RunStatus = 'ok'): LoadedRun {
  const config = resolveTrainConfig({
    dataset: { name: 'synthetic', trainSize: 256, testSize: 64 },
    model: { name: 'mlp', hiddenWidths: [8] },
    optimizer: { name: 'sgd' },
    epochs: accuracies.length,
    batchSize: 128,
    backend: 'cpu',
    seed,
  });
  const result = makeRunResult(config, status, { testAccuracy: accuracies[accuracies.length - 1] });
  const [template] = result.epochs;
  result.epochs = accuracies.map((testAccuracy, i) => ({ ...template, epoch: i + 1, steps: 4 * (i + 1), testAccuracy }));
  const hash = configHash(config, 1);
  const name = `${label}-b128-w1-s${seed}`;
  result.run = { id: `${name}-${hash.slice(0, 10)}`, name, suite: 'ref', optimizerLabel: label, configHash: hash, sweep: {}, attempts: 1 };
  return { file: `${result.run.id}.json`, result };
}

/** Published: three seeds, epochs 0..3. */
const PUBLISHED: PublishedReference = {
  name: 'Test reference',
  source: { citation: 'A, B (2019)', url: 'https://example.org', commit: 'abcdef1', extractedWith: 'by hand' },
  protocolDifferences: ['the test set is smaller'],
  curves: [
    {
      label: 'sgd',
      batchSize: 128,
      setting: 'SGD, lr 0.1',
      seeds: [
        { seed: 1, file: 'a.json', testAccuracy: [0.1, 0.8, 0.85, 0.9] },
        { seed: 2, file: 'b.json', testAccuracy: [0.1, 0.82, 0.87, 0.92] },
        { seed: 3, file: 'c.json', testAccuracy: [0.1, 0.84, 0.86, 0.91] },
      ],
    },
    {
      label: 'momentum',
      batchSize: 128,
      setting: 'Momentum 0.99, lr 0.0025',
      seeds: [
        { seed: 1, file: 'd.json', testAccuracy: [0.1, 0.8, 0.85, 0.9] },
        { seed: 2, file: 'e.json', testAccuracy: [0.1, 0.8, 0.86, 0.9] },
      ],
    },
  ],
};

describe('our runs against a reference', () => {
  const runs = [
    run('sgd', 0, [0.81, 0.86]),
    run('sgd', 1, [0.83, 0.9]),
    run('momentum', 0, [0.7, 0.8]),
    run('momentum', 1, [0.72, 0.82]),
    run('momentum', 2, [0.1], 'diverged'),
  ];

  it('per epoch: ours per seed and mean against the published mean, std and range; a verdict at the last common epoch', () => {
    const c = compareWithReference(groupRuns(runs), PUBLISHED, 'ref.json');
    const [sgd, momentum] = c.curves;
    assert.deepEqual(
      sgd.rows.map((r) => [r.epoch, r.ours]),
      [
        [1, [0.81, 0.83]],
        [2, [0.86, 0.9]],
      ],
    );
    const second = sgd.rows[1];
    // Independent arithmetic: published epoch 2 = 0.85, 0.87, 0.86.
    assert.ok(Math.abs(second.published.mean - 0.86) < 1e-12);
    assert.ok(Math.abs((second.published.std ?? 0) - 0.01) < 1e-12);
    assert.deepEqual([second.published.min, second.published.max, second.published.n], [0.85, 0.87, 3]);
    assert.ok(Math.abs(second.oursSummary.mean - 0.88) < 1e-12);
    // Our mean 0.88 is above the range [0.85, 0.87] by 1 point; seed 0 (0.86) lies inside.
    assert.equal(sgd.verdict?.kind, 'above');
    assert.ok(Math.abs((sgd.verdict?.outside ?? 0) - 0.01) < 1e-12);
    assert.deepEqual([sgd.verdict?.epoch, sgd.verdict?.seedsInside], [2, 1]);
    // Momentum: 0.81 at epoch 2 against [0.85, 0.86]: below by 4 points; the diverged run is not counted.
    assert.equal(momentum.verdict?.kind, 'below');
    assert.ok(Math.abs((momentum.verdict?.outside ?? 0) - 0.04) < 1e-12);
    assert.deepEqual([momentum.ok.length, momentum.notOk.length], [2, 1]);
    const within = compareWithReference(groupRuns([run('sgd', 0, [0.82, 0.86])]), { ...PUBLISHED, curves: [PUBLISHED.curves[0]] }, 'r');
    assert.deepEqual([within.curves[0].verdict?.kind, within.curves[0].verdict?.outside], ['within', 0]);
  });

  it('a curve whose label has no run at its batch size is bad input, with the nearest label', () => {
    const renamed = { ...PUBLISHED, curves: [{ ...PUBLISHED.curves[0], label: 'sdg' }] };
    assert.throws(
      () => compareWithReference(groupRuns(runs), renamed, 'ref.json'),
      (e: unknown) =>
        e instanceof InputFileError &&
        e.message ===
          "ref.json: /curves/0: no run of optimizer 'sdg' at batch 128 in the results (did you mean 'sgd'?); they have 'momentum' and 'sgd' at batch 128",
    );
  });

  it("a curve whose runs are planned (the manifest's run ids) but not finished is reported as pending, not refused", () => {
    const c = compareWithReference(groupRuns(runs.filter((r) => r.result.run?.optimizerLabel === 'sgd')), PUBLISHED, 'ref.json', [
      'sgd-b128-w1-s0-0123456789',
      'momentum-b128-w1-s0-0123456789',
      'momentum-b128-w1-s1-0123456789',
    ]);
    assert.deepEqual(
      c.curves.map((curve) => [curve.curve.label, curve.ok.length, curve.pending, curve.verdict?.kind ?? null]),
      [
        ['sgd', 2, 1, 'above'],
        ['momentum', 0, 2, null],
      ],
    );
  });

  it('shows every epoch up to 10, then a log-like selection ending at the last', () => {
    assert.deepEqual(shownEpochs(3), [1, 2, 3]);
    assert.deepEqual(shownEpochs(100), [1, 2, 5, 10, 20, 50, 100]);
    assert.deepEqual(shownEpochs(37), [1, 2, 5, 10, 20, 37]);
  });

  it('charts the published band and mean and our seeds, up to the last compared epoch', () => {
    const chart = referenceChart(compareWithReference(groupRuns(runs), PUBLISHED, 'ref.json'));
    assert.ok(chart);
    assert.equal(chart.file, 'published-reference.svg');
    const layers = (chart.spec as { layer: { data: { values: { epoch: number; seed?: number }[] } }[] }).layer;
    assert.equal(layers.length, 3);
    assert.equal(Math.max(...layers[0].data.values.map((v) => v.epoch)), 2);
    assert.equal(layers[2].data.values.length, 8); // 4 ok runs x 2 epochs
  });
});

describe('ngd-bench report --reference', () => {
  const reported: string[] = [];
  const collect = { out: (text: string) => void reported.push(text), err: () => {} };
  const runCommand = (command: Command, args: string[]) => command.exitOverride().parseAsync(args, { from: 'user' });
  const results = join(tmp, 'results');
  mkdirSync(results, { recursive: true });
  for (const r of [run('sgd', 0, [0.81, 0.86]), run('sgd', 1, [0.83, 0.9]), run('momentum', 0, [0.7, 0.8])])
    writeJsonAtomic(join(results, r.file), r.result);

  it('writes the section, its chart and the flag in the reproduce command', async () => {
    const file = join(tmp, 'reference.json');
    writeFileSync(file, JSON.stringify(PUBLISHED));
    const out = join(tmp, 'with', 'report.md');
    await runCommand(reportCommand({ output: collect }), [results, '--out', out, '--reference', file]);
    const text = readFileSync(out, 'utf8');
    assert.match(text, /## Against published results: Test reference/);
    assert.match(
      text,
      /- \*\*sgd\*\* \(batch 128\) after epoch 2: our mean 88\.00% lies above the published range \[85\.00, 87\.00\] by 1\.00 points/,
    );
    assert.match(text, /\| sgd \| SGD, lr 0\.1 \| 2 \| 86\.00, 90\.00 \| 88\.00 \| 86\.00 ± 1\.00 \(n=3\) \| 85\.00–87\.00 \| \+2\.00 \|/);
    assert.match(text, /- the test set is smaller/);
    // The paper's claims need (smoothed) NGD: an SGD-only set says so instead of three inconclusive verdicts.
    assert.match(
      text,
      /Not judged: the claims of Naganuma & Yokota \(CCGRID 2019\) compare K-FAC NGD and smoothed NGD with SGD, and these results have sgd only\./,
    );
    assert.match(text, /--reference /);
    assert.ok(existsSync(join(tmp, 'with', 'report', 'published-reference.svg')));
  });

  it('a bad reference file is one line and writes nothing', async () => {
    const file = join(tmp, 'bad-reference.json');
    writeFileSync(file, JSON.stringify({ ...PUBLISHED, curves: [] }));
    const out = join(tmp, 'bad', 'report.md');
    await assert.rejects(
      runCommand(reportCommand({ output: collect }), [results, '--out', out, '--reference', file]),
      (e: unknown) =>
        e instanceof InputFileError &&
        /bad-reference\.json: invalid reference file: \/curves: /.test(e.message) &&
        !e.message.includes('\n'),
    );
    assert.equal(existsSync(out), false, 'no report');
    assert.equal(existsSync(join(tmp, 'bad', 'report')), false, 'no charts or configs');
  });
});
