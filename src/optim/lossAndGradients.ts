/**
 * One forward + backward pass of the batch-mean cross-entropy w.r.t. all trainable parameters, whole or
 * in micro-batches (gradient accumulation). The loss is read back asynchronously: a GPU backend cannot
 * read synchronously (WebGPU) or stalls doing so.
 */
import { LayerTrace } from '../models/layerTrace.js';
import type { Model } from '../models/model.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { addWeighted } from './weightedSums.js';
import { softmaxCrossEntropy } from './loss.js';
import type { TrainingBatch } from './optimizer.js';

export interface LossAndGradients {
  loss: number;
  /** Gradient per parameter (same order as `model.params`); caller disposes. */
  grads: Map<Variable, Tensor>;
  /** Logits of the pass, kept only when asked for (the MC Fisher samples labels from them). */
  logits?: Tensor;
}

export interface PassOptions {
  trace?: LayerTrace;
  keepLogits?: boolean;
  updateRunningStats?: boolean;
  /**
   * At most this many rows per forward/backward: a larger batch runs in micro-batches whose gradients
   * are summed with weights n/N, the same gradient up to rounding with one micro-batch's activations in
   * memory at a time. Only for models without batch norm (their function depends on the batch).
   */
  microBatchSize?: number;
}

export async function lossAndGradients(model: Model, batch: TrainingBatch, options: PassOptions = {}): Promise<LossAndGradients> {
  const rows = batch.x.shape[0];
  if (options.microBatchSize === undefined || rows <= options.microBatchSize) return wholePass(model, batch, options);
  if (model.otherParams.length > 0) throw new Error(`model ${model.name} has batch norm: its batch cannot be split into micro-batches`);
  return microBatchedPass(model, batch, options, options.microBatchSize);
}

async function wholePass(model: Model, batch: TrainingBatch, options: PassOptions): Promise<LossAndGradients> {
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

/** Rows [start, start + n) of a tensor. */
export function sliceRows(t: Tensor, start: number, n: number): Tensor {
  return tf.slice(t, [start, ...t.shape.slice(1).map(() => 0)], [n, ...t.shape.slice(1)]);
}

/**
 * The batch in micro-batches of at most `size` rows. Micro-batch c of n rows has mean loss L_c; the
 * batch-mean loss is sum_c (n/N) L_c, so gradients (and the traced dL/ds) are weighted by n/N, the
 * traced inputs and the logits are concatenated back into the whole batch's.
 */
async function microBatchedPass(model: Model, batch: TrainingBatch, options: PassOptions, size: number): Promise<LossAndGradients> {
  const rows = batch.x.shape[0];
  const sums = new Map<Variable, Tensor>();
  const logitParts: Tensor[] = [];
  const traced = new Map<string, { inputs: Tensor[]; grads: Tensor[] }>();
  let loss = 0;
  try {
    for (let start = 0; start < rows; start += size) {
      const n = Math.min(size, rows - start);
      const weight = n / rows;
      const part = { x: sliceRows(batch.x, start, n), y: sliceRows(batch.y, start, n) };
      const trace = options.trace ? new LayerTrace(options.trace.recordInputs, options.trace.recordPreActivationGrads) : undefined;
      try {
        const pass = await wholePass(model, part, { ...options, trace });
        loss += weight * pass.loss;
        if (pass.logits) logitParts.push(pass.logits);
        for (const [p, g] of pass.grads) {
          addWeighted(sums, p, g, weight);
          g.dispose();
        }
        for (const [name, a] of trace?.inputs ?? []) entry(traced, name).inputs.push(tf.keep(a.clone()));
        for (const [name, g] of trace?.preActivationGrads ?? []) entry(traced, name).grads.push(tf.keep(tf.mul(g, weight)));
      } finally {
        trace?.dispose();
        tf.dispose([part.x, part.y]);
      }
    }
    for (const [name, t] of traced) {
      if (t.inputs.length > 0) options.trace?.adopt('inputs', name, tf.concat(t.inputs, 0));
      if (t.grads.length > 0) options.trace?.adopt('preActivationGrads', name, tf.concat(t.grads, 0));
    }
    return {
      loss,
      grads: new Map(model.params.map((p) => [p, sums.get(p)!])),
      logits: logitParts.length > 0 ? tf.concat(logitParts, 0) : undefined,
    };
  } catch (error) {
    tf.dispose([...sums.values()]);
    throw error;
  } finally {
    tf.dispose(logitParts);
    for (const t of traced.values()) tf.dispose([...t.inputs, ...t.grads]);
  }
}

function entry(traced: Map<string, { inputs: Tensor[]; grads: Tensor[] }>, name: string) {
  const found = traced.get(name);
  if (found) return found;
  const created = { inputs: [] as Tensor[], grads: [] as Tensor[] };
  traced.set(name, created);
  return created;
}

export function disposeGradients(grads: Map<Variable, Tensor>): void {
  for (const g of grads.values()) g.dispose();
}
