/**
 * Analytic FLOPs of the benchmarked networks (28x28x1 input, 10 classes), counted as 2 per
 * multiply-add of their convolution and dense layers; activations, pooling and the update are left
 * out, so "% of sgemm" is a lower bound of the work done. A training step is the forward pass, the
 * weight gradient (as many FLOPs) and the input gradient (as many, except for the first layer, whose
 * input needs none).
 */
import type { StepModel } from './trainStep.js';

interface LayerWork {
  name: string;
  /** Multiply-adds per example in the forward pass. */
  macs: number;
}

const conv = (name: string, side: number, kernel: number, cin: number, cout: number): LayerWork => ({
  name,
  macs: side * side * kernel * kernel * cin * cout,
});
const dense = (name: string, inputs: number, units: number): LayerWork => ({ name, macs: inputs * units });

/** cnn and 2c2d: 'same' 5x5 convs at 28x28 and 14x14, 2x2 pools; they differ in the dense width. */
const convStack = (width: number): LayerWork[] => [
  conv('conv1', 28, 5, 1, 32),
  conv('conv2', 14, 5, 32, 64),
  dense('dense1', 7 * 7 * 64, width),
  dense('dense2', width, 10),
];

export const LAYERS: Record<StepModel, LayerWork[]> = {
  mlp: [dense('dense1', 784, 256), dense('dense2', 256, 256), dense('dense3', 256, 10)],
  cnn: convStack(128),
  '2c2d': convStack(1024),
};

/** FLOPs of one SGD training step (forward, weight and input gradients) at a batch size. */
export function trainStepFlops(model: StepModel, batchSize: number): number {
  const layers = LAYERS[model];
  const macs = layers.reduce((sum, layer, i) => sum + layer.macs * (i === 0 ? 2 : 3), 0);
  return 2 * macs * batchSize;
}
