/**
 * Loads our N-API addon (native/ngd_blas.c, built by `npm run build:native` into
 * build/Release/ngd_blas.node at the repo root) and describes it. Loading never throws: when the
 * addon is missing or cannot be opened, `nativeBlas` is undefined and `nativeLoadError` says why
 * and how to fix it, in one line.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { backend_util } from '@tensorflow/tfjs-core';
import { firstLine } from '../../util/errors.js';

export const ADDON_FILE = 'ngd_blas.node';
export const BUILD_HINT = 'apt-get install -y libopenblas-dev liblapacke-dev && npm run build:native';

/** What `info()` reports about the linked OpenBLAS. */
export interface NativeBlasInfo {
  /** openblas_get_config(), e.g. 'OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64'. */
  config: string;
  /** The kernel family OpenBLAS picked for this CPU (or OPENBLAS_CORETYPE), e.g. 'Haswell'. */
  corename: string;
  numThreads: number;
  numProcs: number;
  parallel: 'sequential' | 'pthread' | 'openmp' | 'unknown';
  napiVersion: number;
}

/**
 * The raw addon. All matrices are row-major and used in place (zero-copy); every call is
 * synchronous and bounds-checked (a bad call throws a RangeError/TypeError, it never reads or
 * writes outside the arrays). Pass `subarray` views for offsets.
 */
export interface NativeBlas {
  /**
   * C[i] = alpha * op(A[i]) op(B[i]) + beta * C[i] for i < batch (default 1), with element strides
   * between batch entries (0 reuses the same matrix for every entry). op(A) is m x k, op(B) k x n.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
    batch?: number,
    strideA?: number,
    strideB?: number,
    strideC?: number,
  ): void;
  /** sgemm in float64. */
  dgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float64Array,
    lda: number,
    b: Float64Array,
    ldb: number,
    beta: number,
    c: Float64Array,
    ldc: number,
    batch?: number,
    strideA?: number,
    strideB?: number,
    strideC?: number,
  ): void;
  /** NHWC patches: cols[(b*outH + y)*outW + x][(r*fw + s)*c + ch], zero outside the image. */
  im2col(x: Float32Array, ...geometryAndCols: [...ConvGeometry, Float32Array]): void;
  /** Adjoint of im2col, accumulating into dx (which the caller zeroes). */
  col2im(cols: Float32Array, ...geometryAndDx: [...ConvGeometry, Float32Array]): void;
  /**
   * A whole convolution or one of its gradients (NHWC; filter [fh*fw*c, cout]) as im2col + sgemm over
   * chunks of at most `maxChunkImages` images, shared among `threads` threads that each run sgemm
   * single-threaded. Mode 0 forward (a = x, b = w, out = y), 1 input gradient (a = dy, b = w, out = dx,
   * which the caller zeroes), 2 filter gradient (a = x, b = dy, out = dw). `scratch` holds
   * `convChunksScratch(...)` elements (the same arguments without it).
   */
  convChunks(
    mode: ConvMode,
    a: Float32Array,
    b: Float32Array,
    ...rest: [...ConvGeometry, number, Float32Array, number, number, Float32Array]
  ): void;
  convChunksScratch(
    mode: ConvMode,
    a: Float32Array,
    b: Float32Array,
    ...rest: [...ConvGeometry, number, Float32Array, number, number]
  ): number;
  /**
   * In place on a rows x cols matrix: += bias (cols entries, or null), then activation
   * (0 linear, 1 relu, 2 relu6, 3 leakyrelu with alpha, 4 elu, 5 sigmoid).
   */
  biasActivation(y: Float32Array, rows: number, cols: number, bias: Float32Array | null, activation: number, alpha: number): void;
  /** NHWC max pooling (dilation 1), tfjs semantics (first strict maximum wins, NaN never). */
  maxPool(x: Float32Array, ...geometryAndY: [...ConvGeometry, Float32Array]): void;
  /** Scatters dy into dx (which the caller zeroes) at each window's maximum, recomputed from x. */
  maxPoolGrad(dy: Float32Array, x: Float32Array, ...geometryAndDx: [...ConvGeometry, Float32Array]): void;
  /**
   * out[i] = a[i % a.length] op b[i % b.length] (op 0 add, 1 sub, 2 mul, 3 a * step(b): the ReLU's
   * backward); one input has out's length, the other divides it.
   */
  binary(op: 0 | 1 | 2 | 3, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** y = op(x): 0 relu (Math.max(0, x)), 1 step (x > 0 ? 1 : alpha, NaN stays NaN). */
  unary(op: 0 | 1, x: Float32Array, y: Float32Array, alpha: number): void;
  /** One heavy-ball step: vOut = v * m + d, wOut = w - vOut * lr (float32 ops, tfjs's rounding); all of one length. */
  momentumStep(
    w: Float32Array,
    v: Float32Array,
    d: Float32Array,
    momentum: number,
    lr: number,
    vOut: Float32Array,
    wOut: Float32Array,
  ): void;
  /** x is rows x cols: y = column sums when overRows, else row sums (double accumulation, index order). */
  reduceSum(x: Float32Array, rows: number, cols: number, overRows: boolean, y: Float32Array): void;
  /** a := a^-1 for symmetric positive-definite a (n x n), in place; returns LAPACK info (0 = ok). */
  spdInverse(a: Float64Array, n: number): number;
  /** Eigenvalues (ascending) into w; a := V with eigenvectors as columns (row-major). Returns LAPACK info. */
  symmetricEigen(a: Float64Array, n: number, w: Float64Array): number;
  info(): NativeBlasInfo;
  setNumThreads(threads: number): void;
}

