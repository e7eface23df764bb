/**
 * The BLAS kernels' output pool: arrays of disposed outputs come back zeroed for the next output of
 * their size, and an array anything outside the backend can see (read out, or aliased by a view) never
 * does; the bound on free arrays gives way to the sizes in use, and whatever it holds, training is
 * bit for bit the same. On the real cpu backend with the BLAS kernels.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { disableBlasKernels, enableBlasKernels } from '../../src/compute/accel/index.js';
import { nativeBlasFound, nativeLoadError } from '../../src/compute/accel/native.js';
import { outputPool } from '../../src/compute/accel/outputPool.js';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { createModel } from '../../src/models/createModel.js';
import { createOptimizer } from '../../src/optim/createOptimizer.js';
import { PhaseTimer } from '../../src/util/phaseTimer.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

const skip = nativeBlasFound || process.env.NGD_BENCH_REQUIRE_BLAS === '1' ? false : `native BLAS addon unavailable: ${nativeLoadError}`;
const N = 1 << 17; // above the pool's minimum size

before(async () => {
  await usePlainCpu();
  if (!skip) assert.ok(enableBlasKernels().enabled);
});
after(() => disableBlasKernels());

describe('outputPool', { skip }, () => {
  it('an unread output, once disposed, is handed out again (zeroed: the next result is right)', () => {
    outputPool.clear();
    const x = tf.linspace(-1, 1, N);
    tf.relu(x).dispose(); // Relu's output: stored, never read, disposed
    assert.equal(outputPool.freeArrays, 1);
    const y = tf.step(x); // takes the recycled array
    assert.equal(outputPool.freeArrays, 0);
    const expected = Array.from(x.dataSync(), (v) => (v > 0 ? 1 : 0));
    assert.deepEqual(Array.from(y.dataSync()), expected);
    tf.dispose([x, y]);
  });

  it('an output read out by dataSync keeps its values after it is disposed and more outputs are made', () => {
    outputPool.clear();
    const x = tf.linspace(-1, 1, N);
    const y = tf.relu(x);
    const values = y.dataSync(); // tfjs hands out the backing array itself
    const copy = Float32Array.from(values);
    y.dispose();
    assert.equal(outputPool.freeArrays, 0, 'a read-out array is never recycled');
    const others = [tf.step(x), tf.relu(tf.neg(x)), tf.mul(x, x)];
    assert.deepEqual(values, copy);
    tf.dispose([x, ...others]);
  });

  it('an output aliased by a slice view is never recycled while the view can outlive it', () => {
    outputPool.clear();
    const x = tf.linspace(-1, 1, N);
    const y = tf.relu(x);
    const view = tf.slice(y, [N / 2], [N / 4]); // contiguous: tfjs returns a subarray of y's array
    y.dispose();
    assert.equal(outputPool.freeArrays, 0);
    const others = [tf.step(x), tf.mul(x, x)];
    const expected = Array.from(x.dataSync().subarray(N / 2, (3 * N) / 4), (v) => Math.max(0, v));
    assert.deepEqual(Array.from(view.dataSync()), expected);
    tf.dispose([x, view, ...others]);
  });

  it('an output kept under a second tensor (clone) is recycled only when the last one goes', () => {
    outputPool.clear();
    const x = tf.linspace(-1, 1, N);
    const y = tf.relu(x);
    const z = y.clone(); // shares y's data (a reference count)
    y.dispose();
    assert.equal(outputPool.freeArrays, 0);
    z.dispose();
    assert.equal(outputPool.freeArrays, 1);
    x.dispose();
  });

  /** Relu outputs of `length` elements made and disposed unread `times` times. */
  const churn = (length: number, times: number) => {
    const x = tf.ones([length]);
    for (let i = 0; i < times; i++) tf.relu(x).dispose();
    x.dispose();
  };
  /** Free arrays one more output of `length` elements finds waiting (1: it takes a recycled one). */
  const recycledFor = (length: number) => {
    const before = outputPool.freeArrays;
    const x = tf.ones([length]);
    const y = tf.relu(x);
    const found = before - outputPool.freeArrays;
    tf.dispose([x, y]);
    return found;
  };

  it('a full pool makes room for a size in use by dropping a size nobody has asked for lately', () => {
    outputPool.clear();
    const previous = outputPool.limitFreeBytes(3 * 4 * N);
    try {
      const held = [0, 1, 2].map(() => tf.relu(tf.ones([N])));
      tf.dispose(held); // three free arrays of N: the pool is full
      assert.equal(outputPool.freeArrays, 3);
      churn(N + 1, 1);
      assert.equal(recycledFor(N + 1), 0, 'N was asked for just now: nothing is evicted for N + 1');
      churn(N + 1, 6); // over twice the bound handed out since anyone asked for N
      assert.equal(recycledFor(N + 1), 1, 'N is stale now: an array of N + 1 was kept');
      assert.ok(outputPool.freeArrays <= 3);
    } finally {
      outputPool.limitFreeBytes(previous);
    }
  });

  it('arrays in use are never evicted for one another: a working set over the bound keeps part of it warm', () => {
    outputPool.clear();
    const previous = outputPool.limitFreeBytes(2 * 4 * N);
    try {
      for (let round = 0; round < 5; round++) {
        const live = [0, 1, 2].map(() => tf.relu(tf.ones([N])));
        tf.dispose(live);
        assert.equal(outputPool.freeArrays, 2, `round ${round}`);
      }
      const lowered = outputPool.limitFreeBytes(4 * N);
      assert.equal(lowered, 2 * 4 * N);
      assert.equal(outputPool.freeArrays, 1, 'lowering the bound evicts what no longer fits');
    } finally {
      outputPool.limitFreeBytes(previous);
    }
  });

  it('training is bit for bit the same with no pool, a small one and the default, across batch sizes', async () => {
    const weightsAfterSteps = async (bound: number) => {
      outputPool.clear();
      const previous = outputPool.limitFreeBytes(bound);
      try {
        const config = resolveTrainConfig({ model: { name: 'cnn' }, optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 } });
        const model = createModel(config.model, [28, 28, 1], 10, 0);
        const optimizer = createOptimizer(config.optimizer, model, 0);
        for (const [step, batch] of [16, 24, 16, 24, 16].entries()) {
          const x = tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', step + 1); // seed 0 means unseeded in tfjs
          const y = tf.randomUniform([batch], 0, 10, 'int32', step + 1);
          await optimizer.step({ x, y }, { step, lr: 0.05, progress: 0, timer: new PhaseTimer() });
          tf.tidy(() => model.apply(tf.randomNormal([40, 28, 28, 1], 0, 1, 'float32', 99), { training: false })).dispose();
          tf.dispose([x, y]);
        }
        const weights = model.params.map((p) => Float32Array.from(p.dataSync()));
        optimizer.dispose?.();
        tf.dispose(model.params as tf.Variable[]);
        return weights;
      } finally {
        outputPool.limitFreeBytes(previous);
      }
    };
    const reference = await weightsAfterSteps(0);
    for (const bound of [3 * 4 * N, Number.POSITIVE_INFINITY]) {
      const weights = await weightsAfterSteps(bound);
      for (const [i, w] of weights.entries()) {
        assert.ok(Buffer.from(w.buffer).equals(Buffer.from(reference[i].buffer)), `bound ${bound}: parameter ${i} differs`);
      }
    }
  });
});
