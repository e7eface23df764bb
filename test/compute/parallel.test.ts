/**
 * The addon's loops on threads (native/parallel.c): max pooling and its gradient split by images give
 * the same bits at one OpenBLAS thread and at two, on a batch large enough to split, and find every
 * window's maximum. (The threaded convolution has its own tests: convChunks.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type ConvGeometry, nativeBlas, nativeBlasFound, nativeLoadError } from '../../src/compute/accel/native.js';
import { makeRng } from '../../src/util/rng.js';

const skip = nativeBlasFound || process.env.NGD_BENCH_REQUIRE_BLAS === '1' ? false : `native BLAS addon unavailable: ${nativeLoadError}`;
const threadsAtStart = nativeBlas?.info().numThreads ?? 1;
after(() => nativeBlas?.setNumThreads(threadsAtStart));

/** Values with the awkward cases (NaN, -0, infinities) sprinkled in. */
function values(seed: string, length: number): Float32Array {
  const rng = makeRng(seed);
  const special = [Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  return Float32Array.from({ length }, (_, i) => (i % 9973 === 5 ? special[i % special.length] : 4 * rng() - 2));
}

/** `run` with OpenBLAS at 1 thread and at 2: both results, for a bit-for-bit comparison. */
function atOneAndTwoThreads(run: () => Float32Array): [Float32Array, Float32Array] {
  const blas = nativeBlas!;
  try {
    blas.setNumThreads(1);
    const one = run();
    blas.setNumThreads(2);
    return [one, run()];
  } finally {
    blas.setNumThreads(threadsAtStart);
  }
}

function assertSameBits(got: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(got.length, expected.length, what);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    // NaN payloads may differ between C and JS; any NaN matches any NaN.
    if (a[i] !== b[i] && !(Number.isNaN(got[i]) && Number.isNaN(expected[i]))) {
      assert.fail(`${what}: element ${i} is ${got[i]}, expected ${expected[i]}`);
    }
  }
}

describe('native pooling on threads', { skip }, () => {
  it('max pooling and its gradient: the same bits at 1 and 2 threads, each window maximum found', () => {
    const blas = nativeBlas!;
    const [n, h, w, c] = [37, 28, 28, 32];
    const geometry: ConvGeometry = [n, h, w, c, 2, 2, 2, 2, 1, 1, 0, 0, 14, 14];
    const x = values('pool x', n * h * w * c);
    const dy = values('pool dy', n * 14 * 14 * c).map((v) => (Number.isFinite(v) ? v : 0.5));
    const [y1, y2] = atOneAndTwoThreads(() => {
      const y = new Float32Array(n * 14 * 14 * c);
      blas.maxPool(x, ...geometry, y);
      return y;
    });
    assertSameBits(y2, y1, 'maxPool, 2 threads vs 1');
    // Spot-check the last image (a thread's range end) against the window maxima in JS.
    const b = n - 1;
    for (let p = 0; p < 14 * 14 * c; p += 97) {
      const ch = p % c;
      const ox = Math.floor(p / c) % 14;
      const oy = Math.floor(p / (14 * c));
      let best = Number.NEGATIVE_INFINITY;
      for (let r = 0; r < 2; r++)
        for (let s = 0; s < 2; s++) {
          const v = x[((b * h + 2 * oy + r) * w + 2 * ox + s) * c + ch];
          if (v > best) best = v;
        }
      assert.equal(y1[b * 14 * 14 * c + p], Math.fround(best), `window maximum at image ${b}, output ${p}`);
    }
    const [dx1, dx2] = atOneAndTwoThreads(() => {
      const dx = new Float32Array(x.length);
      blas.maxPoolGrad(dy, x, ...geometry, dx);
      return dx;
    });
    assertSameBits(dx2, dx1, 'maxPoolGrad, 2 threads vs 1');
    let routed = 0;
    for (const v of dx1) if (v !== 0) routed++;
    assert.ok(routed > 0.9 * dy.length, `the gradient reaches the window maxima (${routed} of ${dy.length})`);
  });
});
