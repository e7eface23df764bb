/**
 * One forward + backward pass of the batch-mean cross-entropy w.r.t. all trainable parameters. The loss
 * is read back asynchronously: a GPU backend cannot read synchronously (WebGPU) or stalls doing so.
 */
import type { LayerTrace } from '../models/layerTrace.js';
import type { Model } from '../models/model.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { softmaxCrossEntropy } from './loss.js';
import type { TrainingBatch } from './optimizer.js';

export interface LossAndGradients {
  loss: number;
  /** Gradient per parameter (same order as `model.params`); caller disposes. */
  grads: Map<Variable, Tensor>;
  /** Logits of the pass, kept only when asked for (the MC Fisher samples labels from them). */
  logits?: Tensor;
}

export async function lossAndGradients(
  model: Model,
  batch: TrainingBatch,
  options: { trace?: LayerTrace; keepLogits?: boolean; updateRunningStats?: boolean } = {},
): Promise<LossAndGradients> {
  let logits: Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = model.apply(batch.x, { training: true, trace: options.trace, updateRunningStats: options.updateRunningStats });
    if (options.keepLogits) logits = tf.keep(out.clone());
    return softmaxCrossEntropy(out, batch.y);
  }, model.params as Variable[]);
  let loss: number;
  try {
    loss = (await value.data())[0];
  } catch (error) {
    for (const g of Object.values(grads)) g.dispose();
    logits?.dispose();
    throw error;
  } finally {
    value.dispose();
  }
  return { loss, grads: new Map(model.params.map((p) => [p, grads[p.name]])), logits };
}

export function disposeGradients(grads: Map<Variable, Tensor>): void {
  for (const g of grads.values()) g.dispose();
}
