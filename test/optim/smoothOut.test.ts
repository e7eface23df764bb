/**
 * SmoothOut's variants of the smoothing noise (issue 14): per-filter scaling (each output filter's noise
 * has norm a x that filter's norm; 1-D parameters a x |w|), parameter kinds left unperturbed without
 * changing the others' noise, the weights restored bit-exactly, and the configs that are refused.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import type { SmoothingConfig } from '../../src/config/trainConfig.js';
import { createMlp } from '../../src/models/mlp.js';
import { parameterKinds } from '../../src/models/parameterKinds.js';
import { sampleNoise, WeightPerturbation } from '../../src/optim/weightPerturbation.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

before(usePlainCpu);

const smoothing = (overrides: Partial<SmoothingConfig>): SmoothingConfig =>
  resolveTrainConfig({ optimizer: { name: 'smoothed-ngd', smoothing: overrides } }).optimizer.smoothing!;
const read = (t: tf.Tensor) => Array.from(t.dataSync());

describe('per-filter noise (SmoothOut --adapt-type filter)', () => {
  it('each output filter of a dense kernel [in, out] and a conv kernel [kh, kw, in, out] gets noise of norm a x its norm', () => {
    const config = smoothing({ perFilter: true, amplitude: 0.03 });
    for (const shape of [
      [7, 4],
      [3, 3, 2, 5],
    ]) {
      const w = tf.randomNormal(shape, 0, 1, 'float32', 3);
      const noise = sampleNoise(config, w, 0.03, 11);
      const filters = shape[shape.length - 1];
      const wv = read(w);
      const nv = read(noise);
      for (let f = 0; f < filters; f++) {
        const column = (v: number[]) => Math.hypot(...v.filter((_, i) => i % filters === f));
        const expected = 0.03 * column(wv);
        assert.ok(Math.abs(column(nv) - expected) < 1e-6 * Math.max(1, expected), `filter ${f}: ${column(nv)} vs ${expected}`);
      }
      tf.dispose([w, noise]);
    }
  });

  it('a 1-D parameter gets a x |w| with a random sign per element, and a zero filter gets no noise', () => {
    const b = tf.tensor1d([0.5, -2, 0, 1.5, ...Array.from({ length: 28 }, (_, i) => (i % 3) - 1.25)]);
    const noise = read(sampleNoise(smoothing({ perFilter: true }), b, 0.1, 5));
    for (const [i, v] of noise.entries()) assert.ok(Math.abs(Math.abs(v) - 0.1 * Math.abs(read(b)[i])) < 1e-7);
    assert.ok(noise.some((v) => v < 0) && noise.some((v) => v > 0), 'both signs occur');
    const zero = tf.zeros([4, 3]);
    assert.ok(read(sampleNoise(smoothing({ perFilter: true }), zero, 0.1, 5)).every((v) => v === 0));
    tf.dispose([b, zero]);
  });
});

describe('parameters left unperturbed', () => {
  it("excluding 'bias' keeps the biases put and draws the kernels' noise as without exclusions; restore is bit-exact", () => {
    const model = createMlp([1, 1, 6], 3, [4], 1);
    const before = model.params.map(read);
    const moved = (exclude?: ('bias' | 'batch-norm')[]) => {
      const p = new WeightPerturbation(model.params, smoothing({ amplitude: 0.05, exclude }), 7, 3, 0, parameterKinds(model));
      const at = model.params.map(read);
      p.restore();
      return at;
    };
    const all = moved();
    const noBias = moved(['bias']);
    const kinds = parameterKinds(model);
    model.params.forEach((param, i) => {
      if (kinds.get(param) === 'bias') assert.deepEqual(noBias[i], before[i], 'bias unperturbed');
      else {
        assert.deepEqual(noBias[i], all[i], 'kernel noise unchanged by the exclusion');
        assert.notDeepEqual(noBias[i], before[i]);
      }
    });
    assert.deepEqual(model.params.map(read), before, 'restored bit-exactly');
    model.dispose();
  });
});

describe('SmoothOut configs', () => {
  it('per-filter together with relative scaling is refused; an unknown kind is refused at its path', () => {
    assert.throws(
      () => resolveTrainConfig({ optimizer: { name: 'smoothed-sgd', smoothing: { perFilter: true, relative: true } } }),
      /\/optimizer\/smoothing\/perFilter: per-filter scaling and relative \(\|w\|\) scaling are two ways to scale the noise; choose one/,
    );
    assert.throws(
      () => resolveTrainConfig({ optimizer: { name: 'smoothed-sgd', smoothing: { exclude: ['norms'] } } }),
      /\/optimizer\/smoothing\/exclude\/0: must be one of "bias", "batch-norm"/,
    );
  });
});
