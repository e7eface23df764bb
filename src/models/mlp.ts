/** Multi-layer perceptron: flatten, dense+ReLU for each hidden width, dense to logits. */
import { deriveSeed } from '../util/rng.js';
import { denseReluChain } from './denseReluChain.js';
import { createDense, type DenseLayer } from './layers.js';
import type { Model } from './model.js';

export function createMlp(inputShape: readonly number[], numClasses: number, hiddenWidths: readonly number[], seed: number): Model {
  const inputs = inputShape.reduce((a, b) => a * b, 1);
  const widths = [inputs, ...hiddenWidths, numClasses];
  const layers: DenseLayer[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    layers.push(createDense(`dense${i + 1}`, widths[i], widths[i + 1], deriveSeed(seed, 'init', `dense${i + 1}`)));
  }
  return denseReluChain('mlp', layers, inputs);
}
