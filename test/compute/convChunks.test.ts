/**
 * The addon's threaded convolution (native/conv_chunks.c: images shared among threads, each thread's
 * share in chunks, single-threaded sgemm per chunk) against an independent float64 direct
 * convolution, on batches whose shares span several chunks and split unevenly; repeated calls bit
 * for bit; one thread against two; and its argument checks. The Conv2D kernels on top of it are
 * compared with plain tfjs in accel.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConvGeometry, type ConvMode, nativeBlas, nativeBlasFound, nativeLoadError } from '../../src/compute/accel/native.js';
import { makeRng } from '../../src/util/rng.js';

const skip = nativeBlasFound || process.env.NGD_BENCH_REQUIRE_BLAS === '1' ? false : `native BLAS addon unavailable: ${nativeLoadError}`;

interface Case {
  n: number;
  h: number;
  w: number;
  c: number;
  f: number;
  o: number;
  stride: number;
  dilation: number;
  /** 'same'-style padding on top/left (bottom/right follow from the output size). */
  pad: number;
  /** Images per chunk at most: small, so each thread's share spans several chunks. */
  maxChunk: number;
}

const CASES: Case[] = [
  { n: 11, h: 14, w: 14, c: 8, f: 5, o: 16, stride: 1, dilation: 1, pad: 2, maxChunk: 2 }, // shares 5 and 6: chunks 2,2,1 / 2,2,2
  { n: 7, h: 9, w: 10, c: 3, f: 3, o: 5, stride: 2, dilation: 1, pad: 1, maxChunk: 3 },
  { n: 5, h: 12, w: 11, c: 2, f: 3, o: 7, stride: 1, dilation: 2, pad: 0, maxChunk: 1 },
  { n: 1, h: 6, w: 6, c: 4, f: 3, o: 3, stride: 1, dilation: 1, pad: 1, maxChunk: 4 }, // fewer images than threads
];

function geometryOf(cc: Case): { geometry: ConvGeometry; oh: number; ow: number; k: number } {
  const eff = (cc.f - 1) * cc.dilation + 1;
  const oh = Math.floor((cc.h + 2 * cc.pad - eff) / cc.stride) + 1;
  const ow = Math.floor((cc.w + 2 * cc.pad - eff) / cc.stride) + 1;
  const geometry: ConvGeometry = [
    cc.n,
    cc.h,
    cc.w,
    cc.c,
    cc.f,
    cc.f,
    cc.stride,
    cc.stride,
    cc.dilation,
    cc.dilation,
    cc.pad,
    cc.pad,
    oh,
    ow,
  ];
  return { geometry, oh, ow, k: cc.f * cc.f * cc.c };
}

/** Every (image, output pixel, filter tap) with its input pixel inside the image: the convolution's terms. */
function forEachTap(cc: Case, oh: number, ow: number, each: (xIndex: number, yPixel: number, wRow: number) => void): void {
  for (let b = 0; b < cc.n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let r = 0; r < cc.f; r++)
          for (let s = 0; s < cc.f; s++) {
            const iy = oy * cc.stride + r * cc.dilation - cc.pad;
            const ix = ox * cc.stride + s * cc.dilation - cc.pad;
            if (iy < 0 || iy >= cc.h || ix < 0 || ix >= cc.w) continue;
            each(((b * cc.h + iy) * cc.w + ix) * cc.c, (b * oh + oy) * ow + ox, (r * cc.f + s) * cc.c);
          }
}

/** Float64 direct convolution: forward, input gradient, filter gradient, and the |.| sums that bound rounding. */
function reference(cc: Case, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const { oh, ow, k } = geometryOf(cc);
  const y = new Float64Array(cc.n * oh * ow * cc.o);
  const yAbs = new Float64Array(y.length);
  const dx = new Float64Array(x.length);
  const dxAbs = new Float64Array(x.length);
  const dw = new Float64Array(k * cc.o);
  const dwAbs = new Float64Array(dw.length);
  forEachTap(cc, oh, ow, (xi, pixel, wr) => {
    for (let ch = 0; ch < cc.c; ch++)
      for (let o = 0; o < cc.o; o++) {
        const wv = w[(wr + ch) * cc.o + o];
        const xv = x[xi + ch];
        const g = dy[pixel * cc.o + o];
        y[pixel * cc.o + o] += xv * wv;
        yAbs[pixel * cc.o + o] += Math.abs(xv * wv);
        dx[xi + ch] += g * wv;
        dxAbs[xi + ch] += Math.abs(g * wv);
        dw[(wr + ch) * cc.o + o] += xv * g;
        dwAbs[(wr + ch) * cc.o + o] += Math.abs(xv * g);
      }
  });
  return { y: [y, yAbs], dx: [dx, dxAbs], dw: [dw, dwAbs] } as const;
}

function randomArray(rng: () => number, length: number): Float32Array {
  return Float32Array.from({ length }, () => 2 * rng() - 1);
}

