/**
 * kfac.lowRankGradient: a dense layer's gradient preconditioned from its rows, (a A^-1)^T (g G^-1),
 * against the explicit Kronecker solve and against the dense path, step for step.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { lowRankGradientProblem } from '../../src/config/batchSplits.js';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import type { OptimizerName } from '../../src/config/trainConfig.js';
import { createCnn } from '../../src/models/cnn.js';
import { createConv2d, createDense } from '../../src/models/layers.js';
import { createOptimizer } from '../../src/optim/createOptimizer.js';
import { KfacPreconditioner, lowRankIsCheaper } from '../../src/optim/kfac/kfacPreconditioner.js';
import { designRows, gradientMatrix } from '../../src/optim/kfac/kroneckerFactors.js';
import { ValidationError } from '../../src/config/validate.js';
import { PhaseTimer } from '../../src/util/phaseTimer.js';
import { dampFactorsInPlace, kron, maxAbs, maxAbsDiff, meanOuter, solve } from '../helpers/denseLinearAlgebra.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

before(usePlainCpu);

const SHAPE: [number, number, number] = [8, 8, 1];

describe('lowRankIsCheaper', () => {
  it('counts 2n(aDim² + gDim² + aDim·gDim) against 2 aDim·gDim (aDim + gDim) FLOPs', () => {
    // fmnist_2c2d's dense layer (3,137 x 1,024): break-even at n = 3137·1024·4161 / 14,101,633 ≈ 947.86.
    assert.equal(lowRankIsCheaper(128, 3137, 1024), true);
    assert.equal(lowRankIsCheaper(947, 3137, 1024), true);
    assert.equal(lowRankIsCheaper(948, 3137, 1024), false);
    // The mlp's first layer (785 x 256) at b1024 and its output layer (257 x 10) at b128: never.
    assert.equal(lowRankIsCheaper(1024, 785, 256), false);
    assert.equal(lowRankIsCheaper(128, 257, 10), false);
  });
});

describe('preconditionRows', () => {
  it('equals the explicit Kronecker solve of vec(a_bar^T g), and the dense path up to rounding', async () => {
    const [n, fanIn, out, damping] = [5, 9, 6, 0.03];
    const layer = createDense('wide', fanIn, out, 1);
    const a = tf.randomNormal([n, fanIn], 0, 1, 'float32', 12);
    const g = tf.randomNormal([n, out], 0, 0.2, 'float32', 13);
    const kfac = new KfacPreconditioner([layer], 0.9);
    // Factors from another batch, so the rows being preconditioned are not the factors' own.
    const a0 = tf.randomNormal([20, fanIn], 0, 1, 'float32', 14);
    const g0 = tf.randomNormal([20, out], 0, 0.2, 'float32', 15);
    kfac.updateFactors(new Map([['wide', a0]]), new Map([['wide', g0]]), 20);
    await kfac.updateInverses(damping);
    const rows = { a: designRows(layer, a), g: g as tf.Tensor2D };
    const parts = kfac.preconditionRows(layer, rows);
    assert.deepEqual(parts.kernel.shape, [fanIn, out]);
    assert.deepEqual(parts.bias?.shape, [out]);
    const fromRows = gradientMatrix(layer, parts.kernel, parts.bias);
    const dW = tf.matMul(rows.a, rows.g, true, false);
    const fromMatrix = kfac.precondition(layer, dW);

    // Reference in float64: the damped factors from their definition, one dense solve of size 60.
    const dims = fanIn + 1;
    const withOnes = (x: Float32Array, count: number) => {
      const out64 = new Float64Array(count * dims);
      for (let i = 0; i < count; i++) {
        for (let j = 0; j < fanIn; j++) out64[i * dims + j] = x[i * fanIn + j];
        out64[i * dims + fanIn] = 1;
      }
      return out64;
    };
    const A = meanOuter(withOnes(a0.dataSync() as Float32Array, 20), 20, dims);
    const G = meanOuter(
      Float64Array.from(g0.dataSync(), (v) => v * 20),
      20,
      out,
    );
    dampFactorsInPlace(A, dims, G, out, damping);
    const aBar = withOnes(a.dataSync() as Float32Array, n);
    const gData = g.dataSync();
    const gradient = new Float64Array(dims * out);
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < dims; i++) for (let j = 0; j < out; j++) gradient[i * out + j] += aBar[r * dims + i] * gData[r * out + j];
    }
    const expected = solve(kron(A, dims, G, out), dims * out, gradient);
    const scale = maxAbs(expected);
    assert.ok(maxAbsDiff(fromRows.dataSync(), expected) <= 1e-4 * scale, `rows: ${maxAbsDiff(fromRows.dataSync(), expected)} of ${scale}`);
    assert.ok(maxAbsDiff(fromRows.dataSync(), fromMatrix.dataSync()) <= 1e-5 * scale, 'rows against the dense path');
    kfac.dispose();
    tf.dispose([a, g, a0, g0, rows.a, parts.kernel, parts.bias!, fromRows, dW, fromMatrix, layer.kernel, layer.bias!]);
  });

  it('refuses a conv layer: its rows are every patch of the batch', () => {
    const conv = createConv2d('c', { kernelSize: 3, inChannels: 1, filters: 2 }, 1);
    const input = tf.zeros([2, 8, 8, 1]);
    assert.throws(() => designRows(conv, input), /conv layer c would materialize every patch/);
    tf.dispose([input, conv.kernel, conv.bias!]);
  });
});

describe('ngd with lowRankGradient: the dense path step for step, up to rounding', () => {
  const rows = 8; // the cnn's dense1 (257 x 128) is cheaper from 8 rows; dense2 (129 x 3) is not

  /** 7 steps (factors every 2, inverses every 3) of a fresh cnn on one fixed batch. */
  async function train(
    name: OptimizerName,
    lowRank: boolean,
    kfac: Record<string, unknown>,
    extra: Record<string, unknown>,
    micro?: number,
  ) {
    const model = createCnn(SHAPE, 3, 21);
    const settings = { factorUpdateInterval: 2, inverseUpdateInterval: 3, ...kfac, ...(lowRank ? { lowRankGradient: true } : {}) };
    const config = resolveTrainConfig({ optimizer: { name, kfac: settings, momentum: 0.9, ...extra } }).optimizer;
    const opt = createOptimizer(config, model, 4);
    const b = { x: tf.randomNormal([rows, ...SHAPE], 0, 1, 'float32', 31), y: tf.randomUniform([rows], 0, 3, 'int32', 32) };
    const counts: number[] = [];
    const losses: number[] = [];
    for (let step = 0; step < 7; step++) {
      losses.push(await opt.step(b, { step, lr: 0.05, progress: step / 7, timer: new PhaseTimer(), microBatchSize: micro }));
      counts.push(tf.memory().numTensors);
    }
    const weights = model.params.map((p) => p.dataSync() as Float32Array);
    const diagnostics = opt.diagnostics!();
    opt.dispose();
    model.dispose();
    tf.dispose([b.x, b.y]);
    return { weights, losses, counts, diagnostics };
  }

  const cases: [string, OptimizerName, Record<string, unknown>, Record<string, unknown>, number | undefined][] = [
    ['ngd', 'ngd', {}, {}, undefined],
    ['ngd, empirical Fisher', 'ngd', { fisher: 'empirical' }, {}, undefined],
    ['smoothed-ngd', 'smoothed-ngd', {}, {}, undefined],
    ['sam-ngd', 'sam-ngd', {}, {}, undefined],
    ['ngd in micro-batches of 3', 'ngd', {}, {}, 3],
    ['ngd, decay after preconditioning', 'ngd', {}, { weightDecay: 1e-3, weightDecayMode: 'after-preconditioning' }, undefined],
  ];
  for (const [what, name, kfac, extra, micro] of cases) {
    it(`${what}: losses and weights within 1e-4, dense1 alone from rows, no leaks`, async () => {
      const dense = await train(name, false, kfac, extra, micro);
      const lowRank = await train(name, true, kfac, extra, micro);
      assert.equal(lowRank.diagnostics.lowRankLayerFraction, 1 / 4, "one of the cnn's four K-FAC layers, every step");
      assert.equal('lowRankLayerFraction' in dense.diagnostics, false, 'results without the option keep their form');
      lowRank.losses.forEach((l, i) => {
        assert.ok(Math.abs(l - dense.losses[i]) <= 1e-4 * Math.abs(dense.losses[i]), `loss at step ${i}: ${l} vs ${dense.losses[i]}`);
      });
      dense.weights.forEach((w, i) => {
        const scale = maxAbs(w);
        assert.ok(maxAbsDiff(lowRank.weights[i], w) <= 1e-4 * scale, `parameter ${i}: ${maxAbsDiff(lowRank.weights[i], w)} of ${scale}`);
      });
      assert.equal(lowRank.counts[6], lowRank.counts[1], `tensor counts per step: ${lowRank.counts.join(',')}`);
    });
  }
});

