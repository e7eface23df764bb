/** Multi-layer perceptron: flatten, dense+ReLU for each hidden width, dense to logits. */
import { tf, type Tensor } from '../tf.js';
import { deriveSeed } from '../util/rng.js';
import { applyKfacLayer, createDense, type DenseLayer } from './layers.js';
import { modelOfKfacLayers, type ForwardOptions, type Model } from './model.js';

export function createMlp(inputShape: readonly number[], numClasses: number, hiddenWidths: readonly number[], seed: number): Model {
  const inputs = inputShape.reduce((a, b) => a * b, 1);
  const widths = [inputs, ...hiddenWidths, numClasses];
  const layers: DenseLayer[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    layers.push(createDense(`dense${i + 1}`, widths[i], widths[i + 1], deriveSeed(seed, 'init', `dense${i + 1}`)));
  }
  return modelOfKfacLayers('mlp', layers, (x: Tensor, options: ForwardOptions): Tensor => {
    let h: Tensor = tf.reshape(x, [x.shape[0], inputs]);
    layers.forEach((layer, i) => {
      h = applyKfacLayer(layer, h, options.trace);
      if (i < layers.length - 1) h = tf.relu(h);
    });
    return h;
  });
}
