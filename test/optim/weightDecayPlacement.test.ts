/**
 * Weight-decay placements (issue 14) on a tiny softmax regression: each placement's first update against
 * one computed from the optimizer without decay (the K-FAC direction is linear in the gradient, so every
 * placement is a known combination of undecayed pieces), exclusions by parameter kind, and the configs
 * that are refused.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { ValidationError } from '../../src/config/validate.js';
import { createMlp } from '../../src/models/mlp.js';
import { createOptimizer } from '../../src/optim/createOptimizer.js';
import { gradientMatrix, splitGradientMatrix } from '../../src/optim/kfac/kroneckerFactors.js';
import type { NaturalGradientOptimizer } from '../../src/optim/naturalGradient.js';
import { PhaseTimer } from '../../src/util/phaseTimer.js';
import { maxAbsDiff } from '../helpers/denseLinearAlgebra.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

before(usePlainCpu);

const [N, FAN_IN, CLASSES] = [32, 5, 3];
const LR = 0.1;
const WD = 0.05;
const DAMPING = 1e-3;

interface Step {
  /** Kernel and bias before and after one step, and the optimizer's mean KL scale. */
  kernel0: Float32Array;
  bias0: Float32Array;
  kernel: Float32Array;
  bias: Float32Array;
  meanKlScale: number;
  /** The layer's preconditioned W (bias folded in) with the inverses of that step: P(w). */
  preconditionedWeights: { kernel: Float32Array; bias: Float32Array } | null;
}

/** One step of `name` from the same initial weights and batch; empirical Fisher, so it is deterministic. */
async function oneStep(name: 'sgd' | 'ngd', optimizer: Record<string, unknown>, kfac: Record<string, unknown> = {}): Promise<Step> {
  const model = createMlp([1, 1, FAN_IN], CLASSES, [], 7);
  const layer = model.kfacLayers[0];
  const config = resolveTrainConfig({
    optimizer: {
      name,
      momentum: 0,
      ...optimizer,
      ...(name === 'ngd'
        ? { kfac: { fisher: 'empirical', damping: DAMPING, factorUpdateInterval: 1, inverseUpdateInterval: 1, klClip: null, ...kfac } }
        : {}),
    },
  }).optimizer;
  const opt = createOptimizer(config, model, 3);
  const x = tf.randomNormal([N, 1, 1, FAN_IN], 0, 1, 'float32', 5);
  const y = tf.randomUniform([N], 0, CLASSES, 'int32', 6);
  const read = (t: tf.Tensor) => Float32Array.from(t.dataSync());
  const kernel0 = read(layer.kernel);
  const bias0 = read(layer.bias!);
  await opt.step({ x, y }, { step: 0, lr: LR, progress: 0, timer: new PhaseTimer() });
  let preconditionedWeights: Step['preconditionedWeights'] = null;
  if (name === 'ngd') {
    const ngd = opt as NaturalGradientOptimizer;
    const parts = tf.tidy(() => {
      const v = ngd.preconditioner.precondition(layer, gradientMatrix(layer, tf.tensor(kernel0, layer.kernel.shape), tf.tensor1d(bias0)));
      const split = splitGradientMatrix(layer, v);
      return [split.kernel, split.bias!];
    });
    preconditionedWeights = { kernel: read(parts[0]), bias: read(parts[1]) };
    tf.dispose(parts);
  }
  const step: Step = {
    kernel0,
    bias0,
    kernel: read(layer.kernel),
    bias: read(layer.bias!),
    meanKlScale: opt.diagnostics?.().meanKlScale ?? 1,
    preconditionedWeights,
  };
  opt.dispose();
  model.dispose();
  tf.dispose([x, y]);
  return step;
}

/** base + k * v, elementwise. */
const plus = (base: Float32Array, k: number, v: Float32Array) => Float32Array.from(base, (b, i) => b + k * v[i]);

describe('weight-decay placement: sgd', () => {
  it("'l2' is -lr (g + wd w); 'decoupled' is -lr g - lr wd w; with momentum 0 they coincide to rounding", async () => {
    const plain = await oneStep('sgd', {});
    const l2 = await oneStep('sgd', { weightDecay: WD, weightDecayMode: 'l2' });
    const decoupled = await oneStep('sgd', { weightDecay: WD, weightDecayMode: 'decoupled' });
    const expected = plus(plain.kernel, -LR * WD, plain.kernel0);
    assert.ok(maxAbsDiff(l2.kernel, expected) < 1e-7, `l2 kernel off by ${maxAbsDiff(l2.kernel, expected)}`);
    assert.ok(maxAbsDiff(decoupled.kernel, expected) < 1e-7);
    assert.ok(maxAbsDiff(l2.bias, plus(plain.bias, -LR * WD, plain.bias0)) < 1e-7);
  });

  it("excluding 'bias' leaves the bias update as without decay, bit for bit", async () => {
    const plain = await oneStep('sgd', {});
    const excluded = await oneStep('sgd', { weightDecay: WD, weightDecayExclude: ['bias'] });
    assert.deepEqual(excluded.bias, plain.bias);
    assert.ok(maxAbsDiff(excluded.kernel, plus(plain.kernel, -LR * WD, plain.kernel0)) < 1e-7);
  });
});

