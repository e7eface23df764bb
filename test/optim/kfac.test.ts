/** K-FAC math against independent float64 references (explicit Kronecker products, dense solves, loops). */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createConv2d, createDense } from '../../src/models/layers.js';
import { choleskyInverse, FactorInversionError } from '../../src/compute/kernels/choleskyInverse.js';
import { KfacPreconditioner } from '../../src/optim/kfac/kfacPreconditioner.js';
import { activationFactor, gradientMatrix, splitGradientMatrix } from '../../src/optim/kfac/kroneckerFactors.js';
import { klClipScale } from '../../src/optim/kfac/klClip.js';
import { dampedInverses } from '../../src/optim/kfac/dampedInverse.js';
import { DivergenceError } from '../../src/optim/divergence.js';
import { dampFactorsInPlace, kron, maxAbs, maxAbsDiff, meanOuter, solve } from '../helpers/denseLinearAlgebra.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

before(usePlainCpu);

describe('dense K-FAC preconditioning', () => {
  it('equals ((A + pi sqrt(l) I) (x) (G + sqrt(l)/pi I))^-1 vec(dW) by an explicit Kronecker solve', async () => {
    const [n, fanIn, out, damping] = [7, 3, 2, 0.05];
    const layer = createDense('tiny', fanIn, out, 1);
    const a = tf.randomNormal([n, fanIn], 0, 1, 'float32', 2);
    const g = tf.randomNormal([n, out], 0, 0.3, 'float32', 3);
    const kfac = new KfacPreconditioner([layer], 0.9);
    kfac.updateFactors(new Map([['tiny', a]]), new Map([['tiny', g]]), n);
    await kfac.updateInverses(damping);
    const dW = tf.randomNormal([fanIn, out], 0, 1, 'float32', 4);
    const db = tf.randomNormal([out], 0, 1, 'float32', 5);
    const m = gradientMatrix(layer, dW, db);
    const preconditioned = kfac.precondition(layer, m).dataSync();

    // Reference: factors from their definition, pi from traces, then one dense solve of size 8.
    const rows = fanIn + 1;
    const aBar = new Float64Array(n * rows);
    const aData = a.dataSync();
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < fanIn; j++) aBar[i * rows + j] = aData[i * fanIn + j];
      aBar[i * rows + fanIn] = 1;
    }
    const A = meanOuter(aBar, n, rows);
    const perExample = Float64Array.from(g.dataSync(), (v) => v * n);
    const G = meanOuter(perExample, n, out);
    dampFactorsInPlace(A, rows, G, out, damping);
    // Row-major vec of M [rows, out]: vec(A^-1 M G^-1) = (A (x) G)^-1 vec(M) for symmetric G.
    const expected = solve(kron(A, rows, G, out), rows * out, Float64Array.from(m.dataSync()));
    const err = maxAbsDiff(preconditioned, expected);
    // float32 factors and products: relative tolerance 1e-4 of the largest entry.
    assert.ok(err <= 1e-4 * maxAbs(expected), `max abs error ${err} vs scale ${maxAbs(expected)}`);

    const back = splitGradientMatrix(layer, m);
    assert.deepEqual(back.kernel.dataSync(), dW.dataSync());
    assert.deepEqual(back.bias!.dataSync(), db.dataSync());
    kfac.dispose();
    tf.dispose([a, g, dW, db, m, back.kernel, back.bias!, layer.kernel, layer.bias!]);
  });
});

describe('dense K-FAC activation factor', () => {
  // n <= fanIn + 1 appends a ones column; n > fanIn + 1 assembles [[R^T R, R^T 1], [1^T R, n]] / n.
  for (const [n, fanIn] of [
    [3, 5],
    [9, 2],
  ]) {
    it(`equals mean a_bar a_bar^T (${n} rows, fan-in ${fanIn})`, () => {
      const layer = createDense('d', fanIn, 2, 1);
      const a = tf.randomNormal([n, fanIn], 0, 1, 'float32', 3);
      const factor = activationFactor(layer, a);
      const data = a.dataSync();
      const aBar: number[] = [];
      for (let i = 0; i < n; i++) aBar.push(...data.subarray(i * fanIn, (i + 1) * fanIn), 1);
      assert.ok(maxAbsDiff(factor.dataSync(), meanOuter(aBar, n, fanIn + 1)) < 1e-6);
      tf.dispose([a, factor, layer.kernel, layer.bias!]);
    });
  }
});

