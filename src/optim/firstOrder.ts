/** `sgd` and its loss-smoothed ablation `smoothed-sgd`. */
import type { SmoothingConfig } from '../config/trainConfig.js';
import type { Model } from '../models/model.js';
import { tf } from '../tf.js';
import { disposeGradients, lossAndGradients } from './lossAndGradients.js';
import { MomentumSgd, type MomentumSgdOptions } from './momentumSgd.js';
import type { Optimizer, StepContext, TrainingBatch } from './optimizer.js';
import { meanOverReplicas, type ReplicaGroup } from './replicaGroup.js';
import { WeightPerturbation } from './weightPerturbation.js';

export class FirstOrderOptimizer implements Optimizer {
  private readonly rule: MomentumSgd;

  constructor(
    readonly name: string,
    private readonly model: Model,
    rule: MomentumSgdOptions,
    private readonly smoothing: SmoothingConfig | undefined,
    private readonly seed: number,
    private readonly replicas: ReplicaGroup,
  ) {
    this.rule = new MomentumSgd(rule);
  }

  async step(batch: TrainingBatch, context: StepContext): Promise<number> {
    const { timer } = context;
    const perturbation = this.smoothing
      ? new WeightPerturbation(this.model.params, this.smoothing, this.seed, context.step, context.progress)
      : undefined;
    const local = await timer.timeAsync('forwardBackward', () => lossAndGradients(this.model, batch, { updateRunningStats: true }));
    perturbation?.restore();
    const params = [...local.grads.keys()];
    const mean = await meanOverReplicas(this.replicas, [...local.grads.values()], [local.loss]);
    const grads = new Map(params.map((p, i) => [p, mean.tensors[i]]));
    const loss = mean.scalars[0];
    timer.time('update', () => {
      for (const [param, grad] of grads) {
        tf.tidy(() => this.rule.apply(param, this.rule.withL2(grad, param), context.lr));
      }
    });
    disposeGradients(grads);
    return loss;
  }

  dispose(): void {
    this.rule.dispose();
  }
}
