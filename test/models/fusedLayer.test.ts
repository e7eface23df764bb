/**
 * A layer with bias and activation as one tape node: the loss and every gradient bit for bit those of
 * the unfused ops (conv/matMul, add, relu through tfjs's own gradients, which a trace recording dL/ds
 * forces), on cpu-blas and the plain CPU kernels; fewer bytes held at the pass's peak; no leaks.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { selectBackend } from '../../src/compute/backend/selectBackend.js';
import { createCnn } from '../../src/models/cnn.js';
import { create2c2d, create3c3d } from '../../src/models/deepobs.js';
import { LayerTrace } from '../../src/models/layerTrace.js';
import { createMlp } from '../../src/models/mlp.js';
import type { Model } from '../../src/models/model.js';
import { disposeGradients, lossAndGradients } from '../../src/optim/lossAndGradients.js';
import { tf } from '../../src/tf.js';

type Shape = [number, number, number];

// Small inputs keep the plain CPU kernels quick; 3c3d's is odd-sized with 3 channels ('valid' convs,
// 3x3/2 'same' pools with ragged edges).
const MODELS: { make: (seed: number) => Model; shape: Shape }[] = [
  { make: (seed) => create2c2d([12, 12, 1], 10, seed), shape: [12, 12, 1] },
  { make: (seed) => createCnn([12, 12, 1], 10, seed), shape: [12, 12, 1] },
  { make: (seed) => create3c3d([15, 13, 3], 7, seed), shape: [15, 13, 3] },
  { make: (seed) => createMlp([12, 12, 1], 10, [32, 16], seed), shape: [12, 12, 1] },
];

function batch(rows: number, shape: Shape, classes: number, seed: number) {
  return { x: tf.randomNormal([rows, ...shape], 0, 1, 'float32', seed), y: tf.randomUniform([rows], 0, classes, 'int32', seed + 1) };
}

/** Loss and gradients (as arrays), fused (no trace) or unfused (a trace recording every layer's dL/ds). */
async function pass(model: Model, b: { x: tf.Tensor; y: tf.Tensor }, unfused: boolean) {
  const trace = unfused ? new LayerTrace(false, true) : undefined;
  const { loss, grads } = await lossAndGradients(model, b, { trace });
  const values = model.params.map((p) => grads.get(p)!.dataSync() as Float32Array);
  disposeGradients(grads);
  if (trace) {
    assert.equal(trace.preActivationGrads.size, model.kfacLayers.length, 'the unfused path records every layer');
    trace.dispose();
  }
  return { loss, values };
}

describe('fused layers (bias + activation as one tape node)', () => {
  after(() => selectBackend('cpu-blas'));
  for (const backend of ['cpu-blas', 'cpu'] as const) {
    it(`give the unfused ops' loss and gradients bit for bit (2c2d, cnn, 3c3d, mlp; ${backend})`, async () => {
      await selectBackend(backend);
      for (const [i, { make, shape }] of MODELS.entries()) {
        const model = make(5 + i);
        const classes = model.name === '3c3d' ? 7 : 10;
        const b = batch(9, shape, classes, 40 + i);
        const fused = await pass(model, b, false);
        const unfused = await pass(model, b, true);
        assert.equal(fused.loss, unfused.loss, `${model.name} loss`);
        for (const [j, p] of model.params.entries()) assert.deepEqual(fused.values[j], unfused.values[j], `${model.name} ${p.name}`);
        const before = tf.memory().numTensors;
        await pass(model, b, false);
        assert.equal(tf.memory().numTensors, before, `${model.name}: the fused pass leaks tensors`);
        tf.dispose([b.x, b.y]);
        model.dispose();
      }
    });
  }

  it('hold fewer bytes at the peak of a pass (2c2d, 64 rows)', async () => {
    await selectBackend('cpu-blas');
    const model = create2c2d([28, 28, 1], 10, 1);
    const b = batch(64, [28, 28, 1], 10, 3);
    const peak = async (unfused: boolean) => {
      const info = await tf.profile(async () => {
        await pass(model, b, unfused);
        return [];
      });
      return info.peakBytes;
    };
    const fused = await peak(false);
    const unfused = await peak(true);
    // Per example, unfused: conv outputs thrice (conv, + bias, relu); fused: once. Measured ~0.5x.
    assert.ok(fused < 0.7 * unfused, `fused peak ${fused} B vs unfused ${unfused} B`);
    tf.dispose([b.x, b.y]);
    model.dispose();
  });
});
