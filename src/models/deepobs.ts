/**
 * The networks of the DeepOBS test problems (Schneider, Balles & Hennig, ICLR 2019), as its TensorFlow
 * source defines them (github.com/fsschneider/DeepOBS, deepobs/tensorflow/testproblems/): layer sizes,
 * padding, pooling and initialisation. Their regularisation (3c3d's L2 of 0.002 on the kernels) is the
 * optimizer's weight decay in a config, applied with `weightDecayExclude: ['bias']` (src/config/problems.ts).
 */
import { tf, type Tensor } from '../tf.js';
import { deriveSeed } from '../util/rng.js';
import { denseReluChain } from './denseReluChain.js';
import { applyFusedLayer } from './fusedLayer.js';
import { createConv2d, createDense, type KfacLayer, type LayerInit } from './layers.js';
import { modelOfKfacLayers, type ForwardOptions, type Model } from './model.js';

type Shape = readonly [number, number, number];

/** `_mlp.py`: 784-1000-500-100-out, ReLU; kernels truncated normal (std 3e-2), biases 0. */
export function createDeepobsMlp(inputShape: Shape, numClasses: number, seed: number): Model {
  const init: LayerInit = { kernel: { kind: 'truncated-normal', std: 3e-2 }, bias: 0 };
  const inputs = inputShape[0] * inputShape[1] * inputShape[2];
  const widths = [inputs, 1000, 500, 100, numClasses];
  const layers = widths
    .slice(1)
    .map((units, i) => createDense(`dense${i + 1}`, widths[i], units, deriveSeed(seed, 'init', `dense${i + 1}`), init));
  return denseReluChain('deepobs-mlp', layers, inputs);
}

/**
 * `_2c2d.py`: conv 5x5x32 'same' + ReLU, max-pool 2x2/2 'same', conv 5x5x64 'same' + ReLU, max-pool,
 * dense 1024 + ReLU, dense to logits; kernels truncated normal (std 0.05), biases 0.05.
 */
export function create2c2d(inputShape: Shape, numClasses: number, seed: number): Model {
  const [height, width, channels] = inputShape;
  const init: LayerInit = { kernel: { kind: 'truncated-normal', std: 0.05 }, bias: 0.05 };
  const at = (name: string) => deriveSeed(seed, 'init', name);
  const pooled = Math.ceil(Math.ceil(height / 2) / 2) * Math.ceil(Math.ceil(width / 2) / 2) * 64;
  const conv1 = createConv2d('conv1', { kernelSize: 5, inChannels: channels, filters: 32 }, at('conv1'), init);
  const conv2 = createConv2d('conv2', { kernelSize: 5, inChannels: 32, filters: 64 }, at('conv2'), init);
  const dense1 = createDense('dense1', pooled, 1024, at('dense1'), init);
  const dense2 = createDense('dense2', 1024, numClasses, at('dense2'), init);
  return modelOfKfacLayers('2c2d', [conv1, conv2, dense1, dense2], (x: Tensor, { trace }: ForwardOptions): Tensor => {
    const relu = { activation: 'relu', trace } as const;
    let h = tf.maxPool(applyFusedLayer(conv1, x, { ...relu, inputIsData: true }) as tf.Tensor4D, 2, 2, 'same');
    h = tf.maxPool(applyFusedLayer(conv2, h, relu) as tf.Tensor4D, 2, 2, 'same');
    const flat = applyFusedLayer(dense1, tf.reshape(h, [x.shape[0], pooled]), relu);
    return applyFusedLayer(dense2, flat, { activation: 'linear', trace });
  });
}

/**
 * `_3c3d.py`: conv 5x5x64 'valid', max-pool 3x3/2 'same', conv 3x3x96 'valid', max-pool, conv 3x3x128
 * 'same', max-pool, dense 512, dense 256 (all ReLU), dense to logits; conv kernels Glorot normal, dense
 * kernels Glorot uniform, biases 0.
 */
export function create3c3d(inputShape: Shape, numClasses: number, seed: number): Model {
  const [height, width, channels] = inputShape;
  const at = (name: string) => deriveSeed(seed, 'init', name);
  const convInit: LayerInit = { kernel: { kind: 'glorot-normal' }, bias: 0 };
  const denseInit: LayerInit = { kernel: { kind: 'glorot-uniform' }, bias: 0 };
  // conv 5 'valid' (n - 4), pool 3/2 'same' (ceil(n / 2)), conv 3 'valid' (n - 2), pool, conv 'same', pool.
  const pool = (n: number) => Math.ceil(n / 2);
  const side = (n: number) => pool(pool(pool(n - 4) - 2));
  const pooled = side(height) * side(width) * 128;
  const conv1 = createConv2d('conv1', { kernelSize: 5, inChannels: channels, filters: 64, padding: 'valid' }, at('conv1'), convInit);
  const conv2 = createConv2d('conv2', { kernelSize: 3, inChannels: 64, filters: 96, padding: 'valid' }, at('conv2'), convInit);
  const conv3 = createConv2d('conv3', { kernelSize: 3, inChannels: 96, filters: 128, padding: 'same' }, at('conv3'), convInit);
  const dense1 = createDense('dense1', pooled, 512, at('dense1'), denseInit);
  const dense2 = createDense('dense2', 512, 256, at('dense2'), denseInit);
  const dense3 = createDense('dense3', 256, numClasses, at('dense3'), denseInit);
  const layers: KfacLayer[] = [conv1, conv2, conv3, dense1, dense2, dense3];
  return modelOfKfacLayers('3c3d', layers, (x: Tensor, { trace }: ForwardOptions): Tensor => {
    const relu = { activation: 'relu', trace } as const;
    let h: Tensor = x;
    for (const conv of [conv1, conv2, conv3]) {
      h = tf.maxPool(applyFusedLayer(conv, h, { ...relu, inputIsData: conv === conv1 }) as tf.Tensor4D, 3, 2, 'same');
    }
    h = applyFusedLayer(dense1, tf.reshape(h, [x.shape[0], pooled]), relu);
    h = applyFusedLayer(dense2, h, relu);
    return applyFusedLayer(dense3, h, { activation: 'linear', trace });
  });
}
