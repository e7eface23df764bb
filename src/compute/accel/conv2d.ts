/**
 * Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter and FusedConv2D as im2col + cblas_sgemm, NHWC,
 * in chunks of images shared among threads (native/conv_chunks.c).
 * With the filter [fh, fw, cin, cout] read as W [fh*fw*cin, cout] and the patches of a chunk of
 * images as P [rows, fh*fw*cin] (rows = images * outH * outW):
 *   forward       y  = P W            (rows x cout, which is NHWC already)
 *   input grad    dP = dy W^T, dx = col2im(dP)
 *   filter grad   dW = sum over chunks of P^T dy
 * Geometry (strides, 'same'/'valid'/explicit padding, dilations, rounding) comes from tfjs's own
 * computeConv2DInfo, so output shapes and padding match the original kernels exactly. NCHW,
 * non-float32 inputs and inconsistent shapes go to the original kernels.
 */
import { backend_util, type KernelFunc } from '@tensorflow/tfjs-core';
import { float32Values, sameShape, scratchBuffer, type AccelKernel, type CpuBackendLike, type KernelArgs } from './cpuBackend.js';
import { applyEpilogue, isKnownActivation } from './epilogue.js';
import { type ConvMode, convGeometry, type NativeBlas } from './native.js';
import { outputPool } from './outputPool.js';

type Conv2DInfo = backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];

/** Patch-matrix elements per chunk and thread (8 MB of float32): bounds memory and stays in L3, keeps sgemm's m large. */
const CHUNK_ELEMENTS = 1 << 21;

interface ConvAttrs {
  strides?: number | [number, number];
  pad?: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape?: number[];
  filterShape?: number[];
  activation?: string;
  leakyreluAlpha?: number;
}

