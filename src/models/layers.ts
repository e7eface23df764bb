/**
 * The parameterized layers a model is built from. Dense and conv layers are the ones K-FAC
 * preconditions (`KfacLayer`); batch-norm scale/shift are updated by the SGD rule.
 */
import { tf, type Tensor, type Variable } from '../tf.js';
import type { LayerTrace } from './layerTrace.js';

export interface DenseLayer {
  readonly kind: 'dense';
  readonly name: string;
  /** [in, out]: s = a W + b. */
  readonly kernel: Variable;
  readonly bias: Variable | null;
}

export interface Conv2dLayer {
  readonly kind: 'conv2d';
  readonly name: string;
  /** [kh, kw, cin, cout] (tfjs filter layout). */
  readonly kernel: Variable;
  readonly bias: Variable | null;
  readonly stride: number;
  readonly padding: 'same' | 'valid';
}

export type KfacLayer = DenseLayer | Conv2dLayer;

export interface BatchNormLayer {
  readonly name: string;
  readonly scale: Variable;
  readonly shift: Variable;
  readonly runningMean: Variable;
  readonly runningVariance: Variable;
}

/** A variable initialized from `init`, which is then released (the variable keeps its own reference). */
function variableFrom(init: Tensor, trainable = true): Variable {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

/**
 * How a layer's weights start: He-uniform (ReLU networks; the default), a truncated normal of a given
 * standard deviation, or Glorot normal/uniform (TF1's, the normal one truncated at 2 sigma and rescaled),
 * as the DeepOBS networks use; the bias as a constant. Seeded per layer so runs are reproducible.
 */
export interface LayerInit {
  readonly kernel:
    | { kind: 'he-uniform' }
    | { kind: 'truncated-normal'; std: number }
    | { kind: 'glorot-normal' }
    | { kind: 'glorot-uniform' };
  readonly bias?: number;
}

const HE_UNIFORM: LayerInit = { kernel: { kind: 'he-uniform' } };
/** Std of a unit normal truncated at ±2: TF's variance scaling divides by it so the variance is as asked. */
const TRUNCATED_STD = 0.8796256610342398;

function initialKernel(shape: number[], fanIn: number, fanOut: number, init: LayerInit['kernel'], seed: number): Variable {
  switch (init.kind) {
    case 'he-uniform': {
      const limit = Math.sqrt(6 / fanIn);
      return variableFrom(tf.randomUniform(shape, -limit, limit, 'float32', seed));
    }
    case 'truncated-normal':
      return variableFrom(tf.truncatedNormal(shape, 0, init.std, 'float32', seed));
    case 'glorot-normal':
      return variableFrom(tf.truncatedNormal(shape, 0, Math.sqrt(2 / (fanIn + fanOut)) / TRUNCATED_STD, 'float32', seed));
    case 'glorot-uniform': {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return variableFrom(tf.randomUniform(shape, -limit, limit, 'float32', seed));
    }
  }
}

const initialBias = (units: number, init: LayerInit) =>
  variableFrom(init.bias === undefined || init.bias === 0 ? tf.zeros([units]) : tf.fill([units], init.bias));

export function createDense(name: string, inputs: number, units: number, seed: number, init: LayerInit = HE_UNIFORM): DenseLayer {
  return {
    kind: 'dense',
    name,
    kernel: initialKernel([inputs, units], inputs, units, init.kernel, seed),
    bias: initialBias(units, init),
  };
}

export function createConv2d(
  name: string,
  options: { kernelSize: number; inChannels: number; filters: number; stride?: number; padding?: 'same' | 'valid'; bias?: boolean },
  seed: number,
  init: LayerInit = HE_UNIFORM,
): Conv2dLayer {
  const { kernelSize: k, inChannels, filters } = options;
  return {
    kind: 'conv2d',
    name,
    // Fans as Keras counts them for a conv kernel: receptive field × channels in and out.
    kernel: initialKernel([k, k, inChannels, filters], k * k * inChannels, k * k * filters, init.kernel, seed),
    bias: options.bias === false ? null : initialBias(filters, init),
    stride: options.stride ?? 1,
    padding: options.padding ?? 'same',
  };
}

export function createBatchNorm(name: string, channels: number): BatchNormLayer {
  return {
    name,
    scale: variableFrom(tf.ones([channels])),
    shift: variableFrom(tf.zeros([channels])),
    runningMean: variableFrom(tf.zeros([channels]), false),
    runningVariance: variableFrom(tf.ones([channels]), false),
  };
}

export function kfacLayerParams(layer: KfacLayer): Variable[] {
  return layer.bias ? [layer.kernel, layer.bias] : [layer.kernel];
}

/** Pre-activation of a dense or conv layer, recorded for K-FAC when a trace is given. */
export function applyKfacLayer(layer: KfacLayer, a: Tensor, trace?: LayerTrace): Tensor {
  trace?.recordInput(layer.name, a);
  let s: Tensor =
    layer.kind === 'dense'
      ? tf.matMul(a as tf.Tensor2D, layer.kernel as Tensor as tf.Tensor2D)
      : tf.conv2d(a as tf.Tensor4D, layer.kernel as Tensor as tf.Tensor4D, layer.stride, layer.padding);
  if (layer.bias) s = tf.add(s, layer.bias);
  return trace ? trace.tapPreActivation(layer.name, s) : s;
}

const BATCH_NORM_MOMENTUM = 0.9;
const BATCH_NORM_EPSILON = 1e-5;

/**
 * Batch norm over N, H, W. In training it normalizes with the batch statistics and, when asked,
 * folds them into the running averages used at evaluation.
 */
export function applyBatchNorm(bn: BatchNormLayer, x: Tensor, training: boolean, updateRunningStats: boolean): Tensor {
  if (!training) {
    return tf.batchNorm(x, bn.runningMean, bn.runningVariance, bn.shift, bn.scale, BATCH_NORM_EPSILON);
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  if (updateRunningStats) {
    tf.tidy(() => {
      bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, BATCH_NORM_MOMENTUM), tf.mul(mean, 1 - BATCH_NORM_MOMENTUM)));
      bn.runningVariance.assign(tf.add(tf.mul(bn.runningVariance, BATCH_NORM_MOMENTUM), tf.mul(variance, 1 - BATCH_NORM_MOMENTUM)));
    });
  }
  return tf.batchNorm(x, mean, variance, bn.shift, bn.scale, BATCH_NORM_EPSILON);
}
