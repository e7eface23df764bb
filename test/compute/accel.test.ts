/**
 * The BLAS kernels (src/compute/accel) against the plain tfjs CPU kernels they replace, on seeded random
 * shapes; gradients through them against central differences; the LAPACK helpers against
 * independent math. Skipped, with the reason, when the native addon is not built.
 *
 * Tolerance for float32 sums: |ours - plain| <= 1e-4 * s + 1e-6 per element, where s is the same
 * op applied to the absolute values of the inputs (the classic bound for a float32 dot product is
 * k * 2^-24 * s; both sides round differently, and 1e-4 covers k up to ~800 in the worst case and
 * far more in practice). Max pooling only compares and copies: it must match exactly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { getKernel } from '@tensorflow/tfjs-core';
import { blasStatus, disableBlasKernels, enableBlasKernels, nativeBlas } from '../../src/compute/accel/index.js';
import { BlasUnavailableError, symmetricEigen64, symmetricInverse64 } from '../../src/compute/accel/linalg64.js';
import { nativeBlasFound, nativeLoadError } from '../../src/compute/accel/native.js';
import { choleskyInverse, FactorInversionError } from '../../src/compute/kernels/choleskyInverse.js';
import { MOMENTUM_STEP_KERNEL } from '../../src/compute/kernels/momentumStep.js';
import { RELU_BACKPROP_KERNEL } from '../../src/compute/kernels/reluBackprop.js';
import { composedPatches, extractPatches } from '../../src/optim/kfac/patches.js';
import { makeRng } from '../../src/util/rng.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

// Skipped only when the addon was never built (and NGD_BENCH_REQUIRE_BLAS is not 1): a built addon
// that does not load, or kernels that cannot be enabled, fail.
const skip = nativeBlasFound || process.env.NGD_BENCH_REQUIRE_BLAS === '1' ? false : `native BLAS addon unavailable: ${nativeLoadError}`;
const RTOL = 1e-4;
const ATOL = 1e-6;

type T = tf.Tensor;

before(async () => {
  await usePlainCpu();
});
after(() => disableBlasKernels());

function enable(): void {
  const status = enableBlasKernels();
  assert.ok(status.enabled, `enableBlasKernels failed: ${status.enabled ? '' : status.reason}`);
}

/** Runs `f` on the plain kernels and on ours; returns both outputs' data (and shapes). */
function plainAndAccelerated(f: () => T): {
  ref: { shape: number[]; data: Float32Array | Int32Array | Uint8Array };
  got: { shape: number[]; data: Float32Array | Int32Array | Uint8Array };
} {
  const run = () => {
    const t = tf.tidy(f);
    const out = { shape: t.shape.slice(), data: t.dataSync().slice() as Float32Array };
    t.dispose();
    return out;
  };
  disableBlasKernels();
  const ref = run();
  enable();
  const got = run();
  return { ref, got };
}

/** Plain-kernel value of `f` (used for the |inputs| scale). */
function plain(f: () => T): Float32Array {
  disableBlasKernels();
  const t = tf.tidy(f);
  const data = t.dataSync().slice() as Float32Array;
  t.dispose();
  return data;
}

function assertClose(label: string, got: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number> | number): void {
  assert.equal(got.length, ref.length, `${label}: length`);
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i];
    const g = got[i];
    if (Number.isNaN(r) && Number.isNaN(g)) continue;
    const s = typeof scale === 'number' ? scale : Math.abs(scale[i]);
    const tol = RTOL * s + ATOL;
    if (!(Math.abs(g - r) <= tol))
      assert.fail(`${label}: element ${i}: got ${g}, plain tfjs ${r} (|diff| ${Math.abs(g - r)} > tol ${tol})`);
  }
}

/** Compares a bilinear op on ours vs plain, with the |inputs| scale. `op` gets its inputs as args. */
function checkBilinear(label: string, inputs: T[], op: (...xs: T[]) => T): void {
  const { ref, got } = plainAndAccelerated(() => op(...inputs));
  assert.deepEqual(got.shape, ref.shape, `${label}: shape`);
  const scale = plain(() => op(...inputs.map((x) => tf.abs(x))));
  assertClose(label, got.data, ref.data, scale);
}

