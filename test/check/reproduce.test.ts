/**
 * `ngd-bench reproduce`: re-runs are compared with committed results bit for bit. The comparison is
 * tested as a pure function on fixture results; the command runs real training (a tiny synthetic
 * suite through the real `run` and `train`) and must find an untouched result identical and a
 * tampered one different.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compareReproduction } from '../../src/check/reproduction.js';
import { readRunResult } from '../../src/results/runResultFile.js';
import { writeJsonAtomic } from '../../src/results/writeJsonAtomic.js';
import { fixtureRuns, makeResult } from '../fixtures/check/makeResults.js';
import { runCli } from '../helpers/runCli.js';
import { writeTinySuite } from '../fixtures/tinySuite.js';

describe('compareReproduction (pure)', () => {
  const [run] = fixtureRuns();
  const committed = makeResult(run, { testAccuracy: 0.8 });

  it('an equal result is identical, counting every number compared', () => {
    const r = compareReproduction(committed, structuredClone(committed));
    assert.equal(r.verdict, 'identical');
    assert.deepEqual(r.differences, []);
    // status, divergedAtStep, epochs.length, 7 per epoch, 5 final
    assert.equal(r.fieldsCompared, 3 + 7 * committed.epochs.length + 5);
  });

  it('one ulp of difference in one epoch is a difference, named by its path', () => {
    const rerun = structuredClone(committed);
    const loss = rerun.epochs[0].trainLoss!;
    rerun.epochs[0].trainLoss = loss + Math.abs(loss) * Number.EPSILON;
    assert.notEqual(rerun.epochs[0].trainLoss, loss);
    const r = compareReproduction(committed, rerun);
    assert.equal(r.verdict, 'differs');
    assert.deepEqual(r.differences, [`epochs[0].trainLoss: ${loss} committed, ${rerun.epochs[0].trainLoss} re-run`]);
    assert.equal(r.note, null, 'same CPU: no excuse offered');
    assert.equal(r.sameCpu, true);
    rerun.environment = { ...rerun.environment!, cpuModel: 'Another CPU' };
    const elsewhere = compareReproduction(committed, rerun);
    assert.equal(elsewhere.verdict, 'differs');
    assert.equal(elsewhere.sameCpu, false);
    assert.match(elsewhere.note ?? '', /re-run on Another CPU: the BLAS library picks its kernels by CPU/);
    // The same model name on other hardware (a virtual machine): OpenBLAS's kernels tell them apart.
    const kernels = (name: string) => `openblas 0.3.21 (pthread, 2 threads, ${name} kernels)`;
    const before = { ...committed, environment: { ...committed.environment!, accelerator: kernels('Cooperlake') } };
    rerun.environment = { ...committed.environment!, accelerator: kernels('Zen') };
    const otherKernels = compareReproduction(before, rerun);
    assert.equal(otherKernels.sameCpu, false);
    assert.match(otherKernels.note ?? '', /committed on .* \(Cooperlake kernels\), re-run on .* \(Zen kernels\)/);
    rerun.environment = { ...committed.environment!, accelerator: kernels('Cooperlake') };
    assert.equal(compareReproduction(before, rerun).sameCpu, true);
  });

  it('timings, dates and host are not compared', () => {
    const rerun = structuredClone(committed);
    rerun.timing.totalSeconds += 5;
    rerun.startedAt = '2030-01-01T00:00:00.000Z';
    rerun.epochs[0].seconds += 1;
    if (rerun.environment) rerun.environment.hostname = 'elsewhere';
    assert.equal(compareReproduction(committed, rerun).verdict, 'identical');
  });

  it('another backend, worker count or config is not comparable; a failed re-run neither', () => {
    const other = structuredClone(committed);
    other.environment = { ...other.environment!, backend: 'tensorflow-gpu' };
    const r = compareReproduction(committed, other);
    assert.equal(r.verdict, 'not comparable');
    assert.match(r.differences[0], /^backend: "cpu-blas" committed, "tensorflow-gpu" re-run|^backend: /);

    const config = structuredClone(committed);
    config.run = { ...config.run!, configHash: 'f'.repeat(64) };
    assert.match(compareReproduction(committed, config).differences[0], /^config hash: /);

    const failed = { ...structuredClone(committed), status: 'failed' as const, error: 'out of memory' };
    assert.deepEqual(compareReproduction(committed, failed).differences, ['re-run failed: out of memory']);
  });

  it('a diverged run reproduces its diverged step, and a different step is a difference', () => {
    const diverged = { ...structuredClone(committed), status: 'diverged' as const, divergedAtStep: 17 };
    assert.equal(compareReproduction(diverged, structuredClone(diverged)).verdict, 'identical');
    const later = { ...structuredClone(diverged), divergedAtStep: 18 };
    assert.deepEqual(compareReproduction(diverged, later).differences, ['divergedAtStep: 17 committed, 18 re-run']);
  });
});

describe('ngd-bench reproduce (real training)', () => {
  it('finds untouched results identical and a tampered one different; bad input exits 2 in one line', { timeout: 600_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'ngd-reproduce-'));
    const suiteFile = join(dir, 'suite.json');
    writeTinySuite(suiteFile, {
      name: 'reproduce-test',
      epochs: 2,
      optimizers: [
        { name: 'sgd', lr: 0.1 },
        { name: 'smoothed-ngd', lr: 0.01 },
      ],
      seeds: [3],
      run: { timeoutMinutes: 5, retries: 0 },
    });
    const committed = join(dir, 'committed');
    const run = runCli(['run', suiteFile, '--out', committed, '--quiet']);
    assert.equal(run.code, 0, run.stderr);

    const same = runCli(['reproduce', committed, '--suite', suiteFile, '--out', join(dir, 'again'), '--quiet']);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    // 2 epochs: status, diverged step, epochs.length, 7 per epoch, 5 final; then stopReason, the curve's
    // length and its 2 evaluations (epoch ends) of 8 numbers each (no validation split here).
    assert.match(
      same.stdout,
      /^identical {2}sgd-b64-w1-s3-[0-9a-f]{10}: test accuracy [\d.]+% committed, [\d.]+% re-run; 40 numbers compared$/m,
    );
    assert.match(same.stdout, /^identical {2}smoothed-ngd-b64-w1-s3-[0-9a-f]{10}: /m);
    assert.match(same.stdout, /^reproduce: 2 of 2 re-runs bit-identical/m);

    // Tamper with one committed number: the re-run must now disagree, and say where.
    const file = readdirSync(committed).find((f) => f.startsWith('smoothed-ngd-'))!;
    const result = readRunResult(join(committed, file));
    const tampered = result.final!.testAccuracy === 1 ? 0.5 : result.final!.testAccuracy + 1 / 64;
    writeJsonAtomic(join(committed, file), { ...result, final: { ...result.final!, testAccuracy: tampered } });
    const differs = runCli(['reproduce', committed, '--suite', suiteFile, '--filter', 'optimizer=smoothed-ngd', '--json', '--quiet']);
    assert.equal(differs.code, 1, differs.stderr);
    const report = JSON.parse(differs.stdout) as { identical: boolean; runs: { verdict: string; differences: string[] }[] };
    assert.equal(report.identical, false);
    assert.equal(report.runs.length, 1);
    assert.equal(report.runs[0].verdict, 'differs');
    assert.deepEqual(report.runs[0].differences, [`final.testAccuracy: ${tampered} committed, ${result.final!.testAccuracy} re-run`]);

    for (const args of [
      ['reproduce', committed, '--suite', suiteFile, '--filter', 'batch=4096'],
      ['reproduce', join(dir, 'nowhere'), '--suite', suiteFile],
      ['reproduce', committed],
    ]) {
      const bad = runCli(args);
      assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stdout}${bad.stderr}`);
      assert.match(bad.stderr, /^ngd-bench: error: /);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    }
  });
});

describe('compareReproduction: evaluation curves and targets', () => {
  const [run] = fixtureRuns();
  const base = makeResult(run, { testAccuracy: 0.8 });
  const point = (step: number, acc: number) => ({
    step,
    epoch: step / 10,
    samples: step * 64,
    trainSeconds: step * 0.01,
    learningRate: 0.1,
    trainLoss: 1 - acc,
    trainAccuracy: acc,
    validationLoss: 1.1 - acc,
    validationAccuracy: acc - 0.01,
    testLoss: 1.2 - acc,
    testAccuracy: acc - 0.02,
  });
  const committed = {
    ...base,
    evaluations: [point(1, 0.5), point(2, 0.7), point(4, 0.86)],
    stopReason: 'target' as const,
    target: {
      metric: 'validationAccuracy',
      value: 0.85,
      reached: true,
      stepsToTarget: 4,
      samplesToTarget: 256,
      epochsToTarget: 0.4,
      trainSecondsToTarget: 0.04,
      best: 0.85,
      bestAtStep: 4,
    },
  };

  it('compares every evaluation and the target, but not their training seconds', () => {
    const rerun = structuredClone(committed);
    rerun.evaluations[1].trainSeconds = 99;
    rerun.target.trainSecondsToTarget = 99;
    const r = compareReproduction(committed, rerun);
    assert.equal(r.verdict, 'identical', r.differences.join('\n'));
    // status, divergedAtStep, epochs.length, per epoch 7, final 5, stopReason, evaluations.length, 10 per evaluation, 8 target fields
    assert.equal(r.fieldsCompared, 3 + 7 * base.epochs.length + 5 + 2 + 10 * 3 + 8);
  });

  it('a target met at another step, or an evaluation that differs, is a difference', () => {
    const rerun = structuredClone(committed);
    rerun.target.stepsToTarget = 2;
    rerun.evaluations[2].validationAccuracy = 0.8;
    const r = compareReproduction(committed, rerun);
    assert.equal(r.verdict, 'differs');
    assert.deepEqual(r.differences, [
      'evaluations[2].validationAccuracy: 0.85 committed, 0.8 re-run',
      'target.stepsToTarget: 4 committed, 2 re-run',
    ]);
  });
});
