/**
 * `ngd`: K-FAC natural-gradient descent; `smoothed-ngd`: the same with gradients and curvature taken at
 * randomly perturbed weights (Naganuma & Yokota 2019); `sam-ngd`: with both taken at SAM's worst-case
 * point instead (Foret et al. 2021), so it is smoothed-ngd with an adversarial perturbation in place of
 * a random one: the curvature comes from the same pass as the gradient, at no extra cost. Dense and conv
 * layers are preconditioned; any other parameter (batch-norm scale/shift) follows the plain SGD rule.
 */
import type { KfacConfig, SamConfig, SmoothingConfig } from '../config/trainConfig.js';
import { kfacLayerParams } from '../models/layers.js';
import { LayerTrace } from '../models/layerTrace.js';
import type { Model } from '../models/model.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { deriveSeed } from '../util/rng.js';
import type { SpdInverse } from './kfac/dampedInverse.js';
import { disposeFactors, type FactorPair, type GradientRows, KfacPreconditioner, lowRankIsCheaper } from './kfac/kfacPreconditioner.js';
import { designRows, gradientFactor, gradientMatrix, splitGradientMatrix } from './kfac/kroneckerFactors.js';
import { klClipScale } from './kfac/klClip.js';
import { softmaxCrossEntropy } from './loss.js';
import { sampleLabels } from './sampleLabels.js';
import { disposeGradients, lossAndGradients, sliceRows } from './lossAndGradients.js';
import { MomentumSgd, type MomentumSgdOptions } from './momentumSgd.js';
import type { Optimizer, StepContext, TrainingBatch } from './optimizer.js';
import { meanOverReplicas, SINGLE_REPLICA, type ReplicaGroup } from './replicaGroup.js';
import { ascend } from './sharpnessAware.js';
import { WeightPerturbation } from './weightPerturbation.js';
import { addWeighted } from './weightedSums.js';
import type { PhaseTimer } from '../util/phaseTimer.js';
import { disposeGhostBatches, type GhostBatch, ghostBatches, meanOverGhostBatches } from './ghostBatches.js';
import { type ParameterKind, parameterKinds } from '../models/parameterKinds.js';

/**
 * At most this many rows per sampled-label pass (the MC Fisher's second forward/backward of a conv
 * network), whatever the batch: that pass records every layer's dL/ds through unfused ops, ~1.3 MB per
 * 2c2d example, so a whole batch of 8192 would set the process's peak; in pieces its G factors are summed
 * as it goes (the same G up to rounding) and its memory stays that of 1024 rows.
 */
const SAMPLED_LABEL_PASS_ROWS = 1024;

export class NaturalGradientOptimizer implements Optimizer {
  private readonly rule: MomentumSgd;
  /** What each parameter is, for smoothing's exclusions. */
  private readonly kinds: ReadonlyMap<Variable, ParameterKind>;
  readonly preconditioner: KfacPreconditioner;
  private klScaleSum = 0;
  private klClippedSteps = 0;
  private steps = 0;
  /** Layer-steps preconditioned from the gradient's rows (kfac.lowRankGradient). */
  private lowRankLayerSteps = 0;

  constructor(
    readonly name: string,
    private readonly model: Model,
    rule: MomentumSgdOptions,
    private readonly kfac: KfacConfig,
    private readonly smoothing: SmoothingConfig | undefined,
    private readonly seed: number,
    spdInverse?: SpdInverse,
    private readonly replicas: ReplicaGroup = SINGLE_REPLICA,
    private readonly sam?: SamConfig,
  ) {
    this.rule = new MomentumSgd(rule);
    this.kinds = parameterKinds(model);
    this.preconditioner = new KfacPreconditioner(model.kfacLayers, kfac.emaDecay, spdInverse);
    if (kfac.lowRankGradient && replicas.worldSize > 1) {
      throw new Error(`K-FAC's low-rank gradient needs every row of the batch in one process, not ${replicas.worldSize} replicas`);
    }
  }

  /**
   * The dense layers whose gradient this step preconditions from its rows (kfac.lowRankGradient): those
   * where that is cheaper for a batch of `rows` (lowRankIsCheaper).
   */
  private lowRankLayers(rows: number): ReadonlySet<string> {
    if (!this.kfac.lowRankGradient) return new Set();
    const cheaper = this.model.kfacLayers.filter((layer) => {
      if (layer.kind !== 'dense') return false;
      const [fanIn, out] = layer.kernel.shape;
      return lowRankIsCheaper(rows, fanIn + (layer.bias ? 1 : 0), out);
    });
    return new Set(cheaper.map((l) => l.name));
  }

