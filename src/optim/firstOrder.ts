/** `sgd`, its loss-smoothed ablation `smoothed-sgd`, and sharpness-aware `sam-sgd`. */
import type { SamConfig, SmoothingConfig } from '../config/trainConfig.js';
import type { Model } from '../models/model.js';
import { tf, type Variable } from '../tf.js';
import { disposeGradients, lossAndGradients } from './lossAndGradients.js';
import { MomentumSgd, type MomentumSgdOptions } from './momentumSgd.js';
import type { Optimizer, StepContext, TrainingBatch } from './optimizer.js';
import { meanOverReplicas, type ReplicaGroup } from './replicaGroup.js';
import { ascend } from './sharpnessAware.js';
import { WeightPerturbation } from './weightPerturbation.js';
import { type ParameterKind, parameterKinds } from '../models/parameterKinds.js';
import { disposeGhostBatches, ghostBatches, meanOverGhostBatches } from './ghostBatches.js';

export class FirstOrderOptimizer implements Optimizer {
  private readonly rule: MomentumSgd;
  /** What each parameter is, for smoothing's exclusions. */
  private readonly kinds: ReadonlyMap<Variable, ParameterKind>;

  constructor(
    readonly name: string,
    private readonly model: Model,
    rule: MomentumSgdOptions,
    private readonly smoothing: SmoothingConfig | undefined,
    private readonly seed: number,
    private readonly replicas: ReplicaGroup,
    private readonly sam?: SamConfig,
  ) {
    this.rule = new MomentumSgd(rule);
    this.kinds = parameterKinds(model);
  }

  async step(batch: TrainingBatch, context: StepContext): Promise<number> {
    const { timer } = context;
    const ascent = this.sam ? await ascend(this.model, batch, this.sam, this.replicas, timer, context.microBatchSize) : undefined;
    const ghosts = ghostBatches(batch, this.smoothing?.ghostBatchSize);
    try {
      const params = this.model.params;
      const local = await meanOverGhostBatches(ghosts, async ({ batch: part, ghost }) => {
        const perturbation = this.smoothing
          ? new WeightPerturbation(params, this.smoothing, this.seed, context.step, context.progress, this.kinds, ghost)
          : undefined;
        try {
          const pass = await timer.timeAsync('forwardBackward', () =>
            lossAndGradients(this.model, part, { updateRunningStats: !ascent, microBatchSize: context.microBatchSize }),
          );
          return { loss: pass.loss, tensors: params.map((p) => pass.grads.get(p)!) };
        } finally {
          perturbation?.restore();
        }
      });
      ascent?.perturbation.restore();
      const mean = await meanOverReplicas(this.replicas, local.tensors, [local.loss]);
      const grads = new Map(params.map((p, i) => [p, mean.tensors[i]]));
      timer.time('update', () => {
        for (const [param, grad] of grads) {
          // For sgd every placement but 'decoupled' is one update: decay joins the gradient before momentum.
          tf.tidy(() => this.rule.apply(param, this.rule.withDirectionDecay(this.rule.withL2(grad, param), param), context.lr));
        }
      });
      disposeGradients(grads);
      // SAM's training loss is the loss at w, not at the perturbed point.
      return ascent ? ascent.loss : mean.scalars[0];
    } finally {
      ascent?.perturbation.restore();
      disposeGhostBatches(ghosts);
    }
  }

  dispose(): void {
    this.rule.dispose();
  }
}
