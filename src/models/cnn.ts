/**
 * The small CNN of the paper-scale MNIST-style experiments: conv 5x5x32 'same' + ReLU + 2x2 max-pool,
 * conv 5x5x64 'same' + ReLU + 2x2 max-pool, dense 128 + ReLU, dense to logits.
 */
import { tf, type Tensor } from '../tf.js';
import { deriveSeed } from '../util/rng.js';
import { applyFusedLayer } from './fusedLayer.js';
import { createConv2d, createDense, type KfacLayer } from './layers.js';
import { modelOfKfacLayers, type ForwardOptions, type Model } from './model.js';

export function createCnn(inputShape: readonly [number, number, number], numClasses: number, seed: number): Model {
  const [height, width, channels] = inputShape;
  const pooledSize = Math.floor(Math.floor(height / 2) / 2) * Math.floor(Math.floor(width / 2) / 2) * 64;
  const init = (name: string) => deriveSeed(seed, 'init', name);
  const conv1 = createConv2d('conv1', { kernelSize: 5, inChannels: channels, filters: 32 }, init('conv1'));
  const conv2 = createConv2d('conv2', { kernelSize: 5, inChannels: 32, filters: 64 }, init('conv2'));
  const dense1 = createDense('dense1', pooledSize, 128, init('dense1'));
  const dense2 = createDense('dense2', 128, numClasses, init('dense2'));
  const layers: KfacLayer[] = [conv1, conv2, dense1, dense2];
  return modelOfKfacLayers('cnn', layers, (x: Tensor, options: ForwardOptions): Tensor => {
    const { trace } = options;
    const relu = { activation: 'relu', trace } as const;
    let h = applyFusedLayer(conv1, x, { ...relu, inputIsData: true });
    h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
    h = applyFusedLayer(conv2, h, relu);
    h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
    h = tf.reshape(h, [x.shape[0], pooledSize]);
    h = applyFusedLayer(dense1, h, relu);
    return applyFusedLayer(dense2, h, { activation: 'linear', trace });
  });
}
