/**
 * The two Kronecker factors of a layer's Fisher block, F ~= A (x) G (Martens & Grosse 2015, eq. 1;
 * Grosse & Martens 2016 for convolutions):
 *   A = E[a_bar a_bar^T]  over examples (and, for conv, spatial positions: mean over patches),
 *   G = E[g g^T]          with g = dL_n/ds the per-example pre-activation gradient (for conv, the
 *                         spatial sum: G = (1/N) sum_n sum_t g_nt g_nt^T).
 * a_bar is the input (patch) with a trailing 1 when the layer has a bias, folding the bias into K-FAC.
 */
import type { Conv2dLayer, KfacLayer } from '../../models/layers.js';
import { tf, type Tensor } from '../../tf.js';
import { extractPatches } from './patches.js';

/** Rows of the layer's input design matrix, without the bias column: [N (x positions), fanIn]. */
export function inputRows(layer: KfacLayer, a: Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    if (layer.kind === 'dense') return tf.reshape(a, [a.shape[0], -1]) as tf.Tensor2D;
    const [kh, kw] = layer.kernel.shape;
    const patches = extractPatches(a, kh, kw, layer.stride, layer.padding);
    return tf.reshape(patches, [-1, patches.shape[3] as number]) as tf.Tensor2D;
  });
}

/** Input rows a_bar = [a, 1] when the layer has a bias, else the rows as they are. */
function withBiasColumn(layer: KfacLayer, rows: tf.Tensor2D): tf.Tensor2D {
  return layer.bias ? tf.concat([rows, tf.ones([rows.shape[0], 1])], 1) : rows;
}

/** A dense layer's design matrix a_bar, [N, fanIn (+1)]: the rows of its gradient a_bar^T g. */
export function designRows(layer: KfacLayer, a: Tensor): tf.Tensor2D {
  if (layer.kind !== 'dense') throw new Error(`K-FAC: design rows of conv layer ${layer.name} would materialize every patch`);
  return tf.tidy(() => withBiasColumn(layer, inputRows(layer, a)));
}

/**
 * Patch-matrix elements one chunk of a conv layer's A may hold (64 MB of float32). The patches of a
 * whole large batch do not fit: at b8192 the cnn's second conv has 8192 x 14 x 14 x 800 of them, 5 GB.
 */
export const PATCH_CHUNK_ELEMENTS = 1 << 24;

/**
 * A = mean over rows of a_bar a_bar^T. With a bias, a_bar = [a, 1] and
 *   A = (1/n) [[R^T R, R^T 1], [1^T R, n]],
 * assembled from blocks when rows outnumber columns (conv patches: appending a ones column would
 * copy the whole patch matrix), else by appending the column (dense layers at small batch). A conv
 * layer's patches are taken a chunk of images at a time (PATCH_CHUNK_ELEMENTS), the Gram matrix and
 * the column sums added up over chunks; a batch that fits one chunk is computed exactly as before.
 */
export function activationFactor(layer: KfacLayer, a: Tensor, chunkElements = PATCH_CHUNK_ELEMENTS): tf.Tensor2D {
  const images = layer.kind === 'conv2d' ? imagesPerChunk(layer, a, chunkElements) : a.shape[0];
  if (images < a.shape[0]) return chunkedActivationFactor(layer, a, images);
  return tf.tidy(() => {
    const rows = inputRows(layer, a);
    const [n, k] = rows.shape;
    if (!layer.bias || n <= k + 1) {
      const design = withBiasColumn(layer, rows);
      // mul by 1/n rather than div: the CPU backend's RealDiv takes its slow broadcasting path.
      return tf.mul(tf.matMul(design, design, true, false), 1 / n) as tf.Tensor2D;
    }
    return withBiasBlocks(tf.matMul(rows, rows, true, false), tf.sum(rows, 0, true), n);
  });
}

