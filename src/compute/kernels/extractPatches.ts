/**
 * A custom tfjs kernel: NHWC image patches (im2col) in the order (kernel row, kernel column, channel),
 * for K-FAC's conv activation factor. tfjs has no ExtractImagePatches, and composing it from
 * strided slices and a concat costs seconds per step on the CPU backend. This module registers a
 * typed-array loop for backend 'cpu'; the BLAS layer replaces it with the addon's im2col. Other
 * backends have no such kernel and K-FAC falls back to the composed ops (native there).
 */
import { registerCpuKernel } from './cpuKernel.js';

export const EXTRACT_PATCHES_KERNEL = 'NgdBenchExtractPatches';

export interface ExtractPatchesAttrs {
  kernelHeight: number;
  kernelWidth: number;
  stride: number;
  padding: 'same' | 'valid';
}

export interface PatchGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  padTop: number;
  padLeft: number;
}

/** TF's 'same' padding: output size ceil(in / stride), the extra pixel of odd padding at the end. */
export function samePadding(inSize: number, kernel: number, stride: number): { before: number; after: number; outSize: number } {
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max((outSize - 1) * stride + kernel - inSize, 0);
  return { before: Math.floor(total / 2), after: total - Math.floor(total / 2), outSize };
}

export function patchGeometry(shape: readonly number[], attrs: ExtractPatchesAttrs): PatchGeometry {
  const [batch, inHeight, inWidth, channels] = shape;
  if (attrs.padding === 'same') {
    const h = samePadding(inHeight, attrs.kernelHeight, attrs.stride);
    const w = samePadding(inWidth, attrs.kernelWidth, attrs.stride);
    return { batch, inHeight, inWidth, channels, outHeight: h.outSize, outWidth: w.outSize, padTop: h.before, padLeft: w.before };
  }
  const outHeight = Math.floor((inHeight - attrs.kernelHeight) / attrs.stride) + 1;
  const outWidth = Math.floor((inWidth - attrs.kernelWidth) / attrs.stride) + 1;
  return { batch, inHeight, inWidth, channels, outHeight, outWidth, padTop: 0, padLeft: 0 };
}

export function patchesShape(g: PatchGeometry, attrs: ExtractPatchesAttrs): number[] {
  return [g.batch, g.outHeight, g.outWidth, attrs.kernelHeight * attrs.kernelWidth * g.channels];
}

/** The reference loop: out[b, y, x, (r*kw + s)*c + ch] = in[b, y*stride + r - padTop, x*stride + s - padLeft, ch], 0 outside. */
export function extractPatchesInto(x: Float32Array, g: PatchGeometry, attrs: ExtractPatchesAttrs, out: Float32Array): void {
  const { kernelHeight: kh, kernelWidth: kw, stride } = attrs;
  const c = g.channels;
  let o = 0;
  for (let b = 0; b < g.batch; b++) {
    const image = b * g.inHeight * g.inWidth * c;
    for (let oy = 0; oy < g.outHeight; oy++) {
      for (let ox = 0; ox < g.outWidth; ox++) {
        for (let r = 0; r < kh; r++) {
          const iy = oy * stride + r - g.padTop;
          for (let s = 0; s < kw; s++) {
            const ix = ox * stride + s - g.padLeft;
            if (iy < 0 || iy >= g.inHeight || ix < 0 || ix >= g.inWidth) {
              out.fill(0, o, o + c);
            } else {
              const start = image + (iy * g.inWidth + ix) * c;
              out.set(x.subarray(start, start + c), o);
            }
            o += c;
          }
        }
      }
    }
  }
}

registerCpuKernel(EXTRACT_PATCHES_KERNEL, ({ inputs, cpu, attrs }) => {
  const x = inputs.x;
  const a = attrs as unknown as ExtractPatchesAttrs;
  const values = cpu.data.get(x.dataId).values;
  if (!(values instanceof Float32Array) || x.shape.length !== 4)
    throw new Error(`${EXTRACT_PATCHES_KERNEL}: expects a float32 NHWC tensor`);
  const g = patchGeometry(x.shape, a);
  const shape = patchesShape(g, a);
  const out = new Float32Array(shape.reduce((p, d) => p * d, 1));
  extractPatchesInto(values, g, a, out);
  return cpu.makeTensorInfo(shape, 'float32', out);
});
