/**
 * The BLAS kernels' output pool: arrays of disposed outputs come back zeroed for the next output of
 * their size, and an array anything outside the backend can see (read out, or aliased by a view) never
 * does. On the real cpu backend with the BLAS kernels.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { disableBlasKernels, enableBlasKernels } from '../../src/compute/accel/index.js';
import { nativeBlasFound, nativeLoadError } from '../../src/compute/accel/native.js';
import { outputPool } from '../../src/compute/accel/outputPool.js';
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
});
