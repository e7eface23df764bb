/**
 * im2col for K-FAC's conv activation factor (Grosse & Martens 2016, KFC): every output position's
 * receptive field, flattened in the order (kernel row, kernel column, input channel) so that it lines
 * up with the rows of a tfjs [kh, kw, cin, cout] filter reshaped to [kh*kw*cin, cout].
 */
import { EXTRACT_PATCHES_KERNEL, samePadding, type ExtractPatchesAttrs } from '../../compute/kernels/extractPatches.js';
import { tf, type Tensor } from '../../tf.js';

/** The same patches from strided slices and a concat, for backends without the custom kernel. */
export function composedPatches(a: Tensor, attrs: ExtractPatchesAttrs): Tensor {
  const { kernelHeight, kernelWidth, stride, padding } = attrs;
  return tf.tidy(() => {
    const [n, h, w, c] = a.shape as [number, number, number, number];
    let padded = a as tf.Tensor4D;
    let outH: number;
    let outW: number;
    if (padding === 'same') {
      const ph = samePadding(h, kernelHeight, stride);
      const pw = samePadding(w, kernelWidth, stride);
      padded = tf.pad(padded, [
        [0, 0],
        [ph.before, ph.after],
        [pw.before, pw.after],
        [0, 0],
      ]);
      outH = ph.outSize;
      outW = pw.outSize;
    } else {
      outH = Math.floor((h - kernelHeight) / stride) + 1;
      outW = Math.floor((w - kernelWidth) / stride) + 1;
    }
    const slices: Tensor[] = [];
    for (let i = 0; i < kernelHeight; i++) {
      for (let j = 0; j < kernelWidth; j++) {
        slices.push(
          tf.stridedSlice(padded, [0, i, j, 0], [n, i + stride * (outH - 1) + 1, j + stride * (outW - 1) + 1, c], [1, stride, stride, 1]),
        );
      }
    }
    return slices.length === 1 ? slices[0] : tf.concat(slices, 3);
  });
}

/** [N, H, W, C] -> [N, H', W', kh*kw*C], through the custom kernel where the backend has one. */
export function extractPatches(a: Tensor, kernelHeight: number, kernelWidth: number, stride: number, padding: 'same' | 'valid'): Tensor {
  const attrs: ExtractPatchesAttrs = { kernelHeight, kernelWidth, stride, padding };
  if (a.dtype === 'float32' && tf.getKernel(EXTRACT_PATCHES_KERNEL, tf.getBackend())) {
    return tf.engine().runKernel(EXTRACT_PATCHES_KERNEL, { x: a }, attrs as unknown as tf.NamedAttrMap) as Tensor;
  }
  return composedPatches(a, attrs);
}
