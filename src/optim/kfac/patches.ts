/**
 * im2col for K-FAC's conv activation factor (Grosse & Martens 2016, KFC): every output position's
 * receptive field, flattened in the order (kernel row, kernel column, input channel) so that it lines
 * up with the rows of a tfjs [kh, kw, cin, cout] filter reshaped to [kh*kw*cin, cout].
 */
import { tf, type Tensor } from '../../tf.js';

/** TF's 'same' padding: output size ceil(in / stride), the extra pixel of odd padding at the end. */
export function samePadding(inSize: number, kernel: number, stride: number): { before: number; after: number; outSize: number } {
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max((outSize - 1) * stride + kernel - inSize, 0);
  return { before: Math.floor(total / 2), after: total - Math.floor(total / 2), outSize };
}

/** [N, H, W, C] -> [N, H', W', kh*kw*C]. */
export function extractPatches(a: Tensor, kernelHeight: number, kernelWidth: number, stride: number, padding: 'same' | 'valid'): Tensor {
  return tf.tidy(() => {
    const [n, h, w, c] = a.shape as [number, number, number, number];
    let padded = a as tf.Tensor4D;
    let outH: number;
    let outW: number;
    if (padding === 'same') {
      const ph = samePadding(h, kernelHeight, stride);
      const pw = samePadding(w, kernelWidth, stride);
      padded = tf.pad(padded, [[0, 0], [ph.before, ph.after], [pw.before, pw.after], [0, 0]]);
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
