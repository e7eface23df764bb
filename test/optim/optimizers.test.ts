/** Optimizer behaviour: Fisher factors by hand, smoothing at the perturbed point, no tensor leaks. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import type { OptimizerName } from '../../src/config/trainConfig.js';
import { createCnn } from '../../src/models/cnn.js';
import { createMlp } from '../../src/models/mlp.js';
import type { Model } from '../../src/models/model.js';
import { createOptimizer } from '../../src/optim/createOptimizer.js';
import type { NaturalGradientOptimizer } from '../../src/optim/naturalGradient.js';
import type { Optimizer } from '../../src/optim/optimizer.js';
import { sampleLabels } from '../../src/optim/sampleLabels.js';
import { sampleNoise, smoothingAmplitude } from '../../src/optim/weightPerturbation.js';
import { PhaseTimer } from '../../src/util/phaseTimer.js';
import { deriveSeed } from '../../src/util/rng.js';
import { maxAbsDiff, meanOuter } from '../helpers/denseLinearAlgebra.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

before(usePlainCpu);

const OPTIMIZERS: OptimizerName[] = ['sgd', 'smoothed-sgd', 'ngd', 'smoothed-ngd'];

function optimizerConfig(name: OptimizerName, overrides: Record<string, unknown> = {}) {
  return resolveTrainConfig({ optimizer: { name, ...overrides } }).optimizer;
}

function batch(n: number, shape: [number, number, number], classes: number, seed: number) {
  return {
    x: tf.randomNormal([n, ...shape], 0, 1, 'float32', seed),
    y: tf.randomUniform([n], 0, classes, 'int32', seed + 1),
  };
}

/** Softmax of a linear model's logits, per example, in float64 (independent of tfjs). */
function softmaxRows(x: Float32Array, w: Float32Array, b: Float32Array, n: number, fanIn: number, classes: number): Float64Array {
  const p = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: classes }, (_, k) => {
      let s = b[k];
      for (let j = 0; j < fanIn; j++) s += x[i * fanIn + j] * w[j * classes + k];
      return s;
    });
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const total = e.reduce((s, v) => s + v, 0);
    e.forEach((v, k) => {
      p[i * classes + k] = v / total;
    });
  }
  return p;
}