/** convChunks' modes: forward, input gradient, filter gradient. */
export type ConvMode = 0 | 1 | 2;

/** n, h, w, c, fh, fw, strideH, strideW, dilationH, dilationW, padTop, padLeft, outH, outW. */
export type ConvGeometry = [number, number, number, number, number, number, number, number, number, number, number, number, number, number];

/** The addon's geometry arguments of a conv or pool (tfjs's Conv2DInfo). */
export function convGeometry(info: backend_util.Conv2DInfo): ConvGeometry {
  const { inHeight, inWidth, inChannels, filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  return [
    info.batchSize,
    inHeight,
    inWidth,
    inChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.outHeight,
    info.outWidth,
  ];
}

/** Directories from this module's up to the first one with a package.json (the repo root). */
function candidateRoots(): string[] {
  const roots: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    roots.push(dir);
    if (existsSync(join(dir, 'package.json'))) break;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return roots;
}

function load(): { blas?: NativeBlas; path?: string; error?: string } {
  const override = process.env.NGD_BENCH_BLAS_ADDON;
  const candidates = override ? [override] : candidateRoots().map((root) => join(root, 'build', 'Release', ADDON_FILE));
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    const where = override ?? candidates[candidates.length - 1];
    return { error: `native BLAS addon not built (${where} missing); to fix: ${BUILD_HINT}` };
  }
  try {
    const require = createRequire(import.meta.url);
    const blas = require(path) as NativeBlas;
    if (typeof blas.sgemm !== 'function' || typeof blas.info !== 'function' || typeof blas.convChunks !== 'function') {
      return { path, error: `${path} is not the ngd_blas addon (stale build?); to fix: ${BUILD_HINT}` };
    }
    return { blas, path };
  } catch (error) {
    const message = firstLine(error);
    return { path, error: `cannot load ${path} (${message}); to fix: ${BUILD_HINT}` };
  }
}

const loaded = load();

/** The addon, or undefined when it is not built or cannot be loaded. */
export const nativeBlas: NativeBlas | undefined = loaded.blas;
/** Absolute path of the loaded addon. */
export const nativeBlasPath: string | undefined = loaded.path;
/** Whether an addon file was found (it may still have failed to load: see nativeLoadError). */
export const nativeBlasFound: boolean = loaded.path !== undefined;
/** One line: why the addon is unavailable and how to fix it (undefined when it loaded). */
export const nativeLoadError: string | undefined = loaded.error;

/** 'openblas 0.3.21 (pthread, 2 threads, Cooperlake kernels)'. */
export function describeLibrary(blas: NativeBlas): string {
  const info = blas.info();
  const version = /OpenBLAS\s+(\S+)/i.exec(info.config)?.[1] ?? 'unknown version';
  const threads = `${info.numThreads} thread${info.numThreads === 1 ? '' : 's'}`;
  return `openblas ${version} (${info.parallel}, ${threads}, ${info.corename.trim() || 'generic'} kernels)`;
}
