/**
 * The dense + ReLU chain's pre-activation backward (what K-FAC's MC Fisher uses instead of a second
 * forward and backward pass): bit for bit what tfjs's backpropagation gives, on cpu-blas and on the
 * plain CPU kernels, and NGD trained through it bit for bit as NGD with the second pass.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { selectBackend } from '../../src/compute/backend/selectBackend.js';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { createDeepobsMlp } from '../../src/models/deepobs.js';
import { LayerTrace } from '../../src/models/layerTrace.js';
import { createMlp } from '../../src/models/mlp.js';
import type { Model } from '../../src/models/model.js';
import { createOptimizer } from '../../src/optim/createOptimizer.js';
import { softmaxCrossEntropy } from '../../src/optim/loss.js';
import { tf } from '../../src/tf.js';
import { PhaseTimer } from '../../src/util/phaseTimer.js';

function batch(n: number, seed: number) {
  return { x: tf.randomNormal([n, 28, 28, 1], 0, 1, 'float32', seed), y: tf.randomUniform([n], 0, 10, 'int32', seed + 1) };
}

/** dL/ds per layer by a forward and backward pass through taps (the second pass the chain replaces). */
function backpropagated(model: Model, x: tf.Tensor, labels: tf.Tensor): Map<string, Float32Array> {
  const trace = new LayerTrace(false, true);
  const { value, grads } = tf.variableGrads(
    () => softmaxCrossEntropy(model.apply(x, { training: true, trace }), labels),
    [model.kfacLayers[0].kernel],
  );
  tf.dispose([value, ...Object.values(grads)]);
  const out = new Map([...trace.preActivationGrads].map(([name, g]) => [name, g.dataSync() as Float32Array]));
  trace.dispose();
  return out;
}

function chained(model: Model, x: tf.Tensor, labels: tf.Tensor): Map<string, Float32Array> {
  const trace = new LayerTrace(true, false);
  const logits = tf.tidy(() => model.apply(x, { training: true, trace }));
  const logitsGrad = tf.grad((l: tf.Tensor) => softmaxCrossEntropy(l, labels))(logits);
  const before = tf.memory().numTensors;
  const grads = model.preActivationGrads!(logitsGrad, trace.inputs);
  // The chain's own tensors: one gradient per layer, nothing else.
  assert.equal(tf.memory().numTensors, before + model.kfacLayers.length, 'the chain leaks tensors');
  const out = new Map([...grads].map(([name, g]) => [name, g.dataSync() as Float32Array]));
  tf.dispose([logits, logitsGrad, ...grads.values()]);
  trace.dispose();
  return out;
}

describe('denseReluChain: pre-activation gradients without a second pass', () => {
  after(() => selectBackend('cpu-blas'));
  for (const backend of ['cpu-blas', 'cpu'] as const) {
    it(`equal backpropagation bit for bit (mlp and deepobs-mlp, ${backend})`, async () => {
      await selectBackend(backend);
      for (const model of [createMlp([28, 28, 1], 10, [64, 32], 1), createDeepobsMlp([28, 28, 1], 10, 2)]) {
        const { x, y } = batch(48, 7);
        const expected = backpropagated(model, x, y);
        const got = chained(model, x, y);
        assert.deepEqual([...got.keys()].sort(), model.kfacLayers.map((l) => l.name).sort());
        for (const [name, g] of expected) assert.deepEqual(got.get(name), g, `${model.name} ${name}`);
        const before = tf.memory().numTensors;
        chained(model, x, y);
        assert.equal(tf.memory().numTensors, before, 'the forward, the logits gradient or the chain leaks tensors');
        tf.dispose([x, y]);
        model.dispose();
      }
    });
  }

  it('ngd through it trains bit for bit as ngd with the second pass (5 steps, factors every step)', async () => {
    await selectBackend('cpu-blas');
    const config = resolveTrainConfig({ optimizer: { name: 'ngd', kfac: { inverseUpdateInterval: 2 } } }).optimizer;
    const weights = async (model: Model) => {
      const opt = createOptimizer(config, model, 11);
      const timer = new PhaseTimer();
      for (let step = 0; step < 5; step++) {
        const { x, y } = batch(32, 100 + step);
        await opt.step({ x, y }, { step, lr: 0.05, progress: step / 5, timer });
        tf.dispose([x, y]);
      }
      opt.dispose();
      const values = model.params.map((p) => p.dataSync() as Float32Array);
      model.dispose();
      return values;
    };
    const chain = createMlp([28, 28, 1], 10, [64, 32], 3);
    const twoPass = createMlp([28, 28, 1], 10, [64, 32], 3);
    const withoutChain: Model = { ...twoPass, preActivationGrads: undefined };
    assert.deepEqual(await weights(chain), await weights(withoutChain));
  });
});