/** Images whose patches fit `chunkElements` (at least one): output positions x patch length per image. */
function imagesPerChunk(layer: Conv2dLayer, a: Tensor, chunkElements: number): number {
  const [kh, kw, cin] = layer.kernel.shape as number[];
  const [, h, w] = a.shape as number[];
  const perImage = Math.ceil(h / layer.stride) * Math.ceil(w / layer.stride) * kh * kw * cin;
  return Math.max(1, Math.floor(chunkElements / perImage));
}

function chunkedActivationFactor(layer: KfacLayer, a: Tensor, images: number): tf.Tensor2D {
  const batch = a.shape[0];
  let gram: Tensor | undefined;
  let sums: Tensor | undefined;
  let n = 0;
  try {
    for (let start = 0; start < batch; start += images) {
      const size = Math.min(images, batch - start);
      const [chunkGram, chunkSums, rowCount] = tf.tidy(() => {
        const rows = inputRows(layer, tf.slice(a, start, size));
        return [tf.matMul(rows, rows, true, false), tf.sum(rows, 0, true), rows.shape[0]] as const;
      });
      n += rowCount;
      const [prevGram, prevSums] = [gram, sums];
      gram = prevGram ? tf.add(prevGram, chunkGram) : chunkGram;
      sums = prevSums ? tf.add(prevSums, chunkSums) : chunkSums;
      if (prevGram) tf.dispose([prevGram, prevSums!, chunkGram, chunkSums]);
    }
    const [g, s] = [gram!, sums!];
    return tf.tidy(() => (layer.bias ? withBiasBlocks(g, s, n) : (tf.mul(g, 1 / n) as tf.Tensor2D)));
  } finally {
    tf.dispose([gram, sums].filter((t): t is Tensor => t !== undefined));
  }
}

/** (1/n) [[G, s^T], [s, n]] for the Gram matrix G = R^T R and the column sums s = 1^T R. */
function withBiasBlocks(gram: Tensor, sums: Tensor, n: number): tf.Tensor2D {
  return tf.tidy(() => {
    const top = tf.concat([gram, tf.transpose(sums)], 1);
    const bottom = tf.concat([sums, tf.fill([1, 1], n)], 1);
    return tf.mul(tf.concat([top, bottom], 0), 1 / n) as tf.Tensor2D;
  });
}

/**
 * `meanLossGrad` is dL/ds for the batch-mean loss, so per-example gradients are N times it:
 * G = (1/N) sum (N g)(N g)^T = N * g^T g, summed over spatial positions for conv.
 */
export function gradientFactor(meanLossGrad: Tensor, batchSize: number): tf.Tensor2D {
  return tf.tidy(() => {
    const channels = meanLossGrad.shape[meanLossGrad.rank - 1] as number;
    const rows = tf.reshape(meanLossGrad, [-1, channels]) as tf.Tensor2D;
    return tf.mul(tf.matMul(rows, rows, true, false), batchSize) as tf.Tensor2D;
  });
}

/** The layer's gradient as the matrix K-FAC preconditions: [fanIn (+1 bias row), out]. */
export function gradientMatrix(layer: KfacLayer, kernelGrad: Tensor, biasGrad: Tensor | undefined): tf.Tensor2D {
  return tf.tidy(() => {
    const out = layer.kernel.shape[layer.kernel.rank - 1] as number;
    const w = tf.reshape(kernelGrad, [-1, out]) as tf.Tensor2D;
    if (!layer.bias) return w;
    if (!biasGrad) throw new Error(`K-FAC: layer ${layer.name} has a bias but no bias gradient`);
    return tf.concat([w, tf.reshape(biasGrad, [1, out])], 0) as tf.Tensor2D;
  });
}

/** Inverse of `gradientMatrix`: back to the kernel's and bias's own shapes. */
export function splitGradientMatrix(layer: KfacLayer, matrix: Tensor): { kernel: Tensor; bias?: Tensor } {
  return tf.tidy(() => {
    const rows = matrix.shape[0] as number;
    if (!layer.bias) return { kernel: tf.reshape(matrix, layer.kernel.shape) };
    const [w, b] = tf.split(matrix, [rows - 1, 1], 0);
    return { kernel: tf.reshape(w, layer.kernel.shape), bias: tf.reshape(b, layer.bias.shape) };
  });
}
