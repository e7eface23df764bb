/**
 * Budgets and the validation split: epochs, steps and targets (a target run stops at the first evaluation
 * that meets it; never met is null with the best value kept), the evaluation curve, and a validation
 * split held out of the training file, disjoint from what is trained on and the same for every seed
 * and worker count.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { budgetLimit, geometricSteps, meetsTarget, resolveBudget } from '../../src/config/budget.js';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { ValidationError } from '../../src/config/validate.js';
import { holdOut } from '../../src/data/batches.js';
import { makeSyntheticDataset } from '../../src/data/synthetic.js';
import { readRunResult } from '../../src/results/runResultFile.js';
import { executeRun } from '../../src/train/executeRun.js';
import { prepareData } from '../../src/train/prepareData.js';
import { runCli } from '../helpers/runCli.js';

const dir = mkdtempSync(join(tmpdir(), 'ngd-bench-budget-'));

const base = (over: Record<string, unknown> = {}) => ({
  dataset: { name: 'synthetic', validationSize: 256 },
  model: { name: 'mlp', hiddenWidths: [16] },
  optimizer: { name: 'sgd', lr: 0.05 },
  batchSize: 64,
  backend: 'cpu',
  seed: 3,
  ...over,
});

describe('budget resolution', () => {
  it('epochs, steps and target budgets in steps; {epochs} is stored as top-level epochs', () => {
    assert.deepEqual(resolveBudget(resolveTrainConfig({ epochs: 3 }), 10), {
      kind: 'epochs',
      maxSteps: 30,
      maxEpochs: 3,
      target: null,
      stopAtTarget: false,
    });
    assert.deepEqual(resolveBudget(resolveTrainConfig({ budget: { steps: 25 } }), 10), {
      kind: 'steps',
      maxSteps: 25,
      maxEpochs: 3,
      target: null,
      stopAtTarget: false,
    });
    const target = resolveTrainConfig({ budget: { target: { metric: 'trainLoss', value: 0.5 }, max: { epochs: 2 } } });
    assert.deepEqual(resolveBudget(target, 10), {
      kind: 'target',
      maxSteps: 20,
      maxEpochs: 2,
      target: { metric: 'trainLoss', value: 0.5 },
      stopAtTarget: true,
    });
    const asBudget = resolveTrainConfig({ budget: { epochs: 4 } });
    assert.equal(asBudget.epochs, 4);
    assert.equal(asBudget.budget, undefined);
    assert.deepEqual(resolveTrainConfig({}).epochs, 1, 'no budget: the historical one epoch');
    assert.deepEqual(budgetLimit(resolveTrainConfig({ budget: { steps: 7 } })), { steps: 7 });
  });

  it('targets: accuracies are met from above, losses from below; null and NaN never meet', () => {
    assert.ok(meetsTarget({ metric: 'validationAccuracy', value: 0.8 }, 0.8));
    assert.ok(!meetsTarget({ metric: 'validationAccuracy', value: 0.8 }, 0.79));
    assert.ok(meetsTarget({ metric: 'trainLoss', value: 0.3 }, 0.29));
    assert.ok(!meetsTarget({ metric: 'trainLoss', value: 0.3 }, null));
    assert.ok(!meetsTarget({ metric: 'trainLoss', value: 0.3 }, Number.NaN));
  });

  it('log-spaced evaluation steps: ceil(g^k) up to the budget, each once', () => {
    assert.deepEqual([...geometricSteps(2, 20)], [1, 2, 4, 8, 16]);
    const tenPercent = [...geometricSteps(1.1, 1000)];
    for (let i = 1; i < tenPercent.length; i++) assert.ok(tenPercent[i] > tenPercent[i - 1]);
    assert.ok(tenPercent.length > 40 && tenPercent.length < 80, `${tenPercent.length}`);
  });

  it('bad budgets are bad input naming the JSON path', () => {
    const problems = (input: unknown) => {
      try {
        resolveTrainConfig(input);
      } catch (error) {
        assert.ok(error instanceof ValidationError, String(error));
        return error.problems.join('; ');
      }
      return 'accepted';
    };
    assert.match(problems({ epochs: 2, budget: { steps: 3 } }), /^\/budget: give either "epochs" or "budget"/);
    assert.match(problems({ budget: {} }), /\/budget/);
    assert.match(
      problems({ budget: { target: { metric: 'trainLoss', value: 1 }, max: { steps: 0 } } }),
      /\/budget\/max\/steps: must be >= 1/,
    );
    assert.match(
      problems({ budget: { target: { metric: 'validationAccuracy', value: 0.9 }, max: { steps: 5 } } }),
      /^\/budget\/target\/metric: .*validation split.*validationSize/,
    );
    assert.match(
      problems({ dataset: { validationSize: 10 }, budget: { target: { metric: 'validationAccuracy', value: 90 }, max: { steps: 5 } } }),
      /^\/budget\/target\/value: an accuracy target is a fraction/,
    );
  });
});

describe('the validation split', () => {
  it('is held out by a seeded shuffle: disjoint from the rest, together the whole split, the rest in file order', () => {
    const data = makeSyntheticDataset({ seed: 1, trainCount: 300, testCount: 10, inputShape: [1, 1, 1] });
    // Make every example identifiable: its single pixel is its index.
    data.train.images = Float32Array.from({ length: 300 }, (_, i) => i);
    const { heldOut, rest } = holdOut(data.train, 100, 42, data.inputShape);
    const held = [...heldOut.images];
    const kept = [...rest.images];
    assert.equal(held.length, 100);
    assert.equal(kept.length, 200);
    assert.equal(new Set([...held, ...kept]).size, 300);
    assert.deepEqual(
      kept,
      [...kept].sort((a, b) => a - b),
    );
    assert.deepEqual([...holdOut(data.train, 100, 42, data.inputShape).heldOut.images], held, 'same seed, same examples');
    assert.throws(() => holdOut(data.train, 300, 42, data.inputShape), /cannot hold out 300 of the 300/);
  });

  it('is the same examples for every run seed, taken before the --train-size subset', async () => {
    const a = await prepareData(resolveTrainConfig(base({ seed: 1, dataset: { name: 'synthetic', validationSize: 256, trainSize: 512 } })));
    const b = await prepareData(resolveTrainConfig(base({ seed: 1, dataset: { name: 'synthetic', validationSize: 256 } })));
    assert.equal(a.validation?.count, 256);
    assert.equal(a.train.count, 512);
    assert.equal(b.train.count, 2048 - 256);
    assert.deepEqual(a.validation?.images, b.validation?.images, 'train-size does not change the validation split');
    // Training rows never equal a validation row.
    const row = 64;
    const valRows = new Set<string>();
    for (let i = 0; i < b.validation!.count; i++) valRows.add(b.validation!.images.subarray(i * row, (i + 1) * row).join(','));
    for (let i = 0; i < b.train.count; i++) assert.ok(!valRows.has(b.train.images.subarray(i * row, (i + 1) * row).join(',')));
  });

  it('is recorded per evaluation and in the final metrics', async () => {
    const result = await executeRun(resolveTrainConfig(base({ epochs: 2, evalEverySteps: 10 })));
    assert.equal(result.status, 'ok');
    assert.equal(result.dataset?.validationExamples, 256);
    const steps = result.evaluations!.map((e) => e.step);
    assert.deepEqual(steps, [10, 20, 28, 30, 40, 50, 56], 'every 10 steps and every epoch end (28 steps an epoch)');
    for (const e of result.evaluations!) assert.equal(typeof e.validationAccuracy, 'number');
    assert.equal(result.epochs.length, 2);
    assert.equal(result.final?.validationAccuracy, result.evaluations!.at(-1)?.validationAccuracy);
    assert.equal(result.stopReason, 'budget');
  });
});

describe('target runs', () => {
  it('stop at the first evaluation that meets the target, which a full run of the same config locates independently', async () => {
    const full = await executeRun(resolveTrainConfig(base({ budget: { steps: 60 }, evalEverySteps: 2 })));
    assert.equal(full.status, 'ok');
    // A target that is met somewhere in the middle of the run: the validation accuracy at step 20.
    const value = full.evaluations!.find((e) => e.step === 20)!.validationAccuracy!;
    const first = full.evaluations!.find((e) => (e.validationAccuracy ?? 0) >= value)!;
    const budget = { target: { metric: 'validationAccuracy', value }, max: { steps: 60 } };
    const run = await executeRun(resolveTrainConfig(base({ budget, evalEverySteps: 2 })));
    assert.equal(run.status, 'ok');
    assert.equal(run.stopReason, 'target');
    assert.equal(run.target?.reached, true);
    assert.equal(run.target?.stepsToTarget, first.step);
    assert.equal(run.target?.samplesToTarget, first.step * 64);
    assert.equal(run.timing.steps, first.step, 'no step after the target');
    assert.equal(run.evaluations!.at(-1)?.step, first.step);
    assert.deepEqual(
      run.evaluations!.map(({ trainSeconds: _, ...e }) => e),
      full.evaluations!.filter((e) => e.step <= first.step).map(({ trainSeconds: _, ...e }) => e),
      'the same trajectory as the full run up to the target',
    );
    // stopAtTarget: false trains on to the maximum and still records when the target was met.
    const on = await executeRun(resolveTrainConfig(base({ budget: { ...budget, stopAtTarget: false }, evalEverySteps: 2 })));
    assert.equal(on.stopReason, 'budget');
    assert.equal(on.timing.steps, 60);
    assert.equal(on.target?.stepsToTarget, first.step);
  });

  it('a target never met leaves stepsToTarget null, keeps the best value seen, and stops at the maximum', async () => {
    const run = await executeRun(
      resolveTrainConfig(base({ budget: { target: { metric: 'trainLoss', value: 1e-9 }, max: { steps: 30 } }, evalEverySteps: 5 })),
    );
    assert.equal(run.status, 'ok');
    assert.equal(run.stopReason, 'budget');
    assert.equal(run.timing.steps, 30);
    assert.equal(run.target?.reached, false);
    assert.equal(run.target?.stepsToTarget, null);
    assert.equal(run.target?.samplesToTarget, null);
    assert.equal(run.target?.trainSecondsToTarget, null);
    const losses = run.evaluations!.map((e) => e.trainLoss as number);
    assert.equal(run.target?.best, Math.min(...losses));
    assert.equal(run.target?.bestAtStep, run.evaluations![losses.indexOf(Math.min(...losses))].step);
  });

  it('train --target on the command line: flags, result file, and bad flags as exit 2', () => {
    const out = join(dir, 'target.json');
    const common = ['train', '--dataset', 'synthetic', '--backend', 'cpu', '--hidden-widths', '16', '--quiet', '--validation-size', '256'];
    const ok = runCli([...common, '--target', 'validationAccuracy=0.2', '--max-steps', '40', '--eval-every-steps', '4', '--out', out]);
    assert.equal(ok.code, 0, ok.stderr);
    const result = readRunResult(out);
    assert.equal(result.target?.reached, true);
    assert.deepEqual(result.config.budget, { target: { metric: 'validationAccuracy', value: 0.2 }, max: { steps: 40 } });
    for (const [flags, message] of [
      [['--target', 'validationAccuracy=0.2'], /--target needs a bound/],
      [
        ['--target', 'validationAcuracy=0.2', '--max-steps', '5'],
        /unknown metric 'validationAcuracy' \(did you mean 'validationAccuracy'\?\)/,
      ],
      [['--steps', '5', '--epochs', '2'], /--epochs and --steps are different budgets/],
      [['--max-steps', '5'], /bound a --target budget/],
    ] as const) {
      const bad = runCli([...common, ...flags, '--out', join(dir, 'never.json')]);
      assert.equal(bad.code, 2, `${flags.join(' ')}: ${bad.stderr}`);
      assert.match(bad.stderr, message);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    }
  });
});
