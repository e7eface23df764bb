/**
 * The training-run configuration: a TypeBox schema is the single source of truth, the TS types are
 * derived from it (`Static`), and ajv fills in the defaults while validating.
 */
import { Type, type Static, type TLiteral, type TUnion, type SchemaOptions } from '@sinclair/typebox';

export const OPTIMIZER_NAMES = ['sgd', 'smoothed-sgd', 'ngd', 'smoothed-ngd'] as const;
export const MODEL_NAMES = ['mlp', 'cnn', 'resnet20'] as const;
export const DATASET_NAMES = ['fashion-mnist', 'mnist', 'cifar10', 'synthetic'] as const;
/** Hidden widths of the default mlp: 784-256-256-10 on MNIST-shaped data. */
export const DEFAULT_MLP_WIDTHS = [256, 256] as const;
export const BACKEND_NAMES = ['auto', 'tensorflow-gpu', 'tensorflow', 'cpu-blas', 'cpu'] as const;

/** A string enum as a union of literals, so `Static` yields the literal union type. */
function literalUnion<T extends string>(values: readonly T[], description: string, def: T, extra: SchemaOptions = {}): TUnion<TLiteral<T>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)), { description, default: def, ...extra });
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
    trainSize: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Train on the first N examples of the seeded shuffle.' }),
    ),
    testSize: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Evaluate on the first N test examples of the seeded shuffle.' }),
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
    decay: Type.Union([Type.Literal('none'), Type.Literal('linear'), Type.Literal('cosine')], {
      default: 'none',
      description: 'Schedule of the amplitude over training.',
    }),
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
    weightDecayMode: Type.Union([Type.Literal('decoupled'), Type.Literal('l2')], { default: 'l2' }),
    kfac: Type.Optional(KfacConfigSchema),
    smoothing: Type.Optional(SmoothingConfigSchema),
  },
  { additionalProperties: false, default: {} },
);

export const ScheduleConfigSchema = Type.Object(
  {
    kind: Type.Union(
      [Type.Literal('constant'), Type.Literal('step'), Type.Literal('cosine'), Type.Literal('polynomial')],
      { default: 'constant' },
    ),
    warmupEpochs: Type.Number({ minimum: 0, default: 0 }),
    stepMilestones: Type.Array(Type.Number({ minimum: 0 }), { default: [], description: 'step: epochs at which lr is multiplied by stepFactor.' }),
    stepFactor: Type.Number({ exclusiveMinimum: 0, default: 0.1 }),
    power: Type.Number({ exclusiveMinimum: 0, default: 2, description: 'polynomial: decay exponent.' }),
    finalLrFraction: Type.Number({ minimum: 0, maximum: 1, default: 0, description: 'cosine/polynomial: final lr as a fraction of the peak.' }),
    batchScaling: Type.Union([Type.Literal('linear'), Type.Literal('sqrt'), Type.Literal('none')], {
      default: 'none',
      description: 'How the lr scales with batchSize / referenceBatchSize.',
    }),
    referenceBatchSize: Type.Integer({ minimum: 1, default: 128 }),
  },
  { additionalProperties: false, default: {} },
);

export const TrainConfigSchema = Type.Object(
  {
    model: ModelConfigSchema,
    dataset: DatasetConfigSchema,
    optimizer: OptimizerConfigSchema,
    schedule: ScheduleConfigSchema,
    batchSize: Type.Integer({ minimum: 1, default: 128, description: 'Global mini-batch size.' }),
    epochs: Type.Integer({ minimum: 1, default: 1 }),
    seed: Type.Integer({ minimum: 0, default: 0 }),
    backend: literalUnion(BACKEND_NAMES, 'Compute backend.', 'auto'),
    evalBatchSize: Type.Integer({ minimum: 1, default: 1000 }),
  },
  { additionalProperties: false },
);

export type TrainConfig = Static<typeof TrainConfigSchema>;
export type ModelConfig = Static<typeof ModelConfigSchema>;
export type OptimizerConfig = Static<typeof OptimizerConfigSchema>;
export type KfacConfig = Static<typeof KfacConfigSchema>;
export type SmoothingConfig = Static<typeof SmoothingConfigSchema>;
export type ScheduleConfig = Static<typeof ScheduleConfigSchema>;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];
export type BackendName = (typeof BACKEND_NAMES)[number];