function rand(shape: number[], seed: number): T {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

describe('accel: status and registry', { skip }, () => {
  it('enables idempotently, lists the kernels, names the library; disable restores the original kernels', () => {
    assert.ok(nativeBlas, `the addon does not load: ${nativeLoadError}`);
    disableBlasKernels();
    const original = getKernel('BatchMatMul', 'cpu').kernelFunc;
    const first = enableBlasKernels();
    assert.ok(first.enabled, JSON.stringify(first));
    assert.match(first.library, /^openblas \d+\.\d+/);
    for (const k of [
      'BatchMatMul',
      '_FusedMatMul',
      'Conv2D',
      'Conv2DBackpropInput',
      'Conv2DBackpropFilter',
      'FusedConv2D',
      'MaxPool',
      'MaxPoolGrad',
      'Add',
      'Sub',
      'Multiply',
      'Relu',
      'Step',
      'Sum',
      'Concat',
    ]) {
      assert.ok(first.kernels.includes(k), `kernel ${k} replaced`);
    }
    assert.notEqual(getKernel('BatchMatMul', 'cpu').kernelFunc, original);
    assert.deepEqual(enableBlasKernels(), first);
    assert.deepEqual(blasStatus(), first);
    disableBlasKernels();
    assert.equal(getKernel('BatchMatMul', 'cpu').kernelFunc, original);
    assert.equal(blasStatus().enabled, false);
    disableBlasKernels(); // idempotent too
    assert.equal(getKernel('BatchMatMul', 'cpu').kernelFunc, original);
  });

  it('the raw addon bounds-checks its arguments instead of touching memory it was not given', () => {
    const blas = nativeBlas!;
    const a = new Float32Array(12);
    assert.throws(() => blas.sgemm(false, false, 4, 4, 3, 1, a, 3, new Float32Array(12), 4, 0, new Float32Array(15), 4), RangeError);
    assert.throws(() => blas.sgemm(false, false, 4, 4, 3, 1, a, 3, new Float32Array(11), 4, 0, new Float32Array(16), 4), RangeError);
    assert.throws(
      () => blas.sgemm(false, false, 4, 4, 3, 1, new Float64Array(12) as never, 3, new Float32Array(12), 4, 0, new Float32Array(16), 4),
      TypeError,
    );
    assert.throws(() => blas.sgemm(false, false, 4, 4, 3, 1, a, 2, new Float32Array(12), 4, 0, new Float32Array(16), 4), RangeError);
    assert.throws(() => blas.im2col(a, 1, 2, 2, 3, 1, 1, 1, 1, 1, 1, 0, 0, 2, 2, new Float32Array(11)), RangeError);
    assert.throws(() => blas.im2col(a, 2 ** 30, 2 ** 30, 2 ** 30, 2 ** 30, 1, 1, 1, 1, 1, 1, 0, 0, 2 ** 30, 2 ** 30, a), RangeError); // no overflow
    assert.throws(() => blas.sgemm(false, false, 1, 1, 1, 1, a, 1, a, 1, 0, a, 1, 2 ** 52, 2 ** 40, 0, 1), RangeError);
    assert.throws(() => blas.spdInverse(new Float64Array(3), 2), RangeError);
    const [w, v, d] = [new Float32Array(8), new Float32Array(8), new Float32Array(8)];
    assert.throws(() => blas.momentumStep(w, v, new Float32Array(7), 0.9, 0.1, new Float32Array(8), new Float32Array(8)), RangeError);
    assert.throws(() => blas.momentumStep(w, v, d, 0.9, 0.1, new Float32Array(8), new Float32Array(7)), RangeError);
    assert.throws(() => blas.binary(4 as never, w, v, d), /unknown op/);
    const c = new Float32Array(16);
    blas.sgemm(
      false,
      false,
      4,
      4,
      3,
      1,
      Float32Array.from({ length: 12 }, (_, i) => i),
      3,
      Float32Array.from({ length: 12 }, (_, i) => i % 5),
      4,
      0,
      c,
      4,
    );
    assert.equal(c[0], 0 * 0 + 1 * 4 + 2 * 3); // row 0 of A = [0,1,2], column 0 of B = [0,4,3]
  });
});

describe('accel: BatchMatMul', { skip }, () => {
  const rng = makeRng('accel-matmul');
  const pick = <V>(xs: readonly V[]): V => xs[Math.floor(rng() * xs.length)];
  const sizes = [1, 3, 17, 33, 64, 5, 100];

  it('matches plain tfjs on random shapes with every transpose combination', () => {
    let seed = 1;
    for (let trial = 0; trial < 24; trial++) {
      const [m, k, n] = [pick(sizes), pick(sizes), pick(sizes)];
      const ta = trial % 2 === 1;
      const tb = Math.floor(trial / 2) % 2 === 1;
      const a = rand(ta ? [k, m] : [m, k], seed++);
      const b = rand(tb ? [n, k] : [k, n], seed++);
      checkBilinear(`matMul ${m}x${k}x${n} tA=${ta} tB=${tb}`, [a, b], (x, y) => tf.matMul(x, y, ta, tb));
    }
  });

  it('broadcasts batch dims like numpy (tiled reference), including batch 1 against batch n', () => {
    const cases: Array<[number[], number[]]> = [
      [[3], [3]],
      [[2, 3], [3]],
      [[3], [2, 3]],
      [[1], [4]],
      [[4], [1]],
      [[5], []],
      [[], [5]],
      [
        [2, 1],
        [1, 3],
      ],
      [
        [2, 1, 4],
        [3, 1],
      ],
    ];
    let seed = 100;
    for (const [ba, bb] of cases) {
      for (const [ta, tb] of [
        [false, false],
        [true, true],
        [false, true],
      ] as const) {
        const [m, k, n] = [pick(sizes), pick(sizes), pick(sizes)];
        const a = rand([...ba, ...(ta ? [k, m] : [m, k])], seed++);
        const b = rand([...bb, ...(tb ? [n, k] : [k, n])], seed++);
        const outBatch = tf.broadcastTo(tf.zeros([...ba, 1, 1]), [...broadcast(ba, bb), 1, 1]).shape.slice(0, -2);
        const tile = (x: T, batch: number[]) => tf.broadcastTo(x, [...outBatch, ...x.shape.slice(batch.length)]);
        // Reference: plain tfjs on inputs tiled to the full batch shape (no broadcasting needed).
        const refData = plain(() => tf.matMul(tile(a, ba), tile(b, bb), ta, tb));
        const scale = plain(() => tf.matMul(tile(tf.abs(a), ba), tile(tf.abs(b), bb), ta, tb));
        enable();
        const got = tf.matMul(a, b, ta, tb);
        assert.deepEqual(got.shape, [...outBatch, m, n], `shape for ${JSON.stringify([ba, bb])}`);
        assertClose(`batch ${JSON.stringify(ba)} x ${JSON.stringify(bb)} tA=${ta} tB=${tb}`, got.dataSync(), refData, scale);
        got.dispose();
      }
    }
  });

  it('handles empty dimensions and leaves non-float32 inputs to the original kernel', () => {
    checkBilinear('k = 0', [tf.zeros([3, 0]), tf.zeros([0, 4])], (x, y) => tf.matMul(x, y));
    checkBilinear('m = 0', [tf.zeros([0, 3]), rand([3, 4], 7)], (x, y) => tf.matMul(x, y));
    const ai = tf.tensor2d(
      [
        [1, 2],
        [3, 4],
      ],
      undefined,
      'int32',
    );
    const { ref, got } = plainAndAccelerated(() => tf.matMul(ai, ai));
    assert.deepEqual(Array.from(got.data), Array.from(ref.data));
  });
});

function broadcast(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    return da === 1 ? db : da;
  });
}