/** tfjs's conv geometry for NHWC, or undefined for anything we leave to the original kernel. */
function convInfoNhwc(
  inShape: readonly number[] | undefined,
  filterShape: readonly number[] | undefined,
  attrs: ConvAttrs,
  dilations: number | [number, number],
): Conv2DInfo | undefined {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return undefined;
  if (!inShape || !filterShape || inShape.length !== 4 || filterShape.length !== 4) return undefined;
  try {
    const info = backend_util.computeConv2DInfo(
      inShape as Shape4,
      filterShape as Shape4,
      attrs.strides ?? 1,
      dilations,
      attrs.pad ?? 'valid',
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    return info.dataFormat === 'channelsLast' && info.outHeight >= 0 && info.outWidth >= 0 ? info : undefined;
  } catch {
    return undefined; // the original kernel raises tfjs's error for the same input
  }
}

/** True when the patch matrix of an image is the image itself (1x1 filter, stride 1, no padding). */
function isPointwise(info: Conv2DInfo): boolean {
  return (
    info.filterHeight === 1 &&
    info.filterWidth === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight === info.inHeight &&
    info.outWidth === info.inWidth
  );
}

function imagesPerChunk(info: Conv2DInfo): number {
  const perImage = info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels;
  return Math.max(1, Math.min(info.batchSize, Math.floor(CHUNK_ELEMENTS / Math.max(1, perImage))));
}

/**
 * The whole batch through the addon's threaded chunks (native/conv_chunks.h): the images are shared
 * among OpenBLAS's thread count, each thread running im2col + single-threaded sgemm on chunks of at
 * most `imagesPerChunk` images, into a scratch patch matrix of its own.
 */
function convChunks(blas: NativeBlas, mode: ConvMode, a: Float32Array, b: Float32Array, info: Conv2DInfo, out: Float32Array): void {
  const geometry = convGeometry(info);
  const chunk = imagesPerChunk(info);
  const threads = blas.info().numThreads;
  const scratchLength = blas.convChunksScratch(mode, a, b, ...geometry, info.outChannels, out, chunk, threads);
  blas.convChunks(mode, a, b, ...geometry, info.outChannels, out, chunk, threads, scratchBuffer(scratchLength));
}

/** y [N, outH, outW, cout] = conv(x, w). */
export function conv2dForward(blas: NativeBlas, x: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array {
  const { batchSize, outHeight, outWidth, outChannels } = info;
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const pixels = outHeight * outWidth;
  const y = outputPool.take(batchSize * pixels * outChannels);
  if (y.length === 0 || k === 0) return y; // no input channels: every output is 0
  if (isPointwise(info)) {
    blas.sgemm(false, false, batchSize * pixels, outChannels, k, 1, x, Math.max(1, k), w, outChannels, 0, y, outChannels);
    return y;
  }
  convChunks(blas, 0, x, w, info, y);
  return y;
}

/** dx [N, H, W, cin] from dy [N, outH, outW, cout] and w. */
export function conv2dBackpropInput(blas: NativeBlas, dy: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const k = info.filterHeight * info.filterWidth * inChannels;
  const pixels = outHeight * outWidth;
  const dx = outputPool.take(batchSize * inHeight * inWidth * inChannels);
  if (dx.length === 0 || pixels === 0) return dx;
  if (outChannels === 0) return dx;
  if (isPointwise(info)) {
    blas.sgemm(false, true, batchSize * pixels, k, outChannels, 1, dy, outChannels, w, outChannels, 0, dx, Math.max(1, k));
    return dx;
  }
  convChunks(blas, 1, dy, w, info, dx);
  return dx;
}

/** dW [fh, fw, cin, cout] from x and dy. */
export function conv2dBackpropFilter(blas: NativeBlas, x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array {
  const { batchSize, inChannels, outHeight, outWidth, outChannels } = info;
  const k = info.filterHeight * info.filterWidth * inChannels;
  const pixels = outHeight * outWidth;
  const dw = outputPool.take(k * outChannels);
  if (dw.length === 0 || batchSize * pixels === 0) return dw;
  if (isPointwise(info)) {
    blas.sgemm(true, false, k, outChannels, batchSize * pixels, 1, x, k, dy, outChannels, 0, dw, outChannels);
    return dw;
  }
  convChunks(blas, 2, x, dy, info, dw);
  return dw;
}

function forwardInfo(args: KernelArgs, backend: CpuBackendLike): { info: Conv2DInfo; x: Float32Array; w: Float32Array } | undefined {
  const { x, filter } = args.inputs;
  const attrs = (args.attrs ?? {}) as ConvAttrs;
  const xv = float32Values(backend, x);
  const wv = float32Values(backend, filter);
  if (!x || !filter || !xv || !wv) return undefined;
  const info = convInfoNhwc(x.shape, filter.shape, attrs, attrs.dilations ?? 1);
  return info ? { info, x: xv, w: wv } : undefined;
}

export const conv2d: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const setup = forwardInfo(args, args.backend);
  if (!setup) return original(args as never);
  const y = conv2dForward(blas, setup.x, setup.w, setup.info);
  return args.backend.makeTensorInfo(setup.info.outShape, 'float32', y);
};

export const fusedConv2d: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const attrs = (args.attrs ?? {}) as ConvAttrs;
  if (!isKnownActivation(attrs.activation)) return original(args as never);
  const setup = forwardInfo(args, args.backend);
  if (!setup) return original(args as never);
  const y = conv2dForward(blas, setup.x, setup.w, setup.info);
  const result = args.backend.makeTensorInfo(setup.info.outShape, 'float32', y);
  const { bias, preluActivationWeights } = args.inputs;
  return applyEpilogue(blas, args.backend, result, y, bias, attrs.activation, preluActivationWeights, attrs.leakyreluAlpha);
};

export const conv2dBackpropInputKernel: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const { dy, filter } = args.inputs;
  const attrs = (args.attrs ?? {}) as ConvAttrs;
  const dyv = float32Values(args.backend, dy);
  const wv = float32Values(args.backend, filter);
  if (!dy || !filter || !dyv || !wv) return original(args as never);
  // The tfjs kernel ignores dilations here (conv2d's gradient requires dilation 1).
  const info = convInfoNhwc(attrs.inputShape, filter.shape, attrs, 1);
  if (!info || !sameShape(dy.shape, info.outShape)) return original(args as never);
  const dx = conv2dBackpropInput(blas, dyv, wv, info);
  return args.backend.makeTensorInfo(info.inShape, 'float32', dx);
};

export const conv2dBackpropFilterKernel: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const { x, dy } = args.inputs;
  const attrs = (args.attrs ?? {}) as ConvAttrs;
  const xv = float32Values(args.backend, x);
  const dyv = float32Values(args.backend, dy);
  if (!x || !dy || !xv || !dyv) return original(args as never);
  const info = convInfoNhwc(x.shape, attrs.filterShape, attrs, 1);
  if (!info || !sameShape(dy.shape, info.outShape)) return original(args as never);
  const dw = conv2dBackpropFilter(blas, xv, dyv, info);
  return args.backend.makeTensorInfo(info.filterShape, 'float32', dw);
};