describe('K-FAC factors on a fixed batch (softmax regression, one dense layer)', () => {
  const [n, fanIn, classes] = [16, 4, 3];

  async function setup(fisher: 'mc' | 'empirical') {
    const model = createMlp([1, 1, fanIn], classes, [], 11);
    const layer = model.kfacLayers[0];
    const opt = createOptimizer(optimizerConfig('ngd', { kfac: { fisher } }), model, 5) as NaturalGradientOptimizer;
    const b = batch(n, [1, 1, fanIn], classes, 21);
    const x = b.x.dataSync() as Float32Array;
    const p = softmaxRows(x, layer.kernel.dataSync() as Float32Array, layer.bias!.dataSync() as Float32Array, n, fanIn, classes);
    await opt.step(b, { step: 0, lr: 0.1, progress: 0, timer: new PhaseTimer() });
    const factors = opt.preconditioner.factorsOf(layer.name)!;
    const aBar: number[] = [];
    for (let i = 0; i < n; i++) aBar.push(...x.subarray(i * fanIn, (i + 1) * fanIn), 1);
    return { model, opt, b, p, factors, expectedA: meanOuter(aBar, n, fanIn + 1) };
  }

  it('empirical Fisher: A = mean a_bar a_bar^T, G = mean (p - onehot(y))(p - onehot(y))^T', async () => {
    const { model, opt, b, p, factors, expectedA } = await setup('empirical');
    const y = b.y.dataSync();
    const g: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < classes; k++) g.push(p[i * classes + k] - (y[i] === k ? 1 : 0));
    assert.ok(maxAbsDiff(factors.a.dataSync(), expectedA) < 1e-5);
    assert.ok(maxAbsDiff(factors.g.dataSync(), meanOuter(g, n, classes)) < 1e-5);
    opt.dispose();
    model.dispose();
    tf.dispose([b.x, b.y]);
  });

  it('MC Fisher: G uses labels sampled from the model, and averages to diag(p) - p p^T', async () => {
    const { model, opt, b, p, factors, expectedA } = await setup('mc');
    assert.ok(maxAbsDiff(factors.a.dataSync(), expectedA) < 1e-5);
    // The labels the optimizer drew: same sampler, same derived seed, logits of the same weights.
    const logits = tf.tensor2d(Array.from(p, Math.log), [n, classes]);
    const sampled = sampleLabels(logits, deriveSeed(5, 'mc-fisher', 0)).dataSync();
    const g: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < classes; k++) g.push(p[i * classes + k] - (sampled[i] === k ? 1 : 0));
    assert.ok(maxAbsDiff(factors.g.dataSync(), meanOuter(g, n, classes)) < 1e-5);
    tf.dispose([logits]);
    opt.dispose();
    model.dispose();
    tf.dispose([b.x, b.y]);

    // With many copies of one input, the MC estimate converges to diag(p) - p p^T.
    const copies = 4000;
    const model2 = createMlp([1, 1, fanIn], classes, [], 11);
    const opt2 = createOptimizer(optimizerConfig('ngd', { kfac: { fisher: 'mc' } }), model2, 9) as NaturalGradientOptimizer;
    const one = tf.randomNormal([1, 1, 1, fanIn], 0, 1, 'float32', 33);
    const x = tf.tile(one, [copies, 1, 1, 1]);
    const y = tf.zeros([copies], 'int32');
    const layer = model2.kfacLayers[0];
    const p1 = softmaxRows(
      one.dataSync() as Float32Array,
      layer.kernel.dataSync() as Float32Array,
      layer.bias!.dataSync() as Float32Array,
      1,
      fanIn,
      classes,
    );
    await opt2.step({ x, y }, { step: 0, lr: 0.1, progress: 0, timer: new PhaseTimer() });
    const g2 = opt2.preconditioner.factorsOf(layer.name)!.g.dataSync();
    const fisher = Array.from({ length: classes * classes }, (_, i) => {
      const [r, c] = [Math.floor(i / classes), i % classes];
      return (r === c ? p1[r] : 0) - p1[r] * p1[c];
    });
    // Monte Carlo error ~ 1/sqrt(4000) of entries of size <= 0.25.
    assert.ok(maxAbsDiff(g2, fisher) < 0.03, `MC G ${Array.from(g2)} vs Fisher ${fisher}`);
    opt2.dispose();
    model2.dispose();
    tf.dispose([one, x, y]);
  });
});

