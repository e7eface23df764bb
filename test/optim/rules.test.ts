/** The shared update rule, schedules and config resolution against hand-computed values. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { selectBackend } from '../../src/compute/backend/selectBackend.js';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { ValidationError } from '../../src/config/validate.js';
import { createResnet20 } from '../../src/models/resnet20.js';
import { createOptimizer } from '../../src/optim/createOptimizer.js';
import { batchScale, learningRateAt, peakLearningRate } from '../../src/optim/learningRate.js';
import { MomentumSgd } from '../../src/optim/momentumSgd.js';
import { PhaseTimer } from '../../src/util/phaseTimer.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

before(usePlainCpu);

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('MomentumSgd', () => {
  function run(options: ConstructorParameters<typeof MomentumSgd>[0], grads: number[]): number[] {
    const w = tf.variable(tf.tensor1d([1]));
    const rule = new MomentumSgd(options);
    const trajectory: number[] = [];
    for (const g of grads) {
      const grad = tf.tensor1d([g]);
      const d = rule.withL2(grad, w);
      rule.apply(w, d, 0.1);
      trajectory.push(w.dataSync()[0]);
      tf.dispose([grad, d]);
    }
    rule.dispose();
    w.dispose();
    return trajectory;
  }

  it('heavy ball: v = m v + g, w -= lr v', () => {
    const [a, b] = run({ momentum: 0.9, nesterov: false, weightDecay: 0, weightDecayMode: 'l2' }, [1, 1]);
    close(a, 1 - 0.1);
    close(b, a - 0.1 * 1.9);
  });
  it('heavy ball through the fused kernel: the four ops bit for bit, on cpu and cpu-blas', async () => {
    for (const backend of ['cpu', 'cpu-blas'] as const) {
      await selectBackend(backend);
      const w = tf.variable(tf.randomNormal([1000], 0, 1, 'float32', 1));
      let wRef: tf.Tensor = w.clone();
      let vRef: tf.Tensor | undefined;
      const rule = new MomentumSgd({ momentum: 0.9, nesterov: false, weightDecay: 0, weightDecayMode: 'l2' });
      for (let step = 0; step < 4; step++) {
        const g = tf.randomNormal([1000], 0, 1, 'float32', 10 + step);
        rule.apply(w, g, 0.05);
        const v: tf.Tensor = vRef ? tf.add(tf.mul(vRef, 0.9), g) : g.clone();
        const next = tf.sub(wRef, tf.mul(v, 0.05));
        tf.dispose([wRef, vRef]);
        [wRef, vRef] = [next, v];
        assert.deepStrictEqual(w.dataSync(), wRef.dataSync(), `${backend}, step ${step}`);
        g.dispose();
      }
      const before = tf.memory().numTensors;
      const g = tf.zeros([1000]);
      rule.apply(w, g, 0.05);
      assert.equal(tf.memory().numTensors, before + 1, `${backend}: the fused step leaks tensors`);
      tf.dispose([g, w, wRef, vRef]);
      rule.dispose();
    }
    await usePlainCpu();
  });
  it('Nesterov: w -= lr (g + m v)', () => {
    const [a, b] = run({ momentum: 0.9, nesterov: true, weightDecay: 0, weightDecayMode: 'l2' }, [1, 1]);
    close(a, 1 - 0.1 * 1.9);
    close(b, a - 0.1 * (1 + 0.9 * 1.9));
  });
  it('L2 decay enters the gradient; decoupled decay does not go through momentum', () => {
    const [l2a, l2b] = run({ momentum: 0.5, nesterov: false, weightDecay: 0.1, weightDecayMode: 'l2' }, [0, 0]);
    close(l2a, 1 - 0.1 * 0.1);
    close(l2b, l2a - 0.1 * (0.5 * 0.1 + 0.1 * l2a));
    const [da, db] = run({ momentum: 0.5, nesterov: false, weightDecay: 0.1, weightDecayMode: 'decoupled' }, [0, 0]);
    close(da, 1 - 0.1 * 0.1);
    close(db, da - 0.1 * 0.1 * da);
  });
});

describe('learning-rate schedules', () => {
  const schedule = (over: Record<string, unknown>) => resolveTrainConfig({ schedule: over }).schedule;
  it('batch-size scaling rules', () => {
    assert.equal(batchScale('linear', 1024, 128), 8);
    close(batchScale('sqrt', 1024, 128), Math.sqrt(8));
    assert.equal(batchScale('none', 1024, 128), 1);
    assert.equal(peakLearningRate(0.1, schedule({ batchScaling: 'linear', referenceBatchSize: 256 }), 1024), 0.4);
  });
  it('warmup then cosine / polynomial / step', () => {
    const cos = schedule({ kind: 'cosine', warmupEpochs: 1 });
    close(learningRateAt(1, cos, 0, 10, 110), 0.1);
    close(learningRateAt(1, cos, 9, 10, 110), 1);
    close(learningRateAt(1, cos, 10, 10, 110), 1);
    close(learningRateAt(1, cos, 60, 10, 110), 0.5);
    const poly = schedule({ kind: 'polynomial', power: 2, finalLrFraction: 0.1 });
    close(learningRateAt(1, poly, 50, 10, 100), 0.1 + 0.9 * 0.25);
    const step = schedule({ kind: 'step', stepMilestones: [2, 4], stepFactor: 0.1 });
    close(learningRateAt(1, step, 19, 10, 100), 1);
    close(learningRateAt(1, step, 20, 10, 100), 0.1);
    close(learningRateAt(1, step, 45, 10, 100), 0.01);
  });
});

describe('config resolution', () => {
  it('fills K-FAC and smoothing sections only for the optimizers that use them', () => {
    assert.equal(resolveTrainConfig({ optimizer: { name: 'sgd' } }).optimizer.kfac, undefined);
    const s = resolveTrainConfig({ optimizer: { name: 'smoothed-ngd' } }).optimizer;
    assert.equal(s.kfac?.fisher, 'mc');
    assert.equal(s.smoothing?.distribution, 'uniform');
    assert.throws(() => resolveTrainConfig({ optimizer: { name: 'ngd', smoothing: {} } }), ValidationError);
    assert.throws(() => resolveTrainConfig({ model: { name: 'cnn', hiddenWidths: [3] } }), ValidationError);
  });
});

describe('resnet20', () => {
  it('runs forward and a smoothed-ngd step with batch norm, K-FAC on every conv and the head', async () => {
    const model = createResnet20([8, 8, 3], 10, 1);
    assert.equal(model.kfacLayers.length, 1 + 18 + 2 + 1);
    assert.equal(model.otherParams.length, 2 * (1 + 18 + 2));
    const opt = createOptimizer(resolveTrainConfig({ optimizer: { name: 'smoothed-ngd' } }).optimizer, model, 1);
    const x = tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 1);
    const y = tf.tensor1d([0, 1, 2, 3], 'int32');
    const loss = await opt.step({ x, y }, { step: 0, lr: 0.01, progress: 0, timer: new PhaseTimer() });
    assert.ok(Number.isFinite(loss));
    const logits = model.apply(x, { training: false });
    assert.deepEqual(logits.shape, [4, 10]);
    tf.dispose([x, y, logits]);
    opt.dispose();
    model.dispose();
  });
});

describe('train flags', () => {
  it('--kl-clip none disables the clip (null in the config), numbers pass through', async () => {
    const { Command } = await import('commander');
    const { addTrainOptions, applyTrainFlags } = await import('../../src/cli/trainOptions.js');
    const parse = (args: string[]) => {
      const cmd = addTrainOptions(new Command('train')).exitOverride();
      cmd.parse(['node', 'train', ...args]);
      return resolveTrainConfig(applyTrainFlags({}, cmd.opts()));
    };
    assert.equal(parse(['--optimizer', 'ngd', '--kl-clip', 'none']).optimizer.kfac?.klClip, null);
    assert.equal(parse(['--optimizer', 'ngd', '--kl-clip', '0.01']).optimizer.kfac?.klClip, 0.01);
    assert.equal(parse(['--optimizer', 'ngd']).optimizer.kfac?.klClip, 1e-3);
  });
});