describe('accel: _FusedMatMul', { skip }, () => {
  it('matches plain tfjs for bias + every activation, biases of several shapes', () => {
    const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
    let seed = 200;
    for (const activation of activations) {
      for (const biasShape of [null, [33], [1, 33], [17, 33], []] as const) {
        const a = tf.mul(rand([17, 21], seed++), 3); // large enough to cross relu6's 6
        const b = rand([21, 33], seed++);
        const bias = biasShape === null ? undefined : rand([...biasShape], seed++);
        const preluActivationWeights = activation === 'prelu' ? tf.abs(rand([33], seed++)) : undefined;
        const run = (x: T, y: T, z?: T) =>
          tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation, preluActivationWeights, leakyreluAlpha: 0.15 });
        const { ref, got } = plainAndAccelerated(() => run(a, b, bias));
        assert.deepEqual(got.shape, ref.shape);
        // The activations are 1-Lipschitz (sigmoid 1/4, elu 1 on x<0), so the matmul bound carries over.
        const scale = plain(() => tf.add(tf.matMul(tf.abs(a), tf.abs(b)), bias ? tf.abs(bias) : 0));
        assertClose(`fused ${activation} bias ${JSON.stringify(biasShape)}`, got.data, ref.data, scale);
      }
    }
  });

  it('matches with transposes and a batch', () => {
    const a = rand([3, 9, 5], 300);
    const b = rand([3, 7, 9], 301);
    const bias = rand([7], 302);
    const run = (x: T, y: T, z: T) =>
      tf.fused.matMul({ a: x as tf.Tensor3D, b: y as tf.Tensor3D, transposeA: true, transposeB: true, bias: z, activation: 'relu' });
    const { ref, got } = plainAndAccelerated(() => run(a, b, bias));
    const scale = plain(() => tf.add(tf.matMul(tf.abs(a), tf.abs(b), true, true), tf.abs(bias)));
    assertClose('fused batched transposed', got.data, ref.data, scale);
  });
});

interface ConvCase {
  n: number;
  h: number;
  w: number;
  c: number;
  f: number;
  fw?: number;
  o: number;
  stride: number;
  pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
  dilation: number;
  rounding?: 'floor' | 'round' | 'ceil';
}

