/** K-FAC's patch extraction (the custom kernel of src/compute/kernels/extractPatches.ts) through the addon's im2col. */
import type { KernelFunc } from '@tensorflow/tfjs-core';
import { patchGeometry, patchesShape, type ExtractPatchesAttrs } from '../kernels/extractPatches.js';
import { float32Values, sizeOf, type AccelKernel, type KernelArgs } from './cpuBackend.js';
import type { NativeBlas } from './native.js';
import { outputPool } from './outputPool.js';

export const extractPatches: AccelKernel = (blas: NativeBlas, args: KernelArgs, original: KernelFunc) => {
  const x = args.inputs.x;
  const values = float32Values(args.backend, x);
  if (!x || !values || x.shape.length !== 4) return original(args as never);
  const attrs = args.attrs as unknown as ExtractPatchesAttrs;
  const g = patchGeometry(x.shape, attrs);
  const shape = patchesShape(g, attrs);
  const out = outputPool.take(sizeOf(shape));
  if (out.length > 0) {
    blas.im2col(
      values.subarray(0, sizeOf(x.shape)),
      g.batch,
      g.inHeight,
      g.inWidth,
      g.channels,
      attrs.kernelHeight,
      attrs.kernelWidth,
      attrs.stride,
      attrs.stride,
      1,
      1,
      g.padTop,
      g.padLeft,
      g.outHeight,
      g.outWidth,
      out,
    );
  }
  return args.backend.makeTensorInfo(shape, 'float32', out);
};
