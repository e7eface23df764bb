import { type OptimizerConfig, optimizerUses } from '../config/trainConfig.js';
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
  const smoothing = optimizerUses(config.name, 'smoothing') ? config.smoothing : undefined;
  if (optimizerUses(config.name, 'smoothing') && !smoothing) throw new Error(`optimizer ${config.name} needs a smoothing section`);
  const sam = optimizerUses(config.name, 'sam') ? config.sam : undefined;
  if (optimizerUses(config.name, 'sam') && !sam) throw new Error(`optimizer ${config.name} needs a sam section`);
  if (!optimizerUses(config.name, 'kfac')) return new FirstOrderOptimizer(config.name, model, rule, smoothing, seed, replicas, sam);
  if (!config.kfac) throw new Error(`optimizer ${config.name} needs a kfac section`);
  return new NaturalGradientOptimizer(config.name, model, rule, config.kfac, smoothing, seed, spdInverse, replicas, sam);
}
