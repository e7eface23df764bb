/**
 * A dense or conv layer with its bias and activation as one tape node. tfjs keeps every tensor a
 * gradient scope creates until the backward pass ends, so `relu(conv(a) + b)` written as three ops holds
 * three activations of the layer's output size per example (2c2d at batch 8192: 8 GiB peak RSS for one
 * SGD step, most of it these). Here the forward is one fused kernel (FusedConv2D / _FusedMatMul) and the
 * node saves only its output y; the backward forms ds = dy * relu'(s) from y (s > 0 exactly when y > 0)
 * and from it the gradients tfjs's own Conv2D/MatMul, Add and Relu gradients would give, the same
 * kernels on the same values, so the result is the same bit for bit.
 *
 * A layer whose dL/ds a K-FAC trace records takes the unfused path (the trace's tap sits between s and
 * the activation); its input is still recorded here.
 */
import { RELU_BACKPROP_KERNEL } from '../compute/kernels/reluBackprop.js';
import { tf, type Tensor } from '../tf.js';
import { applyKfacLayer, type KfacLayer } from './layers.js';
import type { LayerTrace } from './layerTrace.js';

export interface FusedLayerOptions {
  activation: 'relu' | 'linear';
  trace?: LayerTrace;
  /**
   * The input is data (no gradient wanted): its gradient, a full backward convolution for a first conv
   * layer, is not computed. tfjs's fused conv computes it regardless.
   */
  inputIsData?: boolean;
}

/** activation(layer(a) + bias) as one tape node (see the file comment). */
export function applyFusedLayer(layer: KfacLayer, a: Tensor, options: FusedLayerOptions): Tensor {
  const { activation, trace } = options;
  if (trace?.recordsPreActivationGrad(layer.name)) {
    const s = applyKfacLayer(layer, a, trace);
    return activation === 'relu' ? tf.relu(s) : s;
  }
  trace?.recordInput(layer.name, a);
  const forward = (input: Tensor): Tensor => fusedForward(layer, input, activation);
  // Gradients in the order of `inputs`: [a?, kernel, bias?], each the tfjs gradient of the unfused op.
  const backward = (dy: Tensor, input: Tensor, y: Tensor): Tensor[] =>
    tf.tidy(() => {
      const ds = activation === 'relu' ? reluBackprop(dy, y) : dy;
      const grads: Tensor[] = [];
      if (!options.inputIsData) {
        grads.push(
          layer.kind === 'dense'
            ? tf.matMul(ds as tf.Tensor2D, layer.kernel as Tensor as tf.Tensor2D, false, true)
            : tf.conv2dTranspose(
                ds as tf.Tensor4D,
                layer.kernel as Tensor as tf.Tensor4D,
                input.shape as [number, number, number, number],
                layer.stride,
                layer.padding,
              ),
        );
      }
      grads.push(
        layer.kind === 'dense'
          ? tf.matMul(input as tf.Tensor2D, ds as tf.Tensor2D, true, false)
          : conv2dFilterGradient(input as tf.Tensor4D, ds as tf.Tensor4D, layer),
      );
      if (layer.bias) grads.push(tf.reshape(tf.sum(ds, biasReductionAxes(ds.rank)), layer.bias.shape));
      return grads;
    });
  // A data input is no input of the node (no gradient), but is saved: the filter's gradient reads it.
  const inputs: Tensor[] = [...(options.inputIsData ? [] : [a]), layer.kernel, ...(layer.bias ? [layer.bias] : [])];
  const op = tf.customGrad((...args: unknown[]) => {
    const input = options.inputIsData ? a : (args[0] as Tensor);
    const save = args[args.length - 1] as (tensors: Tensor[]) => void;
    const y = forward(input);
    save([input, y]);
    return { value: y, gradFunc: (dy: Tensor, saved: Tensor[]) => backward(dy, saved[0], saved[1]) };
  });
  return op(...inputs);
}

/**
 * The fused kernel itself: tf.fused.* falls back to separate ops inside a custom gradient (tfjs fuses
 * only outside gradient scopes), and would keep their outputs alive.
 */
function fusedForward(layer: KfacLayer, input: Tensor, activation: FusedLayerOptions['activation']): Tensor {
  const bias = layer.bias ?? undefined;
  if (layer.kind === 'conv2d') {
    const attrs = { strides: layer.stride, pad: layer.padding, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined, activation };
    return tf
      .engine()
      .runKernel(
        'FusedConv2D',
        { x: input, filter: layer.kernel, ...(bias ? { bias } : {}) },
        attrs as unknown as tf.NamedAttrMap,
      ) as Tensor;
  }
  // _FusedMatMul is batched: [1, m, k] x [1, k, n], as tf.fused.matMul calls it.
  const [m, k] = input.shape as [number, number];
  const n = layer.kernel.shape[1] as number;
  return tf.tidy(() => {
    const a = tf.reshape(input, [1, m, k]);
    const b = tf.reshape(layer.kernel, [1, k, n]);
    const attrs = { transposeA: false, transposeB: false, activation };
    const y = tf.engine().runKernel('_FusedMatMul', { a, b, ...(bias ? { bias } : {}) }, attrs as unknown as tf.NamedAttrMap) as Tensor;
    return tf.reshape(y, [m, n]);
  });
}

/** dy * step(y) in one kernel where the backend has it (cpu, cpu-blas), else as tfjs's Relu gradient. */
function reluBackprop(dy: Tensor, y: Tensor): Tensor {
  if (dy.dtype === 'float32' && y.dtype === 'float32' && tf.getKernel(RELU_BACKPROP_KERNEL, tf.getBackend())) {
    return tf.engine().runKernel(RELU_BACKPROP_KERNEL, { dy, y }) as Tensor;
  }
  return tf.mul(dy, tf.step(y));
}

/** Every axis but the last (the channels): how tfjs's Add gradient reduces a broadcast bias. */
function biasReductionAxes(rank: number): number[] {
  return Array.from({ length: rank - 1 }, (_, i) => i);
}

/** dL/dfilter through the Conv2DBackpropFilter kernel, as tfjs's Conv2D gradient computes it. */
function conv2dFilterGradient(input: tf.Tensor4D, ds: tf.Tensor4D, layer: Extract<KfacLayer, { kind: 'conv2d' }>): Tensor {
  const attrs = {
    strides: layer.stride,
    pad: layer.padding,
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
    filterShape: layer.kernel.shape,
  };
  return tf.engine().runKernel('Conv2DBackpropFilter', { x: input, dy: ds }, attrs as unknown as tf.NamedAttrMap) as Tensor;
}