describe('smoothing', () => {
  for (const name of ['smoothed-sgd', 'smoothed-ngd'] as const) {
    it(`${name}: with lr 0 the weights come back bit-exactly`, async () => {
      const model = createMlp([2, 2, 1], 3, [5], 1);
      const opt = createOptimizer(optimizerConfig(name, { smoothing: { amplitude: 0.3 } }), model, 2);
      const before = model.params.map((p) => p.dataSync().slice());
      const b = batch(8, [2, 2, 1], 3, 4);
      for (let step = 0; step < 3; step++) await opt.step(b, { step, lr: 0, progress: step / 3, timer: new PhaseTimer() });
      model.params.forEach((p, i) => {
        assert.deepEqual(p.dataSync(), before[i]);
      });
      opt.dispose();
      model.dispose();
      tf.dispose([b.x, b.y]);
    });
  }

  it('smoothed-sgd takes the gradient at the perturbed point w + eps', async () => {
    const [n, fanIn, classes, seed, a] = [6, 3, 2, 17, 0.5];
    const model = createMlp([1, 1, fanIn], classes, [], 1);
    const config = optimizerConfig('smoothed-sgd', { momentum: 0, smoothing: { amplitude: a } });
    const opt = createOptimizer(config, model, seed);
    const b = batch(n, [1, 1, fanIn], classes, 8);
    const [kernel, bias] = model.params;
    const w = kernel.dataSync().slice() as Float32Array;
    const bb = bias.dataSync().slice() as Float32Array;
    const amp = smoothingAmplitude(config.smoothing!, 0);
    const epsW = sampleNoise(config.smoothing!, kernel, amp, deriveSeed(seed, 'smoothing', 0, 0));
    const epsB = sampleNoise(config.smoothing!, bias, amp, deriveSeed(seed, 'smoothing', 0, 1));
    const wp = Float32Array.from(w, (v, i) => v + epsW.dataSync()[i]);
    const bp = Float32Array.from(bb, (v, i) => v + epsB.dataSync()[i]);
    // Known gradient of mean cross-entropy of softmax regression: dW = X^T (P - Y) / n, db = mean(P - Y).
    const grad = (wv: Float32Array, bv: Float32Array) => {
      const x = b.x.dataSync() as Float32Array;
      const y = b.y.dataSync();
      const p = softmaxRows(x, wv, bv, n, fanIn, classes);
      const dW = new Float64Array(fanIn * classes);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < classes; k++) {
          const d = (p[i * classes + k] - (y[i] === k ? 1 : 0)) / n;
          for (let j = 0; j < fanIn; j++) dW[j * classes + k] += x[i * fanIn + j] * d;
        }
      return dW;
    };
    await opt.step(b, { step: 0, lr: 1, progress: 0, timer: new PhaseTimer() });
    const taken = Float64Array.from(kernel.dataSync(), (v, i) => w[i] - v); // lr 1, no momentum
    const atPerturbed = grad(wp, bp);
    const atOriginal = grad(w, bb);
    assert.ok(maxAbsDiff(taken, atPerturbed) < 1e-5, 'gradient equals the one at w + eps');
    assert.ok(maxAbsDiff(atPerturbed, atOriginal) > 1e-3, 'and differs from the one at w');
    opt.dispose();
    model.dispose();
    tf.dispose([b.x, b.y, epsW, epsB]);
  });
});

describe('no tensor leaks', () => {
  const models: [string, () => Model, [number, number, number]][] = [
    ['mlp', () => createMlp([4, 4, 1], 4, [8], 1), [4, 4, 1]],
    ['cnn', () => createCnn([8, 8, 1], 4, 1), [8, 8, 1]],
  ];
  for (const [modelName, make, shape] of models) {
    for (const name of OPTIMIZERS) {
      it(`${name} on ${modelName}: numTensors after step 10 equals after step 2`, async () => {
        const model = make();
        const kfac = name.endsWith('ngd') ? { kfac: { factorUpdateInterval: 2, inverseUpdateInterval: 3 } } : {};
        const opt: Optimizer = createOptimizer(optimizerConfig(name, { weightDecay: 1e-4, ...kfac }), model, 3);
        const b = batch(8, shape, 4, 5);
        const counts: number[] = [];
        for (let step = 0; step < 10; step++) {
          await opt.step(b, { step, lr: 0.01, progress: step / 10, timer: new PhaseTimer() });
          counts.push(tf.memory().numTensors);
        }
        assert.equal(counts[9], counts[1], `tensor counts per step: ${counts.join(',')}`);
        opt.dispose();
        model.dispose();
        tf.dispose([b.x, b.y]);
      });
    }
  }
});

describe('model lifetime', () => {
  for (const [name, make] of [
    ['mlp', () => createMlp([4, 4, 1], 4, [8], 1)],
    ['cnn', () => createCnn([8, 8, 1], 4, 1)],
  ] as const) {
    it(`${name}: creating and disposing a model leaves no tensor behind`, () => {
      const before = tf.memory().numTensors;
      make().dispose();
      assert.equal(tf.memory().numTensors, before);
    });
  }
});

