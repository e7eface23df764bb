/**
 * From whatever a user wrote (flags merged over a JSON file) to a complete, valid TrainConfig:
 * unknown names get a nearest-name suggestion, the schema fills defaults, and sections that only some
 * optimizers use are required-or-rejected so that a config never silently carries dead settings.
 */
import { nearest } from '../util/nearest.js';
import { BadInputError } from '../util/errors.js';
import {
  BACKEND_NAMES,
  BATCH_NORM_MODELS,
  DEFAULT_MLP_WIDTHS,
  DATASET_NAMES,
  KfacConfigSchema,
  MODEL_NAMES,
  OPTIMIZER_NAMES,
  PRECONDITIONER_PLACEMENTS,
  GRADIENT_DECAY_PLACEMENTS,
  SamConfigSchema,
  sectionUsers,
  optimizerUses,
  SmoothingConfigSchema,
  WEIGHT_DECAY_PLACEMENTS,
  TrainConfigSchema,
  type TrainConfig,
} from './trainConfig.js';
import { ValidationError, validateWithDefaults } from './validate.js';
import { isJsonObject } from '../util/jsonObject.js';

export class UnknownNameError extends BadInputError {
  constructor(kind: string, value: string, known: readonly string[]) {
    const guess = nearest(value, known);
    super(`unknown ${kind} '${value}'${guess ? ` (did you mean '${guess}'?)` : ''}; known: ${known.join(', ')}`);
    this.name = 'UnknownNameError';
  }
}

type Json = Record<string, unknown>;

function checkName(kind: string, value: unknown, known: readonly string[]): void {
  if (typeof value === 'string' && !known.includes(value)) throw new UnknownNameError(kind, value, known);
}

/**
 * One spelling per budget, so equal runs hash equally: `budget: {epochs: n}` is stored as `epochs: n`,
 * and a config with neither gets the historical default of one epoch. A target on the validation split
 * needs one.
 */
function normalizeBudget(config: TrainConfig, what: string): void {
  const budget = config.budget;
  if (budget !== undefined && 'epochs' in budget) {
    config.epochs = budget.epochs;
    delete config.budget;
  }
  if (config.budget === undefined) config.epochs ??= 1;
  if (config.budget !== undefined && 'target' in config.budget) {
    const metric = config.budget.target.metric;
    if (metric.startsWith('validation') && config.dataset.validationSize === undefined) {
      throw new ValidationError(what, [
        `/budget/target/metric: '${metric}' is measured on the validation split, which this config does not have (set dataset.validationSize)`,
      ]);
    }
    if (metric.endsWith('Accuracy') && !(config.budget.target.value > 0 && config.budget.target.value <= 1)) {
      throw new ValidationError(what, [
        `/budget/target/value: an accuracy target is a fraction in (0, 1], got ${config.budget.target.value}`,
      ]);
    }
  }
}

export function resolveTrainConfig(input: unknown, what = 'config'): TrainConfig {
  if (isJsonObject(input)) {
    const section = (k: string) => (isJsonObject(input[k]) ? (input[k] as Json) : {});
    checkName('model', section('model').name, MODEL_NAMES);
    checkName('dataset', section('dataset').name, DATASET_NAMES);
    checkName('optimizer', section('optimizer').name, OPTIMIZER_NAMES);
    checkName('backend', input.backend, BACKEND_NAMES);
    checkName('weight-decay placement (optimizer.weightDecayMode)', section('optimizer').weightDecayMode, WEIGHT_DECAY_PLACEMENTS);
  }
  if (isJsonObject(input) && input.budget !== undefined && input.epochs !== undefined) {
    throw new ValidationError(what, ['/budget: give either "epochs" or "budget", not both']);
  }
  const config = validateWithDefaults(TrainConfigSchema, input, what);
  normalizeBudget(config, what);
  const opt = config.optimizer;
  const usesKfac = optimizerUses(opt.name, 'kfac');
  if (!usesKfac && opt.kfac)
    throw new ValidationError(what, [
      `/optimizer/kfac: optimizer '${opt.name}' does not use K-FAC settings (only ${sectionUsers('kfac')} do)`,
    ]);
  if (!optimizerUses(opt.name, 'smoothing') && opt.smoothing) {
    throw new ValidationError(what, [
      `/optimizer/smoothing: optimizer '${opt.name}' does not smooth; use 'smoothed-sgd' or 'smoothed-ngd'`,
    ]);
  }
  if (!optimizerUses(opt.name, 'sam') && opt.sam) {
    throw new ValidationError(what, [`/optimizer/sam: optimizer '${opt.name}' is not sharpness-aware; use 'sam-sgd' or 'sam-ngd'`]);
  }
  if (!usesKfac && PRECONDITIONER_PLACEMENTS.includes(opt.weightDecayMode)) {
    throw new ValidationError(what, [
      `/optimizer/weightDecayMode: '${opt.weightDecayMode}' places weight decay relative to a preconditioner and '${opt.name}' has none: for it this is the same update as 'l2'; use 'l2' (or 'decoupled')`,
    ]);
  }
  if (usesKfac) opt.kfac = validateWithDefaults(KfacConfigSchema, opt.kfac ?? {}, `${what} /optimizer/kfac`);
  if (optimizerUses(opt.name, 'smoothing'))
    opt.smoothing = validateWithDefaults(SmoothingConfigSchema, opt.smoothing ?? {}, `${what} /optimizer/smoothing`);
  if (opt.smoothing?.relative && opt.smoothing.perFilter) {
    throw new ValidationError(what, [
      '/optimizer/smoothing/perFilter: per-filter scaling and relative (|w|) scaling are two ways to scale the noise; choose one',
    ]);
  }
  if (opt.kfac?.lowRankGradient) {
    if (opt.smoothing?.ghostBatchSize !== undefined) {
      throw new ValidationError(what, [
        '/optimizer/kfac/lowRankGradient: ghost batches average gradients taken at different noise draws, which no single rank-n form holds; drop smoothing.ghostBatchSize or lowRankGradient',
      ]);
    }
    if (opt.weightDecay > 0 && GRADIENT_DECAY_PLACEMENTS.includes(opt.weightDecayMode)) {
      throw new ValidationError(what, [
        `/optimizer/kfac/lowRankGradient: weight decay placed '${opt.weightDecayMode}' adds wd·w to the gradient, which is not of rank n; place it 'after-preconditioning' or 'decoupled', or drop lowRankGradient`,
      ]);
    }
  }
  if (optimizerUses(opt.name, 'sam')) opt.sam = validateWithDefaults(SamConfigSchema, opt.sam ?? {}, `${what} /optimizer/sam`);
  if (config.model.name !== 'mlp' && isJsonObject(input) && isJsonObject(input.model) && 'hiddenWidths' in input.model) {
    throw new ValidationError(what, [`/model/hiddenWidths: only the mlp has configurable widths`]);
  }
  if (config.model.name === 'mlp') config.model.hiddenWidths ??= [...DEFAULT_MLP_WIDTHS];
  if (config.dataset.name === 'synthetic' && config.dataset.pixelScaling !== undefined) {
    throw new ValidationError(what, [
      `/dataset/pixelScaling: the synthetic dataset is generated as floats, not pixels; drop pixelScaling (or use fashion-mnist, mnist or cifar10)`,
    ]);
  }
  if (config.microBatchSize !== undefined && BATCH_NORM_MODELS.includes(config.model.name)) {
    throw new ValidationError(what, [
      `/microBatchSize: ${config.model.name} has batch norm, which normalizes over the batch: micro-batches would change the model's function; drop microBatchSize (or use a model without batch norm)`,
    ]);
  }
  return config;
}
