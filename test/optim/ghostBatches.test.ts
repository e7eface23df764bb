/**
 * Ghost batches (SmoothOut, issue 14): a sub-batch size that covers the batch is the plain step bit for
 * bit; without noise, sub-batches give the full-batch step (mean of sub-batch means); with noise, each
 * sub-batch draws its own; the sub-batches' tensors are freed.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { createMlp } from '../../src/models/mlp.js';
import { createOptimizer } from '../../src/optim/createOptimizer.js';
import { PhaseTimer } from '../../src/util/phaseTimer.js';
import { maxAbsDiff } from '../helpers/denseLinearAlgebra.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

before(usePlainCpu);

/** Weights after 2 steps on a 16-example batch. */
async function train(name: 'smoothed-sgd' | 'smoothed-ngd', smoothing: Record<string, unknown>): Promise<Float32Array> {
  const model = createMlp([1, 1, 6], 3, [5], 4);
  const optimizer = { name, smoothing, ...(name === 'smoothed-ngd' ? { kfac: { fisher: 'empirical', inverseUpdateInterval: 1 } } : {}) };
  const opt = createOptimizer(resolveTrainConfig({ optimizer }).optimizer, model, 2);
  for (let step = 0; step < 2; step++) {
    const x = tf.randomNormal([16, 1, 1, 6], 0, 1, 'float32', 60 + step);
    const y = tf.randomUniform([16], 0, 3, 'int32', 70 + step);
    await opt.step({ x, y }, { step, lr: 0.05, progress: 0, timer: new PhaseTimer() });
    tf.dispose([x, y]);
  }
  const weights = Float32Array.from(model.params.flatMap((p) => Array.from(p.dataSync())));
  opt.dispose();
  model.dispose();
  return weights;
}

describe('ghost batches', () => {
  for (const name of ['smoothed-sgd', 'smoothed-ngd'] as const) {
    it(`${name}: a ghost batch as large as the batch is the plain step, bit for bit`, async () => {
      assert.deepEqual(await train(name, { ghostBatchSize: 16 }), await train(name, {}));
    });

    it(`${name}: without noise, 4 ghost batches of 4 give the full-batch step; with noise, another one`, async () => {
      const quiet = await train(name, { amplitude: 0, ghostBatchSize: 4 });
      const full = await train(name, { amplitude: 0 });
      assert.ok(maxAbsDiff(quiet, full) < 1e-5, `off by ${maxAbsDiff(quiet, full)}`);
      const noisy = await train(name, { amplitude: 0.05, ghostBatchSize: 4 });
      const once = await train(name, { amplitude: 0.05 });
      assert.ok(maxAbsDiff(noisy, once) > 1e-4, 'each ghost batch draws its own noise');
    });
  }

  it('leaves no tensor behind', async () => {
    await train('smoothed-ngd', { ghostBatchSize: 4 });
    const before = tf.memory().numTensors;
    await train('smoothed-ngd', { ghostBatchSize: 4 });
    assert.equal(tf.memory().numTensors, before);
  });
});