describe('KL-clipping diagnostics', () => {
  async function runSteps(klClip: number | null, lr: number) {
    const model = createMlp([2, 2, 1], 3, [6], 1);
    const opt = createOptimizer(optimizerConfig('ngd', { kfac: { klClip } }), model, 4);
    const b = batch(16, [2, 2, 1], 3, 9);
    for (let step = 0; step < 3; step++) await opt.step(b, { step, lr, progress: 0, timer: new PhaseTimer() });
    const weights = model.params.map((p) => Array.from(p.dataSync()));
    const diagnostics = opt.diagnostics!();
    opt.dispose();
    model.dispose();
    tf.dispose([b.x, b.y]);
    return { weights, diagnostics };
  }

  it('without a clip no step is clipped', async () => {
    assert.deepEqual((await runSteps(null, 0.1)).diagnostics, { klClippedStepFraction: 0, meanKlScale: 1 });
  });

  it('a binding clip is reported, and makes the step independent of lr (sqrt(kappa / v.g) v)', async () => {
    const a = await runSteps(1e-9, 0.1);
    const b = await runSteps(1e-9, 0.05);
    assert.equal(a.diagnostics.klClippedStepFraction, 1);
    assert.ok(a.diagnostics.meanKlScale < 1);
    // Halving lr exactly doubles nu, so the weights agree to the bit.
    assert.deepEqual(b.weights, a.weights);
  });
});

describe('micro-batches (microBatchSize): the same step as whole batches, up to rounding', () => {
  const rows = 10;
  const microBatchSize = 4; // micro-batches of 4, 4 and 2 rows
  const shape: [number, number, number] = [6, 6, 1];

  /** One step of `name` on a fresh cnn (seed 7), whole or in micro-batches; every passes' row count is recorded. */
  async function stepOnce(name: OptimizerName, micro: number | undefined) {
    const model = createCnn(shape, 3, 7);
    const passRows: number[] = [];
    const apply = model.apply.bind(model);
    model.apply = (x, options) => {
      passRows.push(x.shape[0]);
      return apply(x, options);
    };
    const opt = createOptimizer(optimizerConfig(name), model, 5);
    const b = batch(rows, shape, 3, 41);
    const before = tf.memory().numTensors;
    const loss = await opt.step(b, { step: 0, lr: 0.1, progress: 0, timer: new PhaseTimer(), microBatchSize: micro });
    const kept = tf.memory().numTensors - before;
    const weights = model.params.map((p) => p.dataSync() as Float32Array);
    const g = name === 'ngd' ? model.kfacLayers.map((l) => (opt as NaturalGradientOptimizer).preconditioner.factorsOf(l.name)!) : [];
    const factors = g.map((f) => ({ a: f.a.dataSync() as Float32Array, g: f.g.dataSync() as Float32Array }));
    opt.dispose();
    model.dispose();
    tf.dispose([b.x, b.y]);
    return { loss, weights, factors, passRows, kept };
  }

  /** Relative to the largest entry; K-FAC's inverses amplify the summation order's rounding, hence 1e-4 for its update. */
  const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tolerance = 1e-5) => {
    const scale = Array.from(b).reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
    assert.ok(maxAbsDiff(a, b) <= tolerance * scale, `${what}: differs by ${maxAbsDiff(a, b)} (scale ${scale})`);
  };

  for (const name of ['sgd', 'ngd'] as const) {
    it(`${name}: loss, updated weights${name === 'ngd' ? ', K-FAC factors A and G (MC pass in micro-batches too)' : ''}; no leaks`, async () => {
      const whole = await stepOnce(name, undefined);
      const micro = await stepOnce(name, microBatchSize);
      assert.deepEqual(whole.passRows, name === 'ngd' ? [rows, rows] : [rows]);
      assert.deepEqual(micro.passRows, name === 'ngd' ? [4, 4, 2, 4, 4, 2] : [4, 4, 2], 'every pass in micro-batches');
      assert.ok(Math.abs(micro.loss - whole.loss) <= 1e-6 * Math.abs(whole.loss), `loss ${micro.loss} vs ${whole.loss}`);
      whole.weights.forEach((w, i) => {
        close(micro.weights[i], w, `parameter ${i}`, name === 'ngd' ? 1e-4 : 1e-5);
      });
      whole.factors.forEach((f, i) => {
        close(micro.factors[i].a, f.a, `layer ${i} A`);
        close(micro.factors[i].g, f.g, `layer ${i} G`);
      });
      assert.equal(micro.kept, whole.kept, 'micro-batches keep no more tensors than a whole pass');
    });
  }
});
