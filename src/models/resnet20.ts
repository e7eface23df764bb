/**
 * CIFAR-style ResNet-20 (He et al. 2016, sec. 4.2): 3x3 conv 16, three stages of three basic blocks
 * (16, 32, 64 filters; stride 2 at stage entry, 1x1 projection shortcut), global average pool, dense.
 * Convolutions carry no bias (batch norm follows); K-FAC covers every conv and the dense head.
 */
import { tf, type Tensor } from '../tf.js';
import { deriveSeed } from '../util/rng.js';
import {
  applyBatchNorm,
  applyKfacLayer,
  createBatchNorm,
  createConv2d,
  createDense,
  kfacLayerParams,
  type BatchNormLayer,
  type Conv2dLayer,
  type KfacLayer,
} from './layers.js';
import type { ForwardOptions, Model } from './model.js';

interface BasicBlock {
  conv1: Conv2dLayer;
  bn1: BatchNormLayer;
  conv2: Conv2dLayer;
  bn2: BatchNormLayer;
  projection?: { conv: Conv2dLayer; bn: BatchNormLayer };
}

export function createResnet20(inputShape: readonly [number, number, number], numClasses: number, seed: number): Model {
  const init = (name: string) => deriveSeed(seed, 'init', name);
  const conv = (name: string, inChannels: number, filters: number, kernelSize: number, stride: number) =>
    createConv2d(name, { kernelSize, inChannels, filters, stride, padding: 'same', bias: false }, init(name));
  const stem = conv('stem', inputShape[2], 16, 3, 1);
  const stemBn = createBatchNorm('stem_bn', 16);
  const blocks: BasicBlock[] = [];
  let channels = 16;
  for (const [stage, filters] of [16, 32, 64].entries()) {
    for (let b = 0; b < 3; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const name = `stage${stage + 1}_block${b + 1}`;
      const block: BasicBlock = {
        conv1: conv(`${name}_conv1`, channels, filters, 3, stride),
        bn1: createBatchNorm(`${name}_bn1`, filters),
        conv2: conv(`${name}_conv2`, filters, filters, 3, 1),
        bn2: createBatchNorm(`${name}_bn2`, filters),
      };
      if (stride !== 1 || channels !== filters) {
        block.projection = { conv: conv(`${name}_proj`, channels, filters, 1, stride), bn: createBatchNorm(`${name}_proj_bn`, filters) };
      }
      blocks.push(block);
      channels = filters;
    }
  }
  const head = createDense('head', channels, numClasses, init('head'));
  const kfacLayers: KfacLayer[] = [stem];
  const norms: BatchNormLayer[] = [stemBn];
  for (const b of blocks) {
    kfacLayers.push(b.conv1, b.conv2);
    norms.push(b.bn1, b.bn2);
    if (b.projection) {
      kfacLayers.push(b.projection.conv);
      norms.push(b.projection.bn);
    }
  }
  kfacLayers.push(head);
  const otherParams = norms.flatMap((n) => [n.scale, n.shift]);

  return {
    name: 'resnet20',
    kfacLayers,
    otherParams,
    params: [...kfacLayers.flatMap(kfacLayerParams), ...otherParams],
    apply(x: Tensor, options: ForwardOptions): Tensor {
      const { trace, training } = options;
      const update = options.updateRunningStats ?? false;
      const convBn = (c: Conv2dLayer, bn: BatchNormLayer, h: Tensor) => applyBatchNorm(bn, applyKfacLayer(c, h, trace), training, update);
      let h = tf.relu(convBn(stem, stemBn, x));
      for (const b of blocks) {
        const shortcut = b.projection ? convBn(b.projection.conv, b.projection.bn, h) : h;
        const y = convBn(b.conv2, b.bn2, tf.relu(convBn(b.conv1, b.bn1, h)));
        h = tf.relu(tf.add(y, shortcut));
      }
      h = tf.mean(h, [1, 2]);
      return applyKfacLayer(head, h, trace);
    },
    dispose() {
      for (const p of this.params) p.dispose();
      for (const n of norms) {
        n.runningMean.dispose();
        n.runningVariance.dispose();
      }
    },
  };
}