describe('weight-decay placement: ngd (K-FAC)', () => {
  it("'after-preconditioning' adds -lr wd w to the undecayed K-FAC step: the direction is untouched", async () => {
    const plain = await oneStep('ngd', {});
    const after = await oneStep('ngd', { weightDecay: WD, weightDecayMode: 'after-preconditioning' });
    const expected = plus(plain.kernel, -LR * WD, plain.kernel0);
    assert.ok(maxAbsDiff(after.kernel, expected) < 1e-6, `off by ${maxAbsDiff(after.kernel, expected)}`);
    assert.ok(maxAbsDiff(after.bias, plus(plain.bias, -LR * WD, plain.bias0)) < 1e-6);
  });

  it("'after-preconditioning' leaves the KL-clip scale as without decay ('l2' changes it)", async () => {
    const clip = { klClip: 1e-6 };
    const plain = await oneStep('ngd', {}, clip);
    const after = await oneStep('ngd', { weightDecay: 1, weightDecayMode: 'after-preconditioning' }, clip);
    const l2 = await oneStep('ngd', { weightDecay: 1, weightDecayMode: 'l2' }, clip);
    assert.ok(plain.meanKlScale < 1, 'the clip binds');
    assert.equal(after.meanKlScale, plain.meanKlScale);
    assert.notEqual(l2.meanKlScale, plain.meanKlScale);
  });

  it("'l2' sends wd w through the inverse Fisher: the step is the undecayed one minus lr wd P(w)", async () => {
    const plain = await oneStep('ngd', {});
    const l2 = await oneStep('ngd', { weightDecay: WD, weightDecayMode: 'l2' });
    const p = l2.preconditionedWeights!;
    const expectedKernel = plus(plain.kernel, -LR * WD, p.kernel);
    assert.ok(maxAbsDiff(l2.kernel, expectedKernel) < 1e-5, `off by ${maxAbsDiff(l2.kernel, expectedKernel)}`);
    assert.ok(maxAbsDiff(l2.bias, plus(plain.bias, -LR * WD, p.bias)) < 1e-5);
    // P amplifies w where the curvature is low: not the same step as decaying w itself.
    assert.ok(maxAbsDiff(l2.kernel, plus(plain.kernel, -LR * WD, plain.kernel0)) > 1e-4);
  });

  it("'preconditioned-objective' is 'l2' with wd added to the damping, bit for bit", async () => {
    const objective = await oneStep('ngd', { weightDecay: WD, weightDecayMode: 'preconditioned-objective' });
    const l2Damped = await oneStep('ngd', { weightDecay: WD, weightDecayMode: 'l2' }, { damping: DAMPING + WD });
    const l2 = await oneStep('ngd', { weightDecay: WD, weightDecayMode: 'l2' });
    assert.deepEqual(objective.kernel, l2Damped.kernel);
    assert.deepEqual(objective.bias, l2Damped.bias);
    assert.ok(maxAbsDiff(objective.kernel, l2.kernel) > 1e-6, 'the extra damping changes the step');
  });

  it("'decoupled' matches 'after-preconditioning' on a first step without momentum (to rounding)", async () => {
    const decoupled = await oneStep('ngd', { weightDecay: WD, weightDecayMode: 'decoupled' });
    const after = await oneStep('ngd', { weightDecay: WD, weightDecayMode: 'after-preconditioning' });
    assert.ok(maxAbsDiff(decoupled.kernel, after.kernel) < 1e-6);
  });
});

describe('weight-decay placement: configs', () => {
  const refuse = (optimizer: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(
      () => resolveTrainConfig({ optimizer }),
      (e: unknown) => e instanceof Error && pattern.test(e.message),
    );

  it('a preconditioner placement for sgd is refused: for sgd it is the same update as l2', () => {
    for (const name of ['sgd', 'smoothed-sgd'])
      for (const mode of ['after-preconditioning', 'preconditioned-objective'])
        refuse(
          { name, weightDecayMode: mode },
          new RegExp(`/optimizer/weightDecayMode: '${mode}' places weight decay relative to a preconditioner and '${name}' has none`),
        );
    assert.throws(() => resolveTrainConfig({ optimizer: { name: 'sgd', weightDecayMode: 'after-preconditioning' } }), ValidationError);
  });

  it('an unknown placement gets the nearest one; an unknown kind and duplicates are refused', () => {
    refuse({ name: 'ngd', weightDecayMode: 'after-precondition' }, /did you mean 'after-preconditioning'\?/);
    refuse({ name: 'ngd', weightDecayExclude: ['biases'] }, /\/optimizer\/weightDecayExclude\/0: must be one of "bias", "batch-norm"/);
    refuse({ name: 'ngd', weightDecayExclude: ['bias', 'bias'] }, /\/optimizer\/weightDecayExclude: must NOT have duplicate items/);
  });

  it('every placement is accepted for ngd and smoothed-ngd, and the default stays l2 with nothing excluded', () => {
    for (const name of ['ngd', 'smoothed-ngd'])
      for (const mode of ['l2', 'preconditioned-objective', 'after-preconditioning', 'decoupled'])
        assert.equal(resolveTrainConfig({ optimizer: { name, weightDecayMode: mode } }).optimizer.weightDecayMode, mode);
    const plain = resolveTrainConfig({ optimizer: { name: 'ngd' } }).optimizer;
    assert.equal(plain.weightDecayMode, 'l2');
    assert.equal(plain.weightDecayExclude, undefined);
  });
});