  async step(batch: TrainingBatch, context: StepContext): Promise<number> {
    const { timer, step } = context;
    const updateFactors = step % this.kfac.factorUpdateInterval === 0;
    const ascent = this.sam ? await ascend(this.model, batch, this.sam, this.replicas, timer, context.microBatchSize) : undefined;
    const ghosts = ghostBatches(batch, this.smoothing?.ghostBatchSize);
    const params = this.model.params;
    const layerNames = updateFactors ? this.model.kfacLayers.map((l) => l.name) : [];
    const lowRank = this.lowRankLayers(batch.x.shape[0]);
    let grads: Map<Variable, Tensor> | undefined;
    let fresh: Map<string, FactorPair> | undefined;
    // One pass when lowRank is not empty: no ghost batches, one replica (config resolution refuses both).
    let rows: Map<string, GradientRows> | undefined;
    try {
      if (lowRank.size > 0 && ghosts.length > 1)
        throw new Error("K-FAC's low-rank gradient needs the batch in one pass, not ghost batches");
      // Gradients and this batch's factors (each ghost batch at its own noise draw), then over the replicas.
      const local = await meanOverGhostBatches(ghosts, async (ghost) => {
        const pass = await this.passAt(ghost, step, context.progress, updateFactors, lowRank, !ascent, timer, context.microBatchSize);
        rows = pass.rows;
        return pass;
      });
      ascent?.perturbation.restore();
      // Data parallelism: one message carries the loss, the gradients and this batch's factors.
      const mean = await meanOverReplicas(this.replicas, local.tensors, [local.loss]);
      grads = new Map(params.map((p, i) => [p, mean.tensors[i]]));
      if (updateFactors) {
        const averaged = mean.tensors.slice(params.length);
        fresh = new Map(layerNames.map((name, i) => [name, { a: averaged[2 * i] as tf.Tensor2D, g: averaged[2 * i + 1] as tf.Tensor2D }]));
        const owned = fresh;
        fresh = undefined;
        timer.time('curvature', () => this.preconditioner.accumulateFactors(owned));
      }
      if (step % this.kfac.inverseUpdateInterval === 0 || !this.preconditioner.hasInverses) {
        await timer.timeAsync('inversion', () => this.preconditioner.updateInverses(this.kfac.damping + this.rule.dampingFromDecay));
      }
      const directions = await timer.timeAsync('preconditioning', () => this.naturalGradient(grads!, context.lr, rows));
      timer.time('update', () => {
        for (const [param, direction] of directions) this.rule.apply(param, direction, context.lr);
      });
      disposeGradients(directions);
      // SAM's training loss is the loss at w, not at the perturbed point.
      return ascent ? ascent.loss : mean.scalars[0];
    } finally {
      ascent?.perturbation.restore();
      disposeGhostBatches(ghosts);
      if (grads) disposeGradients(grads);
      if (fresh) disposeFactors(fresh.values());
      if (rows) disposeFactors(rows.values());
    }
  }

  /**
   * One forward/backward pass of a (ghost) batch at the current weights, randomly perturbed first when
   * smoothing (and restored after the curvature pass, which sees the same point): the loss, then the
   * gradients in `model.params` order followed by each layer's factors (A, G), in layer order; and the
   * gradient rows of the `lowRank` layers.
   */
  private async passAt(
    { batch, ghost }: GhostBatch,
    step: number,
    progress: number,
    updateFactors: boolean,
    lowRank: ReadonlySet<string>,
    updateRunningStats: boolean,
    timer: PhaseTimer,
    microBatchSize: number | undefined,
  ): Promise<{ loss: number; tensors: Tensor[]; rows?: Map<string, GradientRows> }> {
    const empirical = this.kfac.fisher === 'empirical';
    const perturbation = this.smoothing
      ? new WeightPerturbation(this.model.params, this.smoothing, this.seed, step, progress, this.kinds, ghost)
      : undefined;
    const onlyLowRank = lowRank.size > 0 ? lowRank : false;
    // The true-label dL/ds of the low-rank layers rides on the main pass (the MC Fisher's come from its own).
    const trace = new LayerTrace(updateFactors || onlyLowRank, (updateFactors && empirical) || onlyLowRank);
    let grads: Map<Variable, Tensor> | undefined;
    try {
      const pass = await timer.timeAsync('forwardBackward', () =>
        lossAndGradients(this.model, batch, { trace, keepLogits: updateFactors && !empirical, updateRunningStats, microBatchSize }),
      );
      grads = pass.grads;
      const fresh = updateFactors
        ? timer.time('curvature', () => {
            const logits = pass.logits;
            const sampledPassRows = Math.min(microBatchSize ?? SAMPLED_LABEL_PASS_ROWS, SAMPLED_LABEL_PASS_ROWS);
            if (logits && !this.model.preActivationGrads && batch.x.shape[0] > sampledPassRows) {
              try {
                const gFactors = this.microBatchedGradientFactors(batch, logits, step, sampledPassRows);
                return this.preconditioner.batchFactors(trace.inputs, gFactors);
              } finally {
                logits.dispose();
              }
            }
            const preActivationGrads = logits ? this.sampledLabelGrads(batch, logits, step, trace) : trace;
            logits?.dispose();
            try {
              const gFactors = this.preconditioner.gradientFactors(preActivationGrads.preActivationGrads, batch.x.shape[0]);
              return this.preconditioner.batchFactors(trace.inputs, gFactors);
            } finally {
              if (preActivationGrads !== trace) preActivationGrads.dispose();
            }
          })
        : undefined;
      let rows: Map<string, GradientRows> | undefined;
      try {
        rows = lowRank.size > 0 ? gradientRows(this.model, lowRank, trace) : undefined;
      } catch (error) {
        if (fresh) disposeFactors(fresh.values());
        throw error;
      }
      const tensors = [
        ...this.model.params.map((p) => grads!.get(p)!),
        ...(fresh ? this.model.kfacLayers.flatMap((l) => [fresh.get(l.name)!.a, fresh.get(l.name)!.g]) : []),
      ];
      grads = undefined;
      return { loss: pass.loss, tensors, rows };
    } finally {
      perturbation?.restore();
      trace.dispose();
      if (grads) disposeGradients(grads);
    }
  }

