/**
 * MaxPool and MaxPoolGrad in C loops (NHWC, dilation 1 as in tfjs). Semantics of the tfjs CPU
 * kernels: a pixel replaces the running maximum only when strictly greater (the first maximum in
 * window scan order wins, NaN never does), and the gradient goes to that position, recomputed
 * from the input. Geometry comes from tfjs's computePool2DInfo; anything else goes to the original.
 */
import { backend_util, type KernelFunc } from '@tensorflow/tfjs-core';
import { float32Values, sameShape, type AccelKernel, type KernelArgs } from './cpuBackend.js';
import { convGeometry, type NativeBlas } from './native.js';
import { outputPool } from './outputPool.js';

type Conv2DInfo = backend_util.Conv2DInfo;

interface PoolAttrs {
  filterSize?: number | [number, number];
  strides?: number | [number, number];
  pad?: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolInfo(shape: readonly number[], attrs: PoolAttrs): Conv2DInfo | undefined {
  if (shape.length !== 4 || attrs.filterSize === undefined || attrs.strides === undefined || attrs.pad === undefined) return undefined;
  try {
    const info = backend_util.computePool2DInfo(
      shape as [number, number, number, number],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    return info.dataFormat === 'channelsLast' && info.dilationHeight === 1 && info.dilationWidth === 1 ? info : undefined;
  } catch {
    return undefined;
  }
}

export const maxPool: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const { x } = args.inputs;
  const xv = float32Values(args.backend, x);
  const info = x && xv ? poolInfo(x.shape, (args.attrs ?? {}) as PoolAttrs) : undefined;
  // The 1x1 identity case returns the input itself in tfjs: leave it (and every odd case) alone.
  if (!x || !xv || !info || (info.filterHeight === 1 && info.filterWidth === 1 && sameShape(info.inShape, info.outShape))) {
    return original(args as never);
  }
  const y = outputPool.take(info.batchSize * info.outHeight * info.outWidth * info.outChannels);
  if (y.length > 0) blas.maxPool(xv, ...convGeometry(info), y);
  return args.backend.makeTensorInfo(info.outShape, 'float32', y);
};

export const maxPoolGrad: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const { dy, input } = args.inputs;
  const dyv = float32Values(args.backend, dy);
  const xv = float32Values(args.backend, input);
  const info = input && xv ? poolInfo(input.shape, (args.attrs ?? {}) as PoolAttrs) : undefined;
  if (!dy || !input || !dyv || !xv || !info || !sameShape(dy.shape, info.outShape)) return original(args as never);
  if (info.inHeight * info.inWidth * info.inChannels >= 2 ** 31) return original(args as never); // int32 positions in C
  const dx = outputPool.take(info.batchSize * info.inHeight * info.inWidth * info.inChannels);
  if (dx.length > 0) blas.maxPoolGrad(dyv, xv, ...convGeometry(info), dx);
  return args.backend.makeTensorInfo(input.shape, 'float32', dx);
};
