/** End-to-end runs: reproducibility, divergence as an outcome, and real Fashion-MNIST training. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nativeBlasFound } from '../../src/compute/accel/native.js';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { readRunResult } from '../../src/results/runResultFile.js';
import { executeRun } from '../../src/train/executeRun.js';
import { runCli } from '../helpers/runCli.js';

const dir = mkdtempSync(join(tmpdir(), 'ngd-bench-train-'));

describe('reproducibility', () => {
  const config = (optimizer: string, model: string, backend: string, seed: number) =>
    resolveTrainConfig({
      dataset: { name: 'synthetic' },
      model: model === 'mlp' ? { name: 'mlp', hiddenWidths: [32] } : { name: model },
      optimizer: { name: optimizer, lr: 0.05 },
      batchSize: 64,
      epochs: 2,
      seed,
      backend,
    });

  const blasMissing = !nativeBlasFound && process.env.NGD_BENCH_REQUIRE_BLAS !== '1';
  for (const [optimizer, model, backend] of [
    ['sgd', 'mlp', 'cpu'],
    ['smoothed-ngd', 'mlp', 'cpu'],
    ['smoothed-ngd', 'cnn', 'cpu-blas'],
  ]) {
    const skip = backend === 'cpu-blas' && blasMissing ? 'native BLAS addon not built' : false;
    it(`${optimizer} ${model} on ${backend}: same seed gives identical metrics, another seed does not`, { skip }, async () => {
      const a = await executeRun(config(optimizer, model, backend, 1));
      const b = await executeRun(config(optimizer, model, backend, 1));
      const c = await executeRun(config(optimizer, model, backend, 2));
      assert.equal(a.environment?.backend, backend);
      assert.equal(a.status, 'ok');
      assert.deepEqual(
        b.epochs.map(({ seconds: _, ...m }) => m),
        a.epochs.map(({ seconds: _, ...m }) => m),
      );
      assert.deepEqual(b.final, a.final);
      assert.notDeepEqual(c.final, a.final);
    });
  }
});

describe('divergence', () => {
  it('a non-finite loss ends the run as diverged with its step, exit 3, result written', () => {
    const out = join(dir, 'diverged.json');
    const r = runCli([
      'train',
      '--dataset',
      'synthetic',
      '--backend',
      'cpu',
      '--lr',
      '1e30',
      '--momentum',
      '0',
      '--epochs',
      '3',
      '--quiet',
      '--out',
      out,
    ]);
    assert.equal(r.code, 3, r.stderr);
    const result = readRunResult(out);
    assert.equal(result.status, 'diverged');
    assert.equal(typeof result.divergedAtStep, 'number');
    assert.equal(result.final, null);
  });
});

describe('real Fashion-MNIST', () => {
  for (const optimizer of ['sgd', 'smoothed-sgd', 'ngd', 'smoothed-ngd']) {
    it(`${optimizer}: mlp on a 4096-image subset beats chance (10%) by a wide margin`, () => {
      const out = join(dir, `${optimizer}.json`);
      const r = runCli([
        'train',
        '--optimizer',
        optimizer,
        '--model',
        'mlp',
        '--dataset',
        'fashion-mnist',
        '--train-size',
        '4096',
        '--test-size',
        '2000',
        '--batch-size',
        '128',
        '--epochs',
        '2',
        '--lr',
        '0.02',
        '--out',
        out,
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(out));
      const result = readRunResult(out); // validates against the result schema
      assert.deepEqual(JSON.parse(r.stdout), result);
      assert.equal(result.status, 'ok');
      assert.equal(result.dataset?.trainExamples, 4096);
      assert.equal(result.epochs.length, 2);
      assert.ok(result.final!.testAccuracy > 0.6, `test accuracy ${result.final!.testAccuracy}`);
      assert.ok(result.timing.samplesPerSecond > 0);
    });
  }
});

describe('committed result files', () => {
  it('every reports/runs/*.json validates against the result schema', async () => {
    const { readdirSync } = await import('node:fs');
    const runs = new URL('../../reports/runs/', import.meta.url);
    const files = readdirSync(runs).filter((f) => f.endsWith('.json'));
    assert.ok(files.length > 0);
    for (const f of files) readRunResult(new URL(f, runs).pathname);
  });
});
