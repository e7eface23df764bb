/**
 * What each trainable parameter of a model is, for rules that treat kinds differently (weight decay
 * that skips biases or batch-norm, per-filter noise scaling). The Model contract owns the answer:
 * dense/conv kernels and biases are its K-FAC layers' own, everything else is batch-norm scale/shift.
 */
import type { Variable } from '../tf.js';
import type { Model } from './model.js';

export type ParameterKind = 'kernel' | 'bias' | 'batch-norm';

export function parameterKinds(model: Model): Map<Variable, ParameterKind> {
  const kinds = new Map<Variable, ParameterKind>();
  for (const layer of model.kfacLayers) {
    kinds.set(layer.kernel, 'kernel');
    if (layer.bias) kinds.set(layer.bias, 'bias');
  }
  for (const p of model.otherParams) kinds.set(p, 'batch-norm');
  return kinds;
}
