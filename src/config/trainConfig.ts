/**
 * The training-run configuration: a TypeBox schema is the single source of truth, the TS types are
 * derived from it (`Static`), and ajv fills in the defaults while validating.
 */
import { Type, type Static, type TLiteral, type TUnion, type SchemaOptions } from '@sinclair/typebox';

export const OPTIMIZER_NAMES = ['sgd', 'smoothed-sgd', 'ngd', 'smoothed-ngd', 'sam-sgd', 'sam-ngd'] as const;
/** The optional config sections an optimizer may read. */
export const OPTIMIZER_SECTIONS = ['kfac', 'smoothing', 'sam'] as const;
export type OptimizerSection = (typeof OPTIMIZER_SECTIONS)[number];
/**
 * Which optimizer reads which section (the one owner of that fact; the others refuse them): K-FAC settings
 * (ngd and its variants), random smoothing (SmoothOut-style, Naganuma & Yokota 2019), and the sharpness-aware
 * perturbation (SAM, Foret et al. 2021).
 */
const SECTIONS_OF: Record<(typeof OPTIMIZER_NAMES)[number], readonly OptimizerSection[]> = {
  sgd: [],
  'smoothed-sgd': ['smoothing'],
  ngd: ['kfac'],
  'smoothed-ngd': ['kfac', 'smoothing'],
  'sam-sgd': ['sam'],
  'sam-ngd': ['kfac', 'sam'],
};
export const optimizerUses = (name: string, section: OptimizerSection): boolean =>
  (SECTIONS_OF as Record<string, readonly OptimizerSection[] | undefined>)[name]?.includes(section) ?? false;
/** The optimizers that read a section, as a phrase: "'ngd', 'smoothed-ngd' and 'sam-ngd'". */
export function sectionUsers(section: OptimizerSection): string {
  const names = OPTIMIZER_NAMES.filter((n) => optimizerUses(n, section)).map((n) => `'${n}'`);
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
export const MODEL_NAMES = ['mlp', 'cnn', 'resnet20', 'deepobs-mlp', '2c2d', '3c3d'] as const;
/** Models whose function depends on the batch (batch norm): their batch cannot be split into micro-batches. */
export const BATCH_NORM_MODELS: readonly (typeof MODEL_NAMES)[number][] = ['resnet20'];
export const DATASET_NAMES = ['fashion-mnist', 'mnist', 'cifar10', 'synthetic'] as const;
/** How pixel bytes become inputs (src/data/dataset.ts: PixelScaling). */
export const PIXEL_SCALINGS = ['standardize', 'unit-interval'] as const;
/** Hidden widths of the default mlp: 784-256-256-10 on MNIST-shaped data. */
export const DEFAULT_MLP_WIDTHS = [256, 256] as const;
export const BACKEND_NAMES = ['auto', 'webgpu', 'tensorflow-gpu', 'tensorflow', 'cpu-blas', 'cpu'] as const;

/** Where weight decay acts (see OptimizerConfigSchema.weightDecayMode). */
export const WEIGHT_DECAY_PLACEMENTS = ['l2', 'preconditioned-objective', 'after-preconditioning', 'decoupled'] as const;
export type WeightDecayPlacement = (typeof WEIGHT_DECAY_PLACEMENTS)[number];
/** The placements that differ from 'l2' only for a preconditioned optimizer. */
export const PRECONDITIONER_PLACEMENTS: readonly WeightDecayPlacement[] = ['preconditioned-objective', 'after-preconditioning'];
/** The placements that add wd·w to the gradient itself. */
export const GRADIENT_DECAY_PLACEMENTS: readonly WeightDecayPlacement[] = ['l2', 'preconditioned-objective'];
/** Parameter kinds a rule may skip (weight decay, smoothing noise). */
export const WEIGHT_DECAY_EXEMPT_KINDS = ['bias', 'batch-norm'] as const;
export type WeightDecayExemptKind = (typeof WEIGHT_DECAY_EXEMPT_KINDS)[number];

/** A string enum as a union of literals, so `Static` yields the literal union type. */
function literalUnion<T extends string>(
  values: readonly T[],
  description: string,
  def: T,
  extra: SchemaOptions = {},
): TUnion<TLiteral<T>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { description, default: def, ...extra },
  );
}