function convCases(): ConvCase[] {
  const rng = makeRng('accel-conv');
  const pick = <V>(xs: readonly V[]): V => xs[Math.floor(rng() * xs.length)];
  const cases: ConvCase[] = [
    { n: 2, h: 28, w: 28, c: 1, f: 5, o: 32, stride: 1, pad: 'same', dilation: 1 }, // the CNN's first layer
    { n: 2, h: 14, w: 14, c: 32, f: 5, o: 64, stride: 1, pad: 'same', dilation: 1 }, // and its second
    { n: 3, h: 8, w: 8, c: 4, f: 1, o: 6, stride: 1, pad: 'valid', dilation: 1 }, // pointwise fast path
    { n: 1, h: 1, w: 1, c: 3, f: 1, o: 1, stride: 1, pad: 'same', dilation: 1 },
    {
      n: 2,
      h: 9,
      w: 7,
      c: 3,
      f: 3,
      fw: 2,
      o: 5,
      stride: 2,
      pad: [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ],
      dilation: 1,
    },
    { n: 2, h: 10, w: 11, c: 2, f: 3, o: 4, stride: 2, pad: 1, dilation: 1, rounding: 'ceil' },
    // The direct loops for few input channels (native/conv_direct.c): every block width (61 = 32 + 16 +
    // 8 + 5 scalars), pixel pairs and single border pixels, strides, dilation, asymmetric padding.
    {
      n: 3,
      h: 9,
      w: 13,
      c: 3,
      f: 3,
      fw: 5,
      o: 61,
      stride: 2,
      pad: [
        [0, 0],
        [2, 0],
        [1, 3],
        [0, 0],
      ],
      dilation: 1,
    },
    { n: 2, h: 11, w: 12, c: 2, f: 3, o: 29, stride: 1, pad: 'same', dilation: 2 },
    { n: 4, h: 6, w: 5, c: 4, f: 5, o: 8, stride: 1, pad: 'valid', dilation: 1 },
    { n: 2, h: 7, w: 7, c: 1, f: 7, o: 40, stride: 1, pad: 'same', dilation: 1 },
  ];
  for (let i = 0; i < 22; i++) {
    const dilation = pick([1, 1, 2]);
    const stride = dilation === 2 ? 1 : pick([1, 2]); // tfjs: strides or dilations must be 1
    const f = pick([1, 2, 3, 5]);
    const eff = (f - 1) * dilation + 1;
    const h = Math.max(eff, pick([1, 3, 5, 8, 17]));
    const w = Math.max(eff, pick([1, 3, 6, 9, 17]));
    cases.push({
      n: pick([1, 2, 3]),
      h,
      w,
      c: pick([1, 3, 4, 8]),
      f,
      o: pick([1, 3, 7, 16]),
      stride,
      pad: pick(['same', 'valid'] as const),
      dilation,
    });
  }
  return cases;
}

function describeCase(cc: ConvCase): string {
  return `x[${cc.n},${cc.h},${cc.w},${cc.c}] f${cc.f}x${cc.fw ?? cc.f}->${cc.o} s${cc.stride} d${cc.dilation} pad ${JSON.stringify(cc.pad)}${cc.rounding ? ` ${cc.rounding}` : ''}`;
}

describe('accel: Conv2D, FusedConv2D and their gradients', { skip }, () => {
  const cases = convCases();

  it('Conv2D matches plain tfjs (strides 1/2, same/valid/explicit padding, dilation 2, odd sizes)', () => {
    let seed = 400;
    for (const cc of cases) {
      const x = rand([cc.n, cc.h, cc.w, cc.c], seed++);
      const w = rand([cc.f, cc.fw ?? cc.f, cc.c, cc.o], seed++);
      checkBilinear(`conv2d ${describeCase(cc)}`, [x, w], (a, b) =>
        tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, cc.stride, cc.pad, 'NHWC', cc.dilation, cc.rounding),
      );
    }
  });

  it('Conv2DBackpropInput and Conv2DBackpropFilter match plain tfjs', () => {
    let seed = 500;
    for (const cc of cases.filter((c) => c.dilation === 1)) {
      const x = rand([cc.n, cc.h, cc.w, cc.c], seed++);
      const filterShape = [cc.f, cc.fw ?? cc.f, cc.c, cc.o];
      const w = rand(filterShape, seed++);
      const outShape = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, cc.stride, cc.pad, 'NHWC', 1, cc.rounding).shape;
      const dy = rand(outShape, seed++);
      const attrs = { strides: cc.stride, pad: cc.pad, dataFormat: 'NHWC', dimRoundingMode: cc.rounding, dilations: 1 };
      checkBilinear(
        `backprop input ${describeCase(cc)}`,
        [dy, w],
        (g, f) => tf.engine().runKernel('Conv2DBackpropInput', { dy: g, filter: f }, { ...attrs, inputShape: x.shape } as never) as T,
      );
      checkBilinear(
        `backprop filter ${describeCase(cc)}`,
        [x, dy],
        (a, g) => tf.engine().runKernel('Conv2DBackpropFilter', { x: a, dy: g }, { ...attrs, filterShape } as never) as T,
      );
    }
  });

  it('FusedConv2D with bias + relu (and other activations) matches plain tfjs', () => {
    let seed = 600;
    for (const [i, cc] of cases.slice(0, 10).entries()) {
      const activation = (['relu', 'linear', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const)[i % 7];
      const x = tf.mul(rand([cc.n, cc.h, cc.w, cc.c], seed++), 2);
      const w = rand([cc.f, cc.fw ?? cc.f, cc.c, cc.o], seed++);
      const bias = rand([cc.o], seed++);
      const preluActivationWeights = activation === 'prelu' ? tf.abs(rand([cc.o], seed++)) : undefined;
      const op = (a: T, b: T, z: T) =>
        tf.fused.conv2d({
          x: a as tf.Tensor4D,
          filter: b as tf.Tensor4D,
          strides: cc.stride,
          pad: cc.pad,
          dilations: cc.dilation,
          dimRoundingMode: cc.rounding,
          bias: z,
          activation,
          preluActivationWeights,
          leakyreluAlpha: 0.3,
        });
      const { ref, got } = plainAndAccelerated(() => op(x, w, bias));
      assert.deepEqual(got.shape, ref.shape);
      const scale = plain(() =>
        tf.add(
          tf.conv2d(tf.abs(x) as tf.Tensor4D, tf.abs(w) as tf.Tensor4D, cc.stride, cc.pad, 'NHWC', cc.dilation, cc.rounding),
          tf.abs(bias),
        ),
      );
      assertClose(`fused conv ${activation} ${describeCase(cc)}`, got.data, ref.data, scale);
    }
  });

  it('leaves NCHW to the original kernel (identical results)', () => {
    const x = rand([2, 3, 6, 5], 700);
    const w = rand([3, 3, 3, 4], 701);
    const { ref, got } = plainAndAccelerated(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NCHW'));
    assert.deepEqual(got.shape, ref.shape);
    assert.deepEqual(Array.from(got.data), Array.from(ref.data));
  });
});