/** One convChunks call with a fresh zeroed output and exactly the scratch it asks for. */
function run(mode: ConvMode, a: Float32Array, b: Float32Array, cc: Case, threads: number): Float32Array {
  const blas = nativeBlas!;
  const { geometry, oh, ow, k } = geometryOf(cc);
  const out = new Float32Array(mode === 0 ? cc.n * oh * ow * cc.o : mode === 1 ? cc.n * cc.h * cc.w * cc.c : k * cc.o);
  out.fill(mode === 2 ? Number.NaN : 0); // the filter gradient must overwrite, not accumulate
  const scratch = new Float32Array(blas.convChunksScratch(mode, a, b, ...geometry, cc.o, out, cc.maxChunk, threads)).fill(Number.NaN);
  blas.convChunks(mode, a, b, ...geometry, cc.o, out, cc.maxChunk, threads, scratch);
  return out;
}

function inputs(cc: Case, seed: string) {
  const rng = makeRng(seed);
  const { oh, ow, k } = geometryOf(cc);
  return { x: randomArray(rng, cc.n * cc.h * cc.w * cc.c), w: randomArray(rng, k * cc.o), dy: randomArray(rng, cc.n * oh * ow * cc.o) };
}

const describeCase = (cc: Case) =>
  `x[${cc.n},${cc.h},${cc.w},${cc.c}] ${cc.f}x${cc.f}->${cc.o} s${cc.stride} d${cc.dilation} pad ${cc.pad}, chunks of <= ${cc.maxChunk}`;

describe('native convChunks', { skip }, () => {
  for (const cc of CASES) {
    it(`forward, input and filter gradients equal a float64 direct convolution (${describeCase(cc)})`, () => {
      const { x, w, dy } = inputs(cc, describeCase(cc));
      const ref = reference(cc, x, w, dy);
      for (const threads of [1, 2, 3]) {
        const got = { y: run(0, x, w, cc, threads), dx: run(1, dy, w, cc, threads), dw: run(2, x, dy, cc, threads) };
        for (const key of ['y', 'dx', 'dw'] as const) {
          const [exact, abs] = ref[key];
          for (let i = 0; i < exact.length; i++) {
            const bound = 1e-5 * abs[i] + 1e-7;
            assert.ok(Math.abs(got[key][i] - exact[i]) <= bound, `${key}[${i}] with ${threads} threads: ${got[key][i]} vs ${exact[i]}`);
          }
        }
      }
    });
  }

  it('repeats bit for bit: the threads write disjoint outputs and sum the filter partials in a fixed order', () => {
    const cc = CASES[0];
    const { x, w, dy } = inputs(cc, 'repeat');
    for (const [mode, a, b] of [
      [0, x, w],
      [1, dy, w],
      [2, x, dy],
    ] as const) {
      const first = run(mode, a, b, cc, 2);
      for (let i = 0; i < 3; i++) assert.deepEqual(run(mode, a, b, cc, 2), first, `mode ${mode}, repeat ${i}`);
    }
  });

  it('leaves OpenBLAS on the thread count it found', () => {
    const blas = nativeBlas!;
    const before = blas.info().numThreads;
    const { x, w } = inputs(CASES[0], 'threads');
    run(0, x, w, CASES[0], 2);
    assert.equal(blas.info().numThreads, before);
  });

  it('refuses bad arguments with a RangeError instead of touching memory it was not given', () => {
    const blas = nativeBlas!;
    const cc = CASES[0];
    const { geometry, oh, ow } = geometryOf(cc);
    const { x, w } = inputs(cc, 'bad');
    const y = new Float32Array(cc.n * oh * ow * cc.o);
    const need = blas.convChunksScratch(0, x, w, ...geometry, cc.o, y, 2, 2);
    const ok = new Float32Array(need);
    assert.throws(() => blas.convChunks(0, x, w, ...geometry, cc.o, y, 2, 2, new Float32Array(need - 1)), RangeError);
    assert.throws(() => blas.convChunks(0, x, w, ...geometry, cc.o, y.subarray(1), 2, 2, ok), RangeError);
    assert.throws(() => blas.convChunks(0, x.subarray(1), w, ...geometry, cc.o, y, 2, 2, ok), RangeError);
    assert.throws(() => blas.convChunks(3 as ConvMode, x, w, ...geometry, cc.o, y, 2, 2, ok), RangeError);
    assert.throws(() => blas.convChunks(0, x, w, ...geometry, cc.o, y, 0, 2, ok), RangeError);
    assert.throws(() => blas.convChunks(0, x, w, ...geometry, cc.o, y, 2, 0, ok), RangeError);
    const noChannels: ConvGeometry = [...geometry];
    noChannels[3] = 0;
    assert.throws(() => blas.convChunks(0, x, w, ...noChannels, cc.o, y, 2, 2, ok), RangeError); // k = 0: the kernel returns zeros itself
    const huge: ConvGeometry = [2 ** 30, 2 ** 20, 2 ** 20, 2 ** 10, 5, 5, 1, 1, 1, 1, 2, 2, 2 ** 20, 2 ** 20];
    assert.throws(() => blas.convChunksScratch(0, x, w, ...huge, 64, y, 2 ** 30, 2), RangeError); // no overflow
  });
});