export const ModelConfigSchema = Type.Object(
  {
    name: literalUnion(MODEL_NAMES, 'Model architecture.', 'mlp'),
    hiddenWidths: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1 }), {
        description: 'mlp only (default 256,256): hidden layer widths; input and output sizes come from the dataset.',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

export const DatasetConfigSchema = Type.Object(
  {
    name: literalUnion(DATASET_NAMES, 'Dataset.', 'fashion-mnist'),
    dataDir: Type.Optional(Type.String({ description: 'Directory holding the dataset files.' })),
    trainSize: Type.Optional(Type.Integer({ minimum: 1, description: 'Train on the first N examples of the seeded shuffle.' })),
    // No default: a config without it keeps its hash (and the results filed under it).
    pixelScaling: Type.Optional(
      Type.Union(
        PIXEL_SCALINGS.map((v) => Type.Literal(v)),
        {
          description:
            "How pixel bytes become inputs (image datasets): 'standardize' (the default: the train split's mean and std, per channel for colour) or 'unit-interval' (byte / 255, as DeepOBS's loaders do; the DeepOBS problems set it).",
        },
      ),
    ),
    testSize: Type.Optional(Type.Integer({ minimum: 1, description: 'Evaluate on the first N test examples of the seeded shuffle.' })),
    validationSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Hold out N examples of the training file as a validation split (a fixed seeded shuffle, the same for every run seed), before any trainSize subset: never trained on, evaluated with the other splits. Automatic selection (tuning, best configurations) uses it; the test split is only reported.',
      }),
    ),
    trainEvalSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Measure train loss/accuracy on the first N training examples of a seeded shuffle (a "train_eval" set, as DeepOBS does) instead of on all of them: cheaper frequent evaluation.',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

export const KfacConfigSchema = Type.Object(
  {
    fisher: Type.Union([Type.Literal('mc'), Type.Literal('empirical')], {
      default: 'mc',
      description: "Fisher from labels sampled from the model ('mc') or from the true labels ('empirical').",
    }),
    damping: Type.Number({ exclusiveMinimum: 0, default: 1e-3, description: 'Tikhonov damping lambda.' }),
    emaDecay: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.95, description: 'EMA decay of the Kronecker factors.' }),
    factorUpdateInterval: Type.Integer({ minimum: 1, default: 1, description: 'Steps between factor updates.' }),
    inverseUpdateInterval: Type.Integer({ minimum: 1, default: 10, description: 'Steps between factor inversions.' }),
    klClip: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()], {
      default: 1e-3,
      description: 'KL-clipping bound (Ba et al. 2017); null disables.',
    }),
    lowRankGradient: Type.Optional(
      Type.Boolean({
        description:
          "Precondition a dense layer's gradient through its rank-n form dW = a^T g (the layer's n input rows and dL/ds rows) as (A^-1 a^T)(g G^-1) wherever that takes fewer FLOPs than A^-1 dW G^-1: the same direction up to rounding (not bit for bit), much cheaper when a layer is wider than the batch (fmnist_2c2d's 3,137 x 1,024 dense layer at b128: 3.6 instead of 27 GFLOP per step). Needs every row of the batch in one pass: one worker, no ghost batches, and no L2 term in the gradient (weight decay 0 or placed 'after-preconditioning' or 'decoupled').",
      }),
    ),
  },
  { additionalProperties: false },
);

export const SmoothingConfigSchema = Type.Object(
  {
    distribution: Type.Union([Type.Literal('uniform'), Type.Literal('gaussian')], {
      default: 'uniform',
      description: 'Noise U(-a, a) or N(0, a^2).',
    }),
    amplitude: Type.Number({ minimum: 0, default: 0.01, description: 'Noise amplitude a.' }),
    relative: Type.Boolean({ default: false, description: 'Scale the noise by |w| elementwise.' }),
    perFilter: Type.Optional(
      Type.Boolean({
        description:
          "SmoothOut's filter adaptation (Wen et al. 2018, --adapt-type filter): each output filter's (dense: unit's) noise is rescaled to norm a x the norm of that filter's weights; 1-D parameters (biases, batch-norm) get a x |w| with a random sign. Not with relative.",
      }),
    ),
    ghostBatchSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "SmoothOut's ghost batches (Wen et al. 2018, --mini-batch-size): each worker's batch is split into sub-batches of this many examples, each with its own noise draw (and its own K-FAC statistics for ngd); the gradients and factors are their mean. Must divide the per-worker batch.",
      }),
    ),
    exclude: Type.Optional(
      Type.Array(Type.Union(WEIGHT_DECAY_EXEMPT_KINDS.map((k) => Type.Literal(k))), {
        uniqueItems: true,
        description: "Parameter kinds left unperturbed: 'bias', 'batch-norm' (SmoothOut leaves batch-norm alone). Absent: every parameter.",
      }),
    ),
    decay: Type.Union([Type.Literal('none'), Type.Literal('linear'), Type.Literal('cosine')], {
      default: 'none',
      description: 'Schedule of the amplitude over training.',
    }),
  },
  { additionalProperties: false },
);