  /**
   * MC Fisher (Martens & Grosse 2015, sec. 5): backpropagate the loss of labels sampled from the
   * model's own predictive distribution. A model that can (a dense + ReLU chain) maps dL/dlogits to its
   * layers from the inputs the main pass recorded, the same bits without a second forward pass; any other
   * runs a second pass, asking for the first layer's kernel alone, which still runs it through every tap.
   */
  private sampledLabelGrads(batch: TrainingBatch, logits: Tensor, step: number, recorded: LayerTrace): LayerTrace {
    const sampled = sampleLabels(logits, deriveSeed(this.seed, 'mc-fisher', step), batch.rowOffset, batch.globalRows);
    const mcTrace = new LayerTrace(false, true);
    try {
      if (this.model.preActivationGrads) {
        const logitsGrad = tf.grad((l: Tensor) => softmaxCrossEntropy(l, sampled))(logits);
        try {
          for (const [name, g] of this.model.preActivationGrads(logitsGrad, recorded.inputs)) mcTrace.preActivationGrads.set(name, g);
        } finally {
          logitsGrad.dispose();
        }
        return mcTrace;
      }
      this.backpropSampledLabels(batch.x, sampled, mcTrace);
    } catch (error) {
      mcTrace.dispose();
      throw error;
    } finally {
      sampled.dispose();
    }
    return mcTrace;
  }

  /**
   * A second forward/backward of `x` for the loss of the sampled `labels`, recording each layer's dL/ds in
   * `trace`. It asks for the first layer's kernel gradient alone, which still runs through every tap.
   */
  private backpropSampledLabels(x: Tensor, labels: Tensor, trace: LayerTrace): void {
    const { value, grads } = tf.variableGrads(
      () => softmaxCrossEntropy(this.model.apply(x, { training: true, trace }), labels),
      [this.model.kfacLayers[0].kernel],
    );
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
  }

  /**
   * The MC Fisher's G factors from a second pass in micro-batches, labels drawn for the whole batch
   * first (the same labels as one pass), G summed as it goes (never holding every row's dL/ds). A
   * micro-batch of n of the batch's N rows gives g_c = dL_c/ds for its own mean loss; the batch-mean
   * loss's gradient on those rows is (n/N) g_c, so
   * G = N * sum_c ((n/N) g_c)^T ((n/N) g_c) = sum_c (n/N) * gradientFactor(g_c, n).
   */
  private microBatchedGradientFactors(batch: TrainingBatch, logits: Tensor, step: number, size: number): Map<string, tf.Tensor2D> {
    const rows = batch.x.shape[0];
    const sampled = sampleLabels(logits, deriveSeed(this.seed, 'mc-fisher', step), batch.rowOffset, batch.globalRows);
    const sums = new Map<string, Tensor>();
    try {
      for (let start = 0; start < rows; start += size) {
        const n = Math.min(size, rows - start);
        const trace = new LayerTrace(false, true);
        const x = sliceRows(batch.x, start, n);
        const labels = sliceRows(sampled, start, n);
        try {
          this.backpropSampledLabels(x, labels, trace);
          for (const layer of this.model.kfacLayers) {
            const g = trace.preActivationGrads.get(layer.name);
            if (!g) throw new Error(`K-FAC: no statistics recorded for layer ${layer.name}`);
            const factor = gradientFactor(g, n);
            addWeighted(sums, layer.name, factor, n / rows);
            factor.dispose();
          }
        } finally {
          trace.dispose();
          tf.dispose([x, labels]);
        }
      }
    } catch (error) {
      tf.dispose([...sums.values()]);
      throw error;
    } finally {
      sampled.dispose();
    }
    return sums as Map<string, tf.Tensor2D>;
  }

