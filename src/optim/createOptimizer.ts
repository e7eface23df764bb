import type { OptimizerConfig } from '../config/trainConfig.js';
import type { Model } from '../models/model.js';
import { parameterKinds } from '../models/parameterKinds.js';
import { FirstOrderOptimizer } from './firstOrder.js';
import type { SpdInverse } from './kfac/dampedInverse.js';
import { NaturalGradientOptimizer } from './naturalGradient.js';
import type { Optimizer } from './optimizer.js';
import { SINGLE_REPLICA, type ReplicaGroup } from './replicaGroup.js';

/**
 * Builds the optimizer a resolved config names. `kfac` / `smoothing` sections must be present for the
 * optimizers that use them (config resolution guarantees it).
 */
export function createOptimizer(
  config: OptimizerConfig,
  model: Model,
  seed: number,
  spdInverse?: SpdInverse,
  replicas: ReplicaGroup = SINGLE_REPLICA,
): Optimizer {
  const exemptKinds = new Set<string>(config.weightDecayExclude ?? []);
  const exempt = new Set([...parameterKinds(model)].filter(([, kind]) => exemptKinds.has(kind)).map(([p]) => p));
  const rule = {
    momentum: config.momentum,
    nesterov: config.nesterov,
    weightDecay: config.weightDecay,
    weightDecayMode: config.weightDecayMode,
    exempt,
  };
  const smoothed = config.name === 'smoothed-sgd' || config.name === 'smoothed-ngd';
  if (smoothed && !config.smoothing) throw new Error(`optimizer ${config.name} needs a smoothing section`);
  const smoothing = smoothed ? config.smoothing : undefined;
  if (config.name === 'sgd' || config.name === 'smoothed-sgd') {
    return new FirstOrderOptimizer(config.name, model, rule, smoothing, seed, replicas);
  }
  if (!config.kfac) throw new Error(`optimizer ${config.name} needs a kfac section`);
  return new NaturalGradientOptimizer(config.name, model, rule, config.kfac, smoothing, seed, spdInverse, replicas);
}
