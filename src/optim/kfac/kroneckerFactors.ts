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

/** Rows of the layer's input design matrix: [N (x positions), fanIn (+1)]. */
export function activationRows(layer: KfacLayer, a: Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    let rows: tf.Tensor2D;
    if (layer.kind === 'dense') {
      rows = tf.reshape(a, [a.shape[0], -1]) as tf.Tensor2D;
    } else {
      const [kh, kw] = layer.kernel.shape;
      const patches = extractPatches(a, kh, kw, layer.stride, layer.padding);
      rows = tf.reshape(patches, [-1, patches.shape[3] as number]) as tf.Tensor2D;
    }
    return layer.bias ? (tf.concat([rows, tf.ones([rows.shape[0], 1])], 1) as tf.Tensor2D) : rows;
  });
}

export function activationFactor(layer: KfacLayer, a: Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = activationRows(layer, a);
    return tf.div(tf.matMul(rows, rows, true, false), rows.shape[0]) as tf.Tensor2D;
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