describe('conv K-FAC activation factor', () => {
  /** Explicit im2col: for each image, output position and (ki, kj, c), the zero-padded input pixel. */
  function im2colFactor(x: Float32Array, [n, h, w, c]: number[], k: number, stride: number, padding: 'same' | 'valid', bias: boolean) {
    const outH = padding === 'same' ? Math.ceil(h / stride) : Math.floor((h - k) / stride) + 1;
    const outW = padding === 'same' ? Math.ceil(w / stride) : Math.floor((w - k) / stride) + 1;
    const padTop = padding === 'same' ? Math.floor(Math.max((outH - 1) * stride + k - h, 0) / 2) : 0;
    const padLeft = padding === 'same' ? Math.floor(Math.max((outW - 1) * stride + k - w, 0) / 2) : 0;
    const cols = k * k * c + (bias ? 1 : 0);
    const rows: number[] = [];
    for (let b = 0; b < n; b++)
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0; ox < outW; ox++) {
          for (let ki = 0; ki < k; ki++)
            for (let kj = 0; kj < k; kj++)
              for (let ch = 0; ch < c; ch++) {
                const y = oy * stride + ki - padTop;
                const xx = ox * stride + kj - padLeft;
                rows.push(y >= 0 && y < h && xx >= 0 && xx < w ? x[((b * h + y) * w + xx) * c + ch] : 0);
              }
          if (bias) rows.push(1);
        }
    return meanOuter(rows, rows.length / cols, cols);
  }

  for (const [stride, padding, bias, size] of [
    [1, 'same', true, 5],
    [2, 'same', false, 6],
    [2, 'valid', true, 7],
  ] as const) {
    it(`matches an explicit im2col loop (3x3, stride ${stride}, ${padding}, bias ${bias}, ${size}x${size})`, () => {
      const shape = [2, size, size, 2];
      const x = tf.randomNormal(shape, 0, 1, 'float32', 7);
      const layer = createConv2d('c', { kernelSize: 3, inChannels: 2, filters: 4, stride, padding, bias }, 1);
      const factor = activationFactor(layer, x);
      const expected = im2colFactor(x.dataSync() as Float32Array, shape, 3, stride, padding, bias);
      assert.equal(factor.shape[0], 18 + (bias ? 1 : 0));
      assert.ok(maxAbsDiff(factor.dataSync(), expected) < 1e-5);
      tf.dispose([x, factor, layer.kernel, ...(layer.bias ? [layer.bias] : [])]);
    });
  }

  it('accumulated a chunk of images at a time (bounded memory) matches the im2col loop, and leaks nothing', () => {
    const shape = [5, 6, 6, 2];
    const x = tf.randomNormal(shape, 0, 1, 'float32', 9);
    for (const bias of [true, false]) {
      const layer = createConv2d('c', { kernelSize: 3, inChannels: 2, filters: 4, stride: 1, padding: 'same', bias }, 1);
      const expected = im2colFactor(x.dataSync() as Float32Array, shape, 3, 1, 'same', bias);
      const before = tf.memory().numTensors;
      // 36 positions x 18 patch values = 648 per image: chunks of 2, 2 and 1 images.
      const factor = activationFactor(layer, x, 2 * 648);
      assert.equal(tf.memory().numTensors, before + 1);
      assert.ok(maxAbsDiff(factor.dataSync(), expected) < 1e-5, `bias ${bias}`);
      // One chunk (the default budget here) is the unchunked computation itself.
      const whole = activationFactor(layer, x);
      assert.ok(maxAbsDiff(whole.dataSync(), expected) < 1e-5);
      tf.dispose([factor, whole, layer.kernel, ...(layer.bias ? [layer.bias] : [])]);
    }
    x.dispose();
  });
});

describe('choleskyInverse', () => {
  it('inverts an SPD matrix (A A^-1 = I)', () => {
    const n = 6;
    const b = Float64Array.from({ length: n * n }, (_, i) => Math.sin(i * 1.7));
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += b[i * n + k] * b[j * n + k];
    for (let i = 0; i < n; i++) a[i * n + i] += 0.1;
    const inv = choleskyInverse(a, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k] * inv[k * n + j];
        assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-9);
      }
  });

  it('reports the condition number when the matrix is not positive definite', () => {
    const a = Float64Array.from([1, 2, 2, 1]); // eigenvalues 3 and -1
    assert.throws(
      () => choleskyInverse(a, 2),
      (e: unknown) => e instanceof FactorInversionError && /condition number/.test((e as Error).message),
    );
  });
});

describe('klClipScale', () => {
  it('is 1 inside the trust region and sqrt(kappa / (lr^2 v.g)) outside', () => {
    assert.equal(klClipScale(1, 0.01, 1e-3), 1);
    assert.equal(klClipScale(100, 0.1, 1e-3), Math.sqrt(1e-3 / (0.01 * 100)));
    assert.equal(klClipScale(100, 0.1, null), 1);
    assert.equal(klClipScale(-1, 0.1, 1e-3), 1);
  });
});

describe('dampedInverses on a diverged factor', () => {
  it('a non-finite factor entry is a DivergenceError naming the factor and entry, before any inversion', () => {
    const a = [1, 0, 0, 1];
    const g = [2, 0, 0, Number.NaN];
    assert.throws(
      () => dampedInverses(a, 2, g, 2, 1e-3),
      (e: unknown) => e instanceof DivergenceError && /factor G \(2x2\).*\(1, 1\)/.test((e as Error).message),
    );
  });

  it('a run-away factor that loses positive definiteness (float32 rounding at 1e14) is a DivergenceError keeping the Cholesky message', () => {
    // Indefinite by 1e7 at a scale of 1e14: no damping of order 1e-3 can restore it.
    const a = [1e14, 1e14 + 1e7, 1e14 + 1e7, 1e14];
    const g = [1, 0, 0, 1];
    assert.throws(
      () => dampedInverses(a, 2, g, 2, 1e-3),
      (e: unknown) =>
        e instanceof DivergenceError &&
        /^K-FAC factor A \(2x2\) is not positive definite after damping: Cholesky failed .*condition number.*; training diverged$/.test(
          (e as Error).message,
        ),
    );
  });

  it('other errors of the inverse are not mistaken for divergence', () => {
    const broken = () => {
      throw new RangeError('bad dimensions');
    };
    assert.throws(() => dampedInverses([1, 0, 0, 1], 2, [1, 0, 0, 1], 2, 1e-3, broken), RangeError);
  });
});