export const SamConfigSchema = Type.Object(
  {
    rho: Type.Number({
      minimum: 0,
      default: 0.05,
      description: 'Radius ρ of the ascent step ε = ρ g / ‖g‖ (Foret et al. 2021; 0 is the base optimizer, bit for bit).',
    }),
    adaptive: Type.Boolean({
      default: false,
      description: 'ASAM (Kwon et al. 2021): ε = ρ T² g / ‖T g‖ with T = |w| + eta elementwise, so the radius is relative to the weights.',
    }),
    eta: Type.Number({ minimum: 0, default: 0.01, description: "ASAM's offset in T = |w| + eta (keeps zero weights perturbable)." }),
  },
  { additionalProperties: false },
);

export const OptimizerConfigSchema = Type.Object(
  {
    name: literalUnion(OPTIMIZER_NAMES, 'Optimizer.', 'sgd'),
    lr: Type.Number({ exclusiveMinimum: 0, default: 0.05, description: 'Base learning rate at the reference batch size.' }),
    momentum: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9 }),
    nesterov: Type.Boolean({ default: false }),
    weightDecay: Type.Number({ minimum: 0, default: 0 }),
    weightDecayMode: literalUnion(
      WEIGHT_DECAY_PLACEMENTS,
      "Where weight decay acts. 'l2': wd·w added to the gradient, so ngd preconditions it (its inverse Fisher amplifies it in low-curvature directions). 'preconditioned-objective': as 'l2', and for ngd wd is also added to the K-FAC damping (Martens & Grosse 2015, sec. 6.3: the L2 term is part of the objective whose curvature is approximated). 'after-preconditioning': wd·w added to the preconditioned, KL-clipped direction before momentum (the kfac-pytorch convention). 'decoupled': w ← w − lr·wd·w apart from the gradient (Loshchilov & Hutter 2019). For sgd the first three are one update; sgd accepts 'l2' and 'decoupled' only.",
      'l2',
    ),
    weightDecayExclude: Type.Optional(
      Type.Array(Type.Union(WEIGHT_DECAY_EXEMPT_KINDS.map((k) => Type.Literal(k))), {
        uniqueItems: true,
        description:
          "Parameter kinds weight decay skips: 'bias' (dense and conv biases), 'batch-norm' (scale and shift). Absent or []: every parameter decays (the default).",
      }),
    ),
    kfac: Type.Optional(KfacConfigSchema),
    smoothing: Type.Optional(SmoothingConfigSchema),
    sam: Type.Optional(SamConfigSchema),
  },
  { additionalProperties: false, default: {} },
);

export const ScheduleConfigSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('constant'), Type.Literal('step'), Type.Literal('cosine'), Type.Literal('polynomial')], {
      default: 'constant',
    }),
    warmupEpochs: Type.Number({ minimum: 0, default: 0 }),
    stepMilestones: Type.Array(Type.Number({ minimum: 0 }), {
      default: [],
      description: 'step: epochs at which lr is multiplied by stepFactor.',
    }),
    stepFactor: Type.Number({ exclusiveMinimum: 0, default: 0.1 }),
    power: Type.Number({ exclusiveMinimum: 0, default: 2, description: 'polynomial: decay exponent.' }),
    finalLrFraction: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0,
      description: 'cosine/polynomial: final lr as a fraction of the peak.',
    }),
    batchScaling: Type.Union([Type.Literal('linear'), Type.Literal('sqrt'), Type.Literal('none')], {
      default: 'none',
      description: 'How the lr scales with batchSize / referenceBatchSize.',
    }),
    referenceBatchSize: Type.Integer({ minimum: 1, default: 128 }),
  },
  { additionalProperties: false, default: {} },
);