describe('lowRankGradient: what it cannot run with', () => {
  const config = (optimizer: Record<string, unknown>) => () => resolveTrainConfig({ optimizer });
  it('ghost batches: refused at /optimizer/kfac/lowRankGradient', () => {
    assert.throws(
      config({ name: 'smoothed-ngd', kfac: { lowRankGradient: true }, smoothing: { ghostBatchSize: 16 } }),
      (e: unknown) => e instanceof ValidationError && /\/optimizer\/kfac\/lowRankGradient: ghost batches/.test(e.message),
    );
  });
  for (const mode of ['l2', 'preconditioned-objective']) {
    it(`weight decay placed '${mode}': refused (the gradient's wd·w is not of rank n)`, () => {
      assert.throws(
        config({ name: 'ngd', kfac: { lowRankGradient: true }, weightDecay: 5e-4, weightDecayMode: mode }),
        (e: unknown) => e instanceof ValidationError && new RegExp(`placed '${mode}' adds wd·w`).test(e.message),
      );
    });
  }
  it('decay 0 under any placement, or placed after preconditioning: accepted', () => {
    assert.doesNotThrow(config({ name: 'ngd', kfac: { lowRankGradient: true }, weightDecay: 0, weightDecayMode: 'l2' }));
    assert.doesNotThrow(config({ name: 'ngd', kfac: { lowRankGradient: true }, weightDecay: 5e-4, weightDecayMode: 'decoupled' }));
  });
  it('more than one worker: a problem naming the worker count; one worker or no option: none', () => {
    const on = resolveTrainConfig({ optimizer: { name: 'ngd', kfac: { lowRankGradient: true } } });
    const off = resolveTrainConfig({ optimizer: { name: 'ngd' } });
    assert.match(lowRankGradientProblem(on, 4) ?? '', /4 workers each hold a share; use 1 worker or drop lowRankGradient/);
    assert.equal(lowRankGradientProblem(on, 1), null);
    assert.equal(lowRankGradientProblem(off, 4), null);
  });
  it('a 2-replica group: the optimizer refuses too', () => {
    const model = createCnn(SHAPE, 3, 2);
    const config = resolveTrainConfig({ optimizer: { name: 'ngd', kfac: { lowRankGradient: true } } }).optimizer;
    const replicas = { rank: 0, worldSize: 2, allreduceMean: async <T>(d: T) => d, allreduceSum: async <T>(d: T) => d };
    assert.throws(() => createOptimizer(config, model, 1, undefined, replicas), /not 2 replicas/);
    model.dispose();
  });
});