describe('accel: K-FAC patch extraction (custom kernel)', { skip }, () => {
  for (const [shape, k, stride, padding] of [
    [[2, 5, 5, 3], 3, 1, 'same'],
    [[3, 7, 6, 2], 3, 2, 'same'],
    [[1, 9, 9, 4], 5, 2, 'valid'],
    [[2, 4, 4, 1], 1, 1, 'valid'],
  ] as const) {
    it(`im2col matches the JS kernel and the composed ops bit for bit (${shape}, ${k}x${k}, stride ${stride}, ${padding})`, () => {
      const x = rand([...shape], 5);
      const { ref, got } = plainAndAccelerated(() => extractPatches(x, k, k, stride, padding));
      assert.deepEqual(got.shape, ref.shape);
      assert.deepEqual(got.data, ref.data);
      const composed = tf.tidy(() => composedPatches(x, { kernelHeight: k, kernelWidth: k, stride, padding }));
      assert.deepEqual(composed.dataSync(), ref.data);
      tf.dispose([x, composed]);
    });
  }
});

describe('accel: MaxPool and MaxPoolGrad', { skip }, () => {
  it('match plain tfjs exactly, including ties (first maximum wins) and NaN', () => {
    let seed = 800;
    const configs: Array<
      [[number, number, number, number], number | [number, number], number | [number, number], 'same' | 'valid' | number]
    > = [
      [[4, 28, 28, 32], 2, 2, 'valid'],
      [[2, 14, 14, 64], 2, 2, 'valid'],
      [[2, 7, 9, 3], 3, 2, 'same'],
      [[1, 5, 5, 2], 3, 1, 'same'],
      [[3, 8, 6, 5], [2, 3], [1, 2], 'valid'],
      [[2, 9, 9, 4], 3, 2, 1],
      [[1, 1, 1, 3], 1, 1, 'valid'],
    ];
    for (const [shape, filterSize, strides, pad] of configs) {
      // Quantized values make ties common; a few NaNs test that NaN never wins.
      const values = tf
        .round(tf.mul(rand(shape as number[], seed++), 2))
        .dataSync()
        .slice();
      for (let i = 0; i < values.length; i += 97) values[i] = NaN;
      const x = tf.tensor(values, shape) as tf.Tensor4D;
      const label = `maxPool ${JSON.stringify([shape, filterSize, strides, pad])}`;
      const fwd = plainAndAccelerated(() => tf.maxPool(x, filterSize, strides, pad));
      assert.deepEqual(fwd.got.shape, fwd.ref.shape, label);
      assert.deepEqual(Array.from(fwd.got.data), Array.from(fwd.ref.data), label);
      const y = tf.maxPool(x, filterSize, strides, pad);
      const dy = rand(y.shape, seed++);
      const attrs = { filterSize, strides, pad };
      const bwd = plainAndAccelerated(() => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs as never) as T);
      // Overlapping windows sum into one pixel in a different order: a few ulps.
      assertClose(`${label} grad`, bwd.got.data, bwd.ref.data, 0.01);
    }
  });
});