/** The metrics a target can be set on; accuracies are met from above (>=), losses from below (<=). */
export const TARGET_METRICS = ['validationAccuracy', 'validationLoss', 'trainLoss', 'trainAccuracy'] as const;
export type TargetMetric = (typeof TARGET_METRICS)[number];

const EpochLimitSchema = Type.Object(
  { epochs: Type.Integer({ minimum: 1, description: 'Training epochs.' }) },
  { additionalProperties: false },
);
const StepLimitSchema = Type.Object(
  { steps: Type.Integer({ minimum: 1, description: 'Optimizer steps (global batches); the last epoch may be partial.' }) },
  { additionalProperties: false },
);

export const TargetSchema = Type.Object(
  {
    metric: literalUnion(
      TARGET_METRICS,
      'The evaluated metric the target is set on (validation* needs dataset.validationSize).',
      'validationAccuracy',
    ),
    value: Type.Number({ description: 'Accuracies are reached at >= value (a fraction, 0.87 = 87 %), losses at <= value.' }),
  },
  { additionalProperties: false },
);

export const TargetBudgetSchema = Type.Object(
  {
    target: TargetSchema,
    max: Type.Union([EpochLimitSchema, StepLimitSchema], {
      description: 'Budget after which a run that has not met the target stops (the learning-rate schedule spans it).',
    }),
    stopAtTarget: Type.Optional(
      Type.Boolean({
        description:
          'Stop at the first evaluation that meets the target (default true); false trains on to "max", recording when the target was met, so one run serves steps-to-target, fixed-step and matched-fit comparisons.',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * A run's budget: a fixed number of epochs or steps, or a target (steps-to-target, Shallue et al. 2019)
 * with a maximum. `{ "epochs": n }` is the same run as the top-level `epochs: n`, and is stored that way.
 */
export const BudgetSchema = Type.Union([EpochLimitSchema, StepLimitSchema, TargetBudgetSchema], {
  description: 'Training budget: {"epochs": n}, {"steps": n}, or {"target": {"metric", "value"}, "max": {"epochs" | "steps": n}}.',
});

export const TrainConfigSchema = Type.Object(
  {
    model: ModelConfigSchema,
    dataset: DatasetConfigSchema,
    optimizer: OptimizerConfigSchema,
    schedule: ScheduleConfigSchema,
    batchSize: Type.Integer({ minimum: 1, default: 128, description: 'Global mini-batch size.' }),
    microBatchSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "At most this many examples per forward/backward pass on each worker: a larger per-worker batch runs in micro-batches whose gradients and K-FAC statistics are summed (gradient accumulation), the same step up to floating-point rounding with one micro-batch's activations in memory at a time. Not for models with batch norm (their function depends on the batch). Absent: whole batches.",
      }),
    ),
    epochs: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Training epochs (an epoch budget; default 1 unless "budget" is given).' }),
    ),
    budget: Type.Optional(BudgetSchema),
    evalEverySteps: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Also evaluate every N steps (besides every epoch end), e.g. to find the step a target is met at; evaluation time is excluded from training time.',
      }),
    ),
    evalGrowth: Type.Optional(
      Type.Number({
        exclusiveMinimum: 1,
        maximum: 10,
        description:
          'Also evaluate at the steps ceil(g^k), k = 0, 1, ...: evaluations spaced evenly on a log scale, so steps-to-target is resolved to the same relative precision (e.g. 1.1: 10 %) at every batch size.',
      }),
    ),
    seed: Type.Integer({ minimum: 0, default: 0 }),
    backend: literalUnion(BACKEND_NAMES, 'Compute backend.', 'auto'),
    evalBatchSize: Type.Integer({ minimum: 1, default: 1000 }),
  },
  { additionalProperties: false },
);

export type TrainConfig = Static<typeof TrainConfigSchema>;
export type Budget = Static<typeof BudgetSchema>;
export type Target = Static<typeof TargetSchema>;
export type TargetBudget = Static<typeof TargetBudgetSchema>;
export type ModelConfig = Static<typeof ModelConfigSchema>;
export type OptimizerConfig = Static<typeof OptimizerConfigSchema>;
export type KfacConfig = Static<typeof KfacConfigSchema>;
export type SmoothingConfig = Static<typeof SmoothingConfigSchema>;
export type ScheduleConfig = Static<typeof ScheduleConfigSchema>;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];
export type SamConfig = Static<typeof SamConfigSchema>;
export type BackendName = (typeof BACKEND_NAMES)[number];
