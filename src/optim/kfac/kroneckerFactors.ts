/**
 * The two Kronecker factors of a layer's Fisher block, F ~= A (x) G (Martens & Grosse 2015, eq. 1;
 * Grosse & Martens 2016 for convolutions):
 *   A = E[a_bar a_bar^T]  over examples (and, for conv, spatial positions: mean over patches),
 *   G = E[g g^T]          with g = dL_n/ds the per-example pre-activation gradient (for conv, the
 *                         spatial sum: G = (1/N) sum_n sum_t g_nt g_nt^T).
 * a_bar is the input (patch) with a trailing 1 when the layer has a bias, folding the bias into K-FAC.
 */
import type { KfacLayer } from '../../models/layers.js';
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

/**
 * A = mean over rows of a_bar a_bar^T. With a bias, a_bar = [a, 1] and
 *   A = (1/n) [[R^T R, R^T 1], [1^T R, n]],
 * assembled from blocks when rows outnumber columns (conv patches: appending a ones column would
 * copy the whole patch matrix), else by appending the column (dense layers at small batch).
 */
export function activationFactor(layer: KfacLayer, a: Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = inputRows(layer, a);
    const [n, k] = rows.shape;
    if (!layer.bias || n <= k + 1) {
      const design = layer.bias ? tf.concat([rows, tf.ones([n, 1])], 1) : rows;
      // mul by 1/n rather than div: the CPU backend's RealDiv takes its slow broadcasting path.
      return tf.mul(tf.matMul(design, design, true, false), 1 / n) as tf.Tensor2D;
    }
    const gram = tf.matMul(rows, rows, true, false);
    const sums = tf.sum(rows, 0, true);
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
