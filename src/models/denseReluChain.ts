/**
 * Dense layers with a ReLU between each pair (mlp, deepobs-mlp), and the backward pass of that chain
 * from the logits to every layer's pre-activation: what K-FAC's MC Fisher needs for its sampled labels,
 * computed from the inputs the forward pass recorded instead of by a second forward and backward pass.
 */
import { tf, type Tensor } from '../tf.js';
import { applyFusedLayer } from './fusedLayer.js';
import type { DenseLayer } from './layers.js';
import { modelOfKfacLayers, type ForwardOptions, type Model } from './model.js';

export function denseReluChain(name: string, layers: readonly DenseLayer[], inputs: number): Model {
  const model = modelOfKfacLayers(name, layers, (x: Tensor, { trace }: ForwardOptions): Tensor => {
    let h: Tensor = tf.reshape(x, [x.shape[0], inputs]);
    layers.forEach((layer, i) => {
      h = applyFusedLayer(layer, h, { activation: i < layers.length - 1 ? 'relu' : 'linear', trace, inputIsData: i === 0 });
    });
    return h;
  });
  return { ...model, preActivationGrads: (logitsGrad, recordedInputs) => chainPreActivationGrads(layers, logitsGrad, recordedInputs) };
}

/**
 * dL/ds of each layer for dL/dlogits, going down the chain: s_i's gradient is dL/ds_{i+1} W_{i+1}^T
 * masked by ReLU's derivative at s_i, and ReLU(s_i) is the next layer's recorded input, positive exactly
 * where s_i is. These are the ops tfjs's own gradients of BatchMatMul and Relu run, in the same order, so
 * the result is bit for bit what a backward pass through the network gives. Caller owns the tensors.
 */
export function chainPreActivationGrads(
  layers: readonly DenseLayer[],
  logitsGrad: Tensor,
  recordedInputs: ReadonlyMap<string, Tensor>,
): Map<string, Tensor> {
  const grads = new Map<string, Tensor>();
  try {
    let g = tf.clone(logitsGrad);
    for (let i = layers.length - 1; ; i--) {
      grads.set(layers[i].name, g);
      if (i === 0) return grads;
      const next = recordedInputs.get(layers[i].name);
      if (!next) throw new Error(`no recorded input for layer ${layers[i].name}`);
      const upper = g;
      g = tf.tidy(() =>
        tf.mul(tf.matMul(upper as tf.Tensor2D, layers[i].kernel as Tensor as tf.Tensor2D, false, true), tf.cast(tf.step(next), 'float32')),
      );
    }
  } catch (error) {
    for (const t of grads.values()) t.dispose();
    throw error;
  }
}