describe('accel: elementwise kernels and Sum', { skip }, () => {
  /** Same float result as plain tfjs, bit for bit (NaN equal, +0 and -0 distinguished). */
  function checkExact(label: string, f: () => T): void {
    const { ref, got } = plainAndAccelerated(f);
    assert.deepEqual(got.shape, ref.shape, `${label}: shape`);
    assert.deepStrictEqual(Array.from(got.data), Array.from(ref.data), label);
  }
  const special = (shape: number[], seed: number) => {
    const v = rand(shape, seed).dataSync().slice();
    if (v.length > 3) [v[0], v[1], v[2]] = [NaN, -0, Infinity];
    return tf.tensor(v, shape);
  };

  it('Add, Sub, Multiply match bit for bit: same shape, bias broadcasts, scalars, and fallbacks', () => {
    const shapes: Array<[number[], number[]]> = [
      [
        [4, 5, 6, 7],
        [4, 5, 6, 7],
      ],
      [[4, 5, 6, 7], [7]],
      [[7], [4, 5, 6, 7]],
      [
        [4, 5, 6, 7],
        [1, 1, 6, 7],
      ],
      [
        [1, 1, 7],
        [3, 7],
      ],
      [[3, 7], []],
      [[], [3, 7]],
      [
        [2, 1],
        [1, 3],
      ], // general broadcast: the original kernel
      [
        [4, 1, 7],
        [4, 5, 7],
      ], // broadcast in the middle: the original kernel
      [[0, 3], [3]],
    ];
    let seed = 1000;
    for (const [sa, sb] of shapes) {
      const a = special(sa, seed++);
      const b = special(sb, seed++);
      checkExact(`add ${JSON.stringify([sa, sb])}`, () => tf.add(a, b));
      checkExact(`sub ${JSON.stringify([sa, sb])}`, () => tf.sub(a, b));
      checkExact(`mul ${JSON.stringify([sa, sb])}`, () => tf.mul(a, b));
    }
    const ai = tf.tensor1d([1, 2, 3], 'int32');
    checkExact('int32 add', () => tf.add(ai, ai));
  });

  it('Concat matches bit for bit: every axis (negative too), 2 and 3 inputs, large outputs from the pool, and fallbacks', () => {
    let seed = 1200;
    const cases: Array<[number[][], number]> = [
      [
        [
          [3136, 1024],
          [1, 1024],
        ],
        0,
      ], // K-FAC's [dW; db] of fmnist_2c2d's dense layer
      [
        [
          [128, 3137],
          [128, 1],
        ],
        1,
      ], // a design matrix's ones column
      [
        [
          [2, 3, 4],
          [2, 5, 4],
          [2, 1, 4],
        ],
        1,
      ],
      [
        [
          [2, 3, 4],
          [2, 3, 2],
        ],
        -1,
      ],
      [
        [
          [4, 5, 6, 7],
          [4, 5, 6, 7],
        ],
        2,
      ],
      [
        [
          [0, 3],
          [2, 3],
        ],
        0,
      ], // an empty input: the original kernel
    ];
    for (const [shapes, axis] of cases) {
      const inputs = shapes.map((sh) => special(sh, seed++));
      checkExact(`concat ${JSON.stringify(shapes)} axis ${axis}`, () => tf.concat(inputs, axis));
    }
    const ai = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    checkExact('int32 concat', () => tf.concat([ai, ai], 0));
    enable();
    assert.throws(() => tf.concat([tf.zeros([2, 3]), tf.zeros([3, 2])], 0), /must match|shape/i, 'mismatched shapes: the original error');
  });

  it('Relu and Step match bit for bit (NaN, -0, Infinity; step alpha)', () => {
    const x = special([3, 11, 5], 1100);
    checkExact('relu', () => tf.relu(x));
    checkExact('step', () => tf.step(x));
    checkExact('step alpha', () => tf.step(x, 0.3));
    checkExact('relu int32', () => tf.relu(tf.tensor1d([-1, 2], 'int32')));
  });

  it('ReluBackprop (custom kernel) is Step then Multiply bit for bit, in JS and in C (NaN, ±0, ±Infinity in dy and y)', () => {
    const specials = [Number.NaN, -0, 0, Infinity, -Infinity, 1.5, -2.25, 1e-30, -1e-30];
    const pairs = specials.flatMap((a) => specials.map((b) => [a, b]));
    const noise = [rand([3, 11, 5], 1300).dataSync(), rand([3, 11, 5], 1301).dataSync()];
    const dy = tf.tensor([...pairs.map((p) => p[0]), ...noise[0]]);
    const y = tf.tensor([...pairs.map((p) => p[1]), ...noise[1]]);
    const composed = plain(() => tf.mul(dy, tf.step(y)));
    const { ref, got } = plainAndAccelerated(() => tf.engine().runKernel(RELU_BACKPROP_KERNEL, { dy, y }) as T);
    assert.deepStrictEqual(Array.from(ref.data), Array.from(composed), 'the JS kernel');
    assert.deepStrictEqual(Array.from(got.data), Array.from(composed), 'the C kernel');
    assert.throws(
      () => tf.engine().runKernel(RELU_BACKPROP_KERNEL, { dy, y: tf.zeros([2]) }),
      /one shape/,
      'mismatched shapes: the JS kernel refuses',
    );
    tf.dispose([dy, y]);
  });

  it('MomentumStep (custom kernel) is Multiply, Add, Multiply, Sub bit for bit, in JS and in C (NaN, ±0, ±Infinity)', () => {
    const specials = [Number.NaN, -0, 0, Infinity, -Infinity, 1.5, -2.25, 3e38, 1e-40];
    const triples = specials.flatMap((a) => specials.flatMap((b) => specials.map((c) => [a, b, c])));
    const noise = [0, 1, 2].map((i) => rand([7, 13], 1400 + i).dataSync());
    const [w, v, d] = [0, 1, 2].map((k) => tf.tensor([...triples.map((t) => t[k]), ...noise[k]]));
    for (const [momentum, lr] of [
      [0.9, 0.1],
      [0.3333333333, 1e-3],
    ]) {
      const velocity = plain(() => tf.add(tf.mul(v, momentum), d));
      const weights = plain(() => tf.sub(w, tf.mul(tf.add(tf.mul(v, momentum), d), lr)));
      const step = (k: 0 | 1) => () => (tf.engine().runKernel(MOMENTUM_STEP_KERNEL, { w, v, d }, { momentum, lr }) as T[])[k];
      for (const [k, expected] of [velocity, weights].entries()) {
        const { ref, got } = plainAndAccelerated(step(k as 0 | 1));
        assert.deepStrictEqual(Array.from(ref.data), Array.from(expected), `the JS kernel, output ${k}, m ${momentum}`);
        assert.deepStrictEqual(Array.from(got.data), Array.from(expected), `the C kernel, output ${k}, m ${momentum}`);
      }
    }
    tf.dispose([w, v, d]);
  });

  it('Sum over leading/trailing/all/negative axes, keepDims, and fallbacks matches bit for bit', () => {
    const x = special([6, 5, 4, 3], 1200);
    const axesList: Array<number | number[] | undefined> = [
      [0, 1, 2],
      0,
      [0, 1],
      3,
      -1,
      [2, 3],
      [1, 2, 3],
      undefined,
      [1],
      [0, 2],
      [3, 0, 1, 2],
    ];
    for (const axis of axesList) {
      for (const keepDims of [false, true]) {
        checkExact(`sum ${JSON.stringify(axis)} keepDims=${keepDims}`, () => tf.sum(x, axis, keepDims));
      }
    }
    checkExact('sum int32', () =>
      tf.sum(
        tf.tensor2d(
          [
            [1, 2],
            [3, 4],
          ],
          undefined,
          'int32',
        ),
        0,
      ),
    );
    checkExact('sum empty', () => tf.sum(tf.zeros([0, 3]), 0));
  });
});

