/**
 * The DeepOBS networks against DeepOBS's own definitions (deepobs/tensorflow/testproblems/_mlp.py,
 * _2c2d.py, _3c3d.py): parameter counts from their layer sizes, output shapes, initialisation, a K-FAC
 * step through 'valid' convolutions and 3x3/2 pooling; and `--problem`'s defaults under the flags.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { applyTrainFlags } from '../../src/cli/trainOptions.js';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { ValidationError } from '../../src/config/validate.js';
import { createModel } from '../../src/models/createModel.js';
import { planRuns } from '../../src/suite/expandSuite.js';
import { suiteFromValue } from '../../src/suite/loadSuite.js';
import { SuiteError } from '../../src/suite/suiteError.js';
import { createOptimizer } from '../../src/optim/createOptimizer.js';
import { PhaseTimer } from '../../src/util/phaseTimer.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

before(usePlainCpu);

const count = (name: 'deepobs-mlp' | '2c2d' | '3c3d', shape: [number, number, number]) => {
  const model = createModel({ name }, shape, 10, 0);
  const n = model.params.reduce((s, p) => s + p.size, 0);
  model.dispose();
  return n;
};
const stats = (values: Float32Array) => {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return { mean, std: Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length), max };
};

describe('DeepOBS networks', () => {
  it('have the parameter counts their layer sizes give', () => {
    // 784·1000+1000 + 1000·500+500 + 500·100+100 + 100·10+10
    assert.equal(count('deepobs-mlp', [28, 28, 1]), 1_336_610);
    // 5·5·1·32+32 + 5·5·32·64+64 + 7·7·64·1024+1024 + 1024·10+10
    assert.equal(count('2c2d', [28, 28, 1]), 3_274_634);
    // 5·5·3·64+64 + 3·3·64·96+96 + 3·3·96·128+128 + 3·3·128·512+512 + 512·256+256 + 256·10+10
    assert.equal(count('3c3d', [32, 32, 3]), 895_210);
  });

  it('map a batch to logits', () => {
    for (const [name, shape] of [
      ['deepobs-mlp', [28, 28, 1]],
      ['2c2d', [28, 28, 1]],
      ['3c3d', [32, 32, 3]],
    ] as const) {
      const model = createModel({ name }, [...shape], 10, 1);
      const logits = tf.tidy(() => model.apply(tf.zeros([3, ...shape]), { training: false }));
      assert.deepEqual(logits.shape, [3, 10], name);
      logits.dispose();
      model.dispose();
    }
  });

  it('start as DeepOBS starts them: truncated normals (2c2d std 0.05, biases 0.05) and Glorot (3c3d)', () => {
    const twoC = createModel({ name: '2c2d' }, [28, 28, 1], 10, 2);
    const dense1 = twoC.kfacLayers[2];
    const k = stats(dense1.kernel.dataSync() as Float32Array);
    // A normal truncated at 2σ has std 0.88σ and nothing beyond 2σ.
    assert.ok(Math.abs(k.std - 0.05 * 0.8796) < 0.002 && k.max <= 0.1 + 1e-6, `2c2d dense1 std ${k.std}, max ${k.max}`);
    assert.ok((dense1.bias!.dataSync() as Float32Array).every((b) => Math.abs(b - 0.05) < 1e-7));
    twoC.dispose();
    const threeC = createModel({ name: '3c3d' }, [32, 32, 3], 10, 2);
    const conv2 = stats(threeC.kfacLayers[1].kernel.dataSync() as Float32Array);
    const glorot = Math.sqrt(2 / (3 * 3 * 64 + 3 * 3 * 96));
    assert.ok(Math.abs(conv2.std - glorot) < 0.03 * glorot, `3c3d conv2 std ${conv2.std} vs ${glorot}`);
    const dense1Limit = Math.sqrt(6 / (3 * 3 * 128 + 512));
    assert.ok(stats(threeC.kfacLayers[3].kernel.dataSync() as Float32Array).max <= dense1Limit);
    threeC.dispose();
  });

  it("3c3d takes K-FAC steps through 'valid' convolutions and 3x3/2 pooling, finite and without leaks", async () => {
    const model = createModel({ name: '3c3d' }, [32, 32, 3], 10, 3);
    const opt = createOptimizer(resolveTrainConfig({ optimizer: { name: 'ngd', lr: 0.001 } }).optimizer, model, 3);
    const x = tf.randomNormal([8, 32, 32, 3], 0, 1, 'float32', 4);
    const y = tf.randomUniform([8], 0, 10, 'int32', 5);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 2; step++) {
      const loss = await opt.step({ x, y }, { step, lr: 0.001, progress: 0, timer: new PhaseTimer() });
      assert.ok(Number.isFinite(loss));
    }
    const held = tf.memory().numTensors - before;
    await opt.step({ x, y }, { step: 2, lr: 0.001, progress: 0, timer: new PhaseTimer() });
    assert.equal(tf.memory().numTensors - before, held, 'a further step holds no more tensors');
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  });
});

describe('--problem', () => {
  it("cifar10_3c3d: DeepOBS's model, data, batch 128, 100 epochs, L2 0.002 on the kernels; flags and budgets win", () => {
    const config = resolveTrainConfig(applyTrainFlags({}, { problem: 'cifar10_3c3d' }));
    assert.equal(config.model.name, '3c3d');
    assert.equal(config.dataset.name, 'cifar10');
    assert.equal(config.batchSize, 128);
    assert.equal(config.epochs, 100);
    assert.deepEqual(
      [config.optimizer.weightDecay, config.optimizer.weightDecayMode, config.optimizer.weightDecayExclude],
      [0.002, 'l2', ['bias']],
    );
    const overridden = resolveTrainConfig(applyTrainFlags({}, { problem: 'fmnist_2c2d', batchSize: 1024, steps: 10 }));
    assert.equal(overridden.batchSize, 1024);
    assert.deepEqual([overridden.epochs, overridden.budget], [undefined, { steps: 10 }]);
    assert.equal(overridden.model.name, '2c2d');
  });

  it("the (F)MNIST problems scale pixels as DeepOBS's loaders do (byte / 255); cifar10_3c3d and plain configs standardize", () => {
    for (const problem of ['fmnist_mlp', 'fmnist_2c2d', 'mnist_2c2d'] as const) {
      assert.equal(resolveTrainConfig(applyTrainFlags({}, { problem })).dataset.pixelScaling, 'unit-interval', problem);
    }
    assert.equal(resolveTrainConfig(applyTrainFlags({}, { problem: 'cifar10_3c3d' })).dataset.pixelScaling, undefined);
    // Absent, not filled in: configs written before the field existed keep their hashes.
    assert.equal('pixelScaling' in resolveTrainConfig({}).dataset, false);
  });

  it("refuses a model or dataset that is not the problem's, naming the problem that has it", () => {
    assert.throws(
      () => applyTrainFlags({}, { problem: 'fmnist_2c2d', dataset: 'mnist' }),
      (e: unknown) =>
        e instanceof ValidationError &&
        /^--problem fmnist_2c2d: \/dataset\/name: 'mnist' is not the dataset of problem fmnist_2c2d \(fashion-mnist\); use problem mnist_2c2d$/.test(
          e.message,
        ),
    );
    assert.throws(
      () => applyTrainFlags({ model: { name: 'cnn' } }, { problem: 'fmnist_2c2d' }),
      /\/model\/name: 'cnn' is not the model of problem fmnist_2c2d \(2c2d\); drop the problem to train cnn/,
    );
  });
});

describe('a suite naming a problem', () => {
  it('gets its model, data, batch size, epochs and regularisation where it sets none; its own keys win', () => {
    const suite = suiteFromValue({ name: 'deepobs', problem: 'cifar10_3c3d', optimizers: [{ name: 'sgd', lr: 0.01 }] }, 'deepobs.json');
    const [run] = planRuns(suite).runs;
    assert.deepEqual(
      [run.config.model.name, run.config.dataset.name, run.config.batchSize, run.config.epochs],
      ['3c3d', 'cifar10', 128, 100],
    );
    assert.deepEqual([run.config.optimizer.weightDecay, run.config.optimizer.weightDecayExclude], [0.002, ['bias']]);
    const own = suiteFromValue(
      { name: 'deepobs', problem: 'fmnist_2c2d', batchSizes: [512], budget: { steps: 5 }, optimizers: [{ name: 'sgd' }] },
      'own.json',
    );
    const [mine] = planRuns(own).runs;
    assert.deepEqual(
      [mine.config.model.name, mine.config.batchSize, mine.config.epochs, mine.config.budget],
      ['2c2d', 512, undefined, { steps: 5 }],
    );
  });

  it("keeps the problem's pixel scaling under a dataset section of its own, unless it sets one", () => {
    const base = { name: 'deepobs', problem: 'fmnist_2c2d', optimizers: [{ name: 'sgd' }] };
    const held = suiteFromValue({ ...base, dataset: { name: 'fashion-mnist', validationSize: 100 } }, 'held.json');
    assert.deepEqual(planRuns(held).runs[0].config.dataset, { name: 'fashion-mnist', validationSize: 100, pixelScaling: 'unit-interval' });
    const own = suiteFromValue({ ...base, dataset: { pixelScaling: 'standardize' } }, 'own.json');
    assert.deepEqual(planRuns(own).runs[0].config.dataset, { name: 'fashion-mnist', pixelScaling: 'standardize' });
  });

  it("a dataset or model that is not the problem's is an error at its JSON path", () => {
    assert.throws(
      () =>
        suiteFromValue({ name: 'x', problem: 'mnist_2c2d', dataset: { name: 'fashion-mnist' }, optimizers: [{ name: 'sgd' }] }, 'x.json'),
      (e: unknown) =>
        e instanceof SuiteError &&
        e.message === "x.json: /dataset/name: 'fashion-mnist' is not the dataset of problem mnist_2c2d (mnist); use problem fmnist_2c2d",
    );
  });

  it('an unknown problem is a schema error at /problem with the nearest name', () => {
    assert.throws(
      () => suiteFromValue({ name: 'x', problem: 'fmnist-2c2d', optimizers: [{ name: 'sgd' }], batchSizes: [64] }, 'x.json'),
      /\/problem: must be one of .*did you mean 'fmnist_2c2d'/,
    );
  });
});