  /**
   * Per parameter: K-FAC preconditioned (covered layers) or raw (others), L2 added first, KL-clipped, then
   * 'after-preconditioning' decay added.
   */
  private async naturalGradient(
    grads: Map<Variable, Tensor>,
    lr: number,
    rows: ReadonlyMap<string, GradientRows> | undefined,
  ): Promise<Map<Variable, Tensor>> {
    const directions = new Map<Variable, Tensor>();
    let vDotG = 0;
    for (const layer of this.model.kfacLayers) {
      const params = kfacLayerParams(layer);
      const layerRows = rows?.get(layer.name);
      if (layerRows) this.lowRankLayerSteps++;
      const parts = tf.tidy(() => {
        const withDecay = params.map((p) => this.rule.withL2(grads.get(p)!, p));
        if (layerRows) {
          if (withDecay.some((g, i) => g !== grads.get(params[i]))) {
            throw new Error(`K-FAC: layer ${layer.name}'s gradient has an L2 term, which its rows do not hold`);
          }
          // Kernel and bias come out apart: no [dW; db] copy, and no view of a shared matrix (which the
          // output pool could never recycle).
          const split = this.preconditioner.preconditionRows(layer, layerRows);
          const pieces = [split.kernel, ...(split.bias ? [split.bias] : [])];
          return { split, dot: tf.addN(pieces.map((v, i) => tf.sum(tf.mul(v, withDecay[i])))) };
        }
        const g = gradientMatrix(layer, withDecay[0], withDecay[1]);
        const v = this.preconditioner.precondition(layer, g);
        return { v, dot: tf.sum(tf.mul(v, g)), split: splitGradientMatrix(layer, v) };
      });
      directions.set(layer.kernel, parts.split.kernel);
      if (layer.bias && parts.split.bias) directions.set(layer.bias, parts.split.bias);
      parts.v?.dispose();
      vDotG += await readScalar(parts.dot);
    }
    for (const p of this.model.otherParams) {
      const g = tf.tidy(() => this.rule.withL2(grads.get(p)!, p).clone());
      directions.set(p, g);
      vDotG += await readScalar(tf.tidy(() => tf.sum(tf.mul(g, g))));
    }
    const nu = klClipScale(vDotG, lr, this.kfac.klClip);
    this.steps++;
    this.klScaleSum += nu;
    if (nu < 1) this.klClippedSteps++;
    // 'after-preconditioning' decay joins the clipped direction: it changes neither v nor the KL scale.
    const finished = new Map<Variable, Tensor>();
    for (const [p, d] of directions) {
      const next = tf.tidy(() => this.rule.withDirectionDecay(nu === 1 ? d : tf.mul(d, nu), p));
      if (next === d) finished.set(p, d);
      else {
        finished.set(p, next);
        d.dispose();
      }
    }
    return finished;
  }

  /** When the KL clip binds on every step, the step is sqrt(kappa / v.g) v and lr has no effect. */
  diagnostics(): Record<string, number> {
    return {
      klClippedStepFraction: this.steps ? this.klClippedSteps / this.steps : 0,
      meanKlScale: this.steps ? this.klScaleSum / this.steps : 1,
      // Only with the option, so results without it keep their exact form.
      ...(this.kfac.lowRankGradient
        ? { lowRankLayerFraction: this.steps ? this.lowRankLayerSteps / (this.steps * this.model.kfacLayers.length) : 0 }
        : {}),
    };
  }

  dispose(): void {
    this.rule.dispose();
    this.preconditioner.dispose();
  }
}

/** The `layers`' gradient rows from a pass's trace (inputs with the bias column, dL/ds); caller owns them. */
function gradientRows(model: Model, layers: ReadonlySet<string>, trace: LayerTrace): Map<string, GradientRows> {
  const rows = new Map<string, GradientRows>();
  try {
    for (const layer of model.kfacLayers) {
      if (!layers.has(layer.name)) continue;
      const a = trace.inputs.get(layer.name);
      const g = trace.preActivationGrads.get(layer.name);
      if (!a || !g) throw new Error(`K-FAC: no gradient rows recorded for layer ${layer.name}`);
      rows.set(layer.name, { a: tf.keep(designRows(layer, a)), g: tf.keep(tf.reshape(g, [g.shape[0], -1]) as tf.Tensor2D) });
    }
  } catch (error) {
    disposeFactors(rows.values());
    throw error;
  }
  return rows;
}

/** A scalar's value, read back asynchronously (the tensor is disposed). */
async function readScalar(t: Tensor): Promise<number> {
  try {
    return (await t.data())[0];
  } finally {
    t.dispose();
  }
}