describe('accel: gradients through the accelerated kernels', { skip }, () => {
  /** conv (stride 2, same) -> tanh -> dense: smooth, so central differences are accurate. */
  function loss(x: T, w1: T, b1: T, w2: T): tf.Scalar {
    const h = tf.tanh(tf.add(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 2, 'same'), b1));
    const flat = tf.reshape(h, [x.shape[0], -1]);
    const logits = tf.matMul(flat, w2);
    return tf.mean(tf.square(tf.sin(logits)));
  }

  it('tf.grads matches central differences (float32: eps 1e-2, |diff| <= 2e-3 + 2e-2 |g|)', () => {
    enable();
    const x = rand([3, 9, 9, 2], 900);
    // 10 output channels from 2 input channels: the direct loops (a vector of 8 and 2 scalars).
    const w1 = tf.mul(rand([3, 3, 2, 10], 901), 0.5);
    const b1 = tf.mul(rand([10], 902), 0.1);
    const w2 = tf.mul(rand([5 * 5 * 10, 6], 903), 0.2);
    const params = [x, w1, b1, w2];
    const grads = tf.grads((a: T, b: T, c: T, d: T) => loss(a, b, c, d))(params);
    const rng = makeRng('accel-numgrad');
    const eps = 1e-2;
    for (let p = 0; p < params.length; p++) {
      const g = grads[p].dataSync();
      const base = params[p].dataSync();
      for (let trial = 0; trial < 12; trial++) {
        const i = Math.floor(rng() * base.length);
        const at = (delta: number) => {
          const v = base.slice();
          v[i] += delta;
          const perturbed = params.map((t, j) => (j === p ? tf.tensor(v, t.shape) : t));
          return tf.tidy(() => loss(perturbed[0], perturbed[1], perturbed[2], perturbed[3]).dataSync()[0]);
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        assert.ok(Math.abs(numeric - g[i]) <= 2e-3 + 2e-2 * Math.abs(g[i]), `param ${p} index ${i}: analytic ${g[i]}, numeric ${numeric}`);
      }
    }
  });

  it("gradients of the CNN-like step (conv, relu, max-pool, dense) equal the plain kernels' gradients", () => {
    const x = rand([4, 12, 12, 1], 950);
    const w1 = tf.mul(rand([5, 5, 1, 8], 951), 0.3);
    const b1 = tf.mul(rand([8], 952), 0.1);
    const w2 = tf.mul(rand([3, 3, 8, 6], 953), 0.2);
    const w3 = tf.mul(rand([3 * 3 * 6, 5], 954), 0.2);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 4], 'int32'), 5);
    const f = (a: T, b: T, c: T, d: T) => {
      let h = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, a as tf.Tensor4D, 1, 'same'), b));
      h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
      h = tf.relu(tf.conv2d(h as tf.Tensor4D, c as tf.Tensor4D, 2, 'same'));
      h = tf.maxPool(h as tf.Tensor4D, 2, 1, 'same');
      const logits = tf.matMul(tf.reshape(h, [4, -1]), d);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    };
    const grads = () =>
      tf
        .grads(f)([w1, b1, w2, w3])
        .map((g) => g.dataSync().slice());
    disableBlasKernels();
    const ref = grads();
    enable();
    const got = grads();
    for (let p = 0; p < ref.length; p++) {
      const scale = Math.max(...Array.from(ref[p], Math.abs));
      assertClose(`grad ${p}`, got[p], ref[p], scale * 10);
    }
  });
});

