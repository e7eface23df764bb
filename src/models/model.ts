/** The contract between models and optimizers. */
import type { Tensor, Variable } from '../tf.js';
import { kfacLayerParams, type KfacLayer } from './layers.js';
import type { LayerTrace } from './layerTrace.js';

export interface ForwardOptions {
  training: boolean;
  /** Record K-FAC inputs / pre-activation gradients. */
  trace?: LayerTrace;
  /** Batch-norm running statistics are updated only on the step's main pass. */
  updateRunningStats?: boolean;
}

export interface Model {
  readonly name: string;
  /** Layers K-FAC preconditions, in forward order. */
  readonly kfacLayers: readonly KfacLayer[];
  /** Trainable parameters K-FAC does not cover (batch-norm scale/shift): updated by the SGD rule. */
  readonly otherParams: readonly Variable[];
  /** All trainable parameters. */
  readonly params: readonly Variable[];
  /** Input NHWC batch -> logits [N, classes]. */
  apply(x: Tensor, options: ForwardOptions): Tensor;
  /**
   * dL/ds of every K-FAC layer for a gradient dL/dlogits, from the inputs a forward pass recorded (no
   * second pass), bit for bit what backpropagation gives. Offered by models whose backward is that
   * simple (chains of dense + ReLU); the others leave it undefined. Caller owns the tensors.
   */
  preActivationGrads?(logitsGrad: Tensor, recordedInputs: ReadonlyMap<string, Tensor>): Map<string, Tensor>;
  dispose(): void;
}

/** A model whose every parameter belongs to a K-FAC layer (mlp, cnn). */
export function modelOfKfacLayers(name: string, layers: readonly KfacLayer[], apply: Model['apply']): Model {
  const params = layers.flatMap(kfacLayerParams);
  return {
    name,
    kfacLayers: layers,
    otherParams: [],
    params,
    apply,
    dispose() {
      for (const p of params) p.dispose();
    },
  };
}