describe('accel: float64 LAPACK helpers', { skip }, () => {
  function randomSpd(n: number, seed: number): Float64Array {
    const rng = makeRng(`spd-${seed}`);
    const m = Float64Array.from({ length: n * n }, () => rng() - 0.5);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = i === j ? 0.1 : 0;
        for (let k = 0; k < n; k++) s += m[i * n + k] * m[j * n + k];
        a[i * n + j] = s;
      }
    }
    return a;
  }

  it('symmetricInverse64 equals the pure-JS Cholesky inverse, is exactly symmetric, and A A^-1 = I', () => {
    for (const n of [1, 2, 5, 40, 97]) {
      const a = randomSpd(n, n);
      const before = a.slice();
      const inv = symmetricInverse64(a, n);
      assert.deepEqual(a, before, 'input untouched');
      const ref = choleskyInverse(a, n);
      const scale = Math.max(...Array.from(ref, Math.abs));
      for (let i = 0; i < n * n; i++) assert.ok(Math.abs(inv[i] - ref[i]) <= 1e-9 * scale, `n=${n} entry ${i}: ${inv[i]} vs ${ref[i]}`);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          assert.equal(inv[i * n + j], inv[j * n + i]);
          let s = 0;
          for (let k = 0; k < n; k++) s += a[i * n + k] * inv[k * n + j];
          assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-8, `n=${n} (A A^-1)[${i},${j}] = ${s}`);
        }
      }
    }
  });

  it('symmetricInverse64 reads only the lower triangle and rejects non-SPD and non-finite input clearly', () => {
    const a = new Float64Array([4, 99, 2, 3]); // upper entry ignored: [[4, 2], [2, 3]]
    const inv = symmetricInverse64(a, 2);
    const det = 4 * 3 - 2 * 2;
    assert.deepEqual(
      Array.from(inv, (v) => Math.round(v * det * 1e9) / 1e9),
      [3, -2, -2, 4],
    );
    assert.throws(
      () => symmetricInverse64(new Float64Array([1, 2, 2, 1]), 2),
      (e: unknown) => e instanceof FactorInversionError && /condition number/.test((e as Error).message),
    );
    assert.throws(
      () => symmetricInverse64(new Float64Array([1, 0, NaN, 1]), 2),
      (e: unknown) => e instanceof FactorInversionError && /NaN/.test((e as Error).message),
    );
    assert.throws(() => symmetricInverse64(new Float64Array(3), 2), RangeError);
    assert.ok(!(new BlasUnavailableError('x') instanceof FactorInversionError));
  });

  it('symmetricEigen64: A V = V diag(w), V orthonormal, eigenvalues ascending', () => {
    for (const n of [1, 3, 30]) {
      const a = randomSpd(n, 100 + n);
      const { values, vectors } = symmetricEigen64(a, n);
      for (let i = 1; i < n; i++) assert.ok(values[i - 1] <= values[i]);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let av = 0;
          let vtv = 0;
          for (let k = 0; k < n; k++) {
            av += a[i * n + k] * vectors[k * n + j];
            vtv += vectors[k * n + i] * vectors[k * n + j];
          }
          assert.ok(Math.abs(av - values[j] * vectors[i * n + j]) < 1e-10 * Math.max(1, values[n - 1]), `n=${n} (AV)[${i},${j}]`);
          assert.ok(Math.abs(vtv - (i === j ? 1 : 0)) < 1e-10, `n=${n} (V^T V)[${i},${j}]`);
        }
      }
    }
  });
});

describe('accel: without the addon', () => {
  it('enableBlasKernels reports enabled:false with a one-line fix and the program keeps working', () => {
    const code = [
      "import { enableBlasKernels, nativeBlas } from './src/compute/accel/index.ts';",
      "import { symmetricInverse64 } from './src/compute/accel/linalg64.ts';",
      "import * as tf from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-backend-cpu';",
      "await tf.setBackend('cpu'); tf.env().set('PROD', true);",
      'const status = enableBlasKernels();',
      "let threw = ''; try { symmetricInverse64(new Float64Array([1]), 1); } catch (e) { threw = e.name; }",
      'const v = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync();',
      'console.log(JSON.stringify({ status, hasBlas: nativeBlas !== undefined, threw, v: Array.from(v) }));',
    ].join('\n');
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: new URL('../..', import.meta.url),
      env: { ...process.env, NGD_BENCH_BLAS_ADDON: '/nonexistent/ngd_blas.node' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const out = JSON.parse(result.stdout.trim().split('\n').pop()!);
    assert.equal(out.hasBlas, false);
    assert.equal(out.status.enabled, false);
    assert.match(out.status.reason, /not built.*npm run build:native/);
    assert.ok(!out.status.reason.includes('\n'));
    assert.equal(out.threw, 'BlasUnavailableError');
    assert.deepEqual(out.v, [3, 3, 3, 3]);
  });
});
