/**
 * A suite file: one model and dataset, a list of optimizers, and the axes (batch sizes, workers, seeds,
 * swept hyper-parameters) whose product is the run matrix. The TypeBox schema is the single source of
 * truth: the TS types derive from it, ajv validates (and fills defaults) with it, and
 * `schemas/suite.schema.json` (for editors) is emitted from it.
 *
 * Fields with a default are required in the static type (ajv fills them in while loading) but optional
 * in the emitted JSON schema (see emitSchema.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  DatasetConfigSchema,
  ModelConfigSchema,
  OptimizerConfigSchema,
  KfacConfigSchema,
  ScheduleConfigSchema,
  SamConfigSchema,
  SmoothingConfigSchema,
  TrainConfigSchema,
} from '../config/trainConfig.js';
import { SWEEPABLE_PATHS } from './configPaths.js';
import { annotate, describeProperties, withoutDefaults } from './schemaTools.js';
import { PROBLEM_NAMES } from '../config/problems.js';

export const SUITE_SCHEMA_ID = 'https://ngd-bench.dev/schemas/suite.schema.json';
export const JSON_SCHEMA_DRAFT = 'https://json-schema.org/draft/2020-12/schema';

/** Suite names: lowercase words joined by dashes (they appear in file names and reports). */
export const SUITE_NAME_PATTERN = '^[a-z0-9]+(-[a-z0-9]+)*$';
/** Optimizer labels: safe in file names (letters, digits, '.', '_', '-'; no leading punctuation). */
export const LABEL_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

const Label = (description: string) =>
  Type.String({
    pattern: LABEL_PATTERN,
    maxLength: 64,
    patternErrorMessage: "must be letters, digits, '.', '_' or '-' (starting with a letter or digit)",
    description,
  });

const optimizerProperties = OptimizerConfigSchema.properties;

/**
 * Optimizer settings a suite may set for all optimizers (`defaults`) or per optimizer entry. Every
 * field is optional and has no default of its own (TrainConfig's defaults apply last).
 */
const optimizerSettings = {
  lr: Type.Optional(
    withoutDefaults(
      annotate(optimizerProperties.lr, {
        description: "Base learning rate at the schedule's referenceBatchSize (schedule.batchScaling scales it to each batch size).",
      }),
    ),
  ),
  momentum: Type.Optional(
    withoutDefaults(
      annotate(optimizerProperties.momentum, { description: 'Momentum coefficient (heavy-ball, or Nesterov with nesterov: true).' }),
    ),
  ),
  nesterov: Type.Optional(
    withoutDefaults(annotate(optimizerProperties.nesterov, { description: 'Nesterov momentum instead of heavy-ball.' })),
  ),
  weightDecay: Type.Optional(
    withoutDefaults(annotate(optimizerProperties.weightDecay, { description: 'Weight-decay coefficient (0 disables).' })),
  ),
  weightDecayMode: Type.Optional(withoutDefaults(optimizerProperties.weightDecayMode)),
  weightDecayExclude: optimizerProperties.weightDecayExclude,
  kfac: Type.Optional(
    Type.Partial(withoutDefaults(KfacConfigSchema), {
      additionalProperties: false,
      description:
        'K-FAC settings (ngd and smoothed-ngd only; in "defaults" they apply to those optimizers and are ignored by the others).',
    }),
  ),
  sam: Type.Optional(
    Type.Partial(withoutDefaults(SamConfigSchema), {
      additionalProperties: false,
      description:
        'Sharpness-aware perturbation (sam-sgd and sam-ngd only; in "defaults" it applies to those optimizers and is ignored by the others).',
    }),
  ),
  smoothing: Type.Optional(
    Type.Partial(withoutDefaults(SmoothingConfigSchema), {
      additionalProperties: false,
      description:
        'Weight-perturbation smoothing (smoothed-sgd and smoothed-ngd only; in "defaults" they apply to those optimizers and are ignored by the others).',
    }),
  ),
};

export const OptimizerSettingsSchema = Type.Object(optimizerSettings, {
  additionalProperties: false,
  default: {},
  description:
    'Optimizer settings shared by every optimizer of the suite; an optimizer entry overrides them key by key (kfac and smoothing merge per key).',
});

export const OptimizerEntrySchema = Type.Object(
  {
    name: withoutDefaults(
      annotate(optimizerProperties.name, { description: 'Optimizer: sgd, smoothed-sgd, ngd, smoothed-ngd, sam-sgd or sam-ngd.' }),
    ),
    label: Type.Optional(
      Label(
        'Unique label of this entry, used in run names and reports (default: the optimizer name). Needed when two entries share an optimizer.',
      ),
    ),
    ...optimizerSettings,
  },
  { additionalProperties: false, description: 'One optimizer of the suite, with settings overriding "defaults".' },
);

export const SweepSchema = Type.Object(
  {
    path: Type.Unsafe<string>({
      type: 'string',
      enum: [...SWEEPABLE_PATHS],
      description:
        'Dotted path of the swept training-config value, e.g. "optimizer.kfac.damping". Batch size, seed, optimizer and workers are axes of their own.',
    }),
    values: Type.Array(Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]), {
      minItems: 1,
      uniqueItems: true,
      description: 'Values to try; each one multiplies the runs of the optimizers this sweep applies to.',
    }),
    optimizers: Type.Optional(
      Type.Array(Label('An optimizer label of this suite.'), {
        minItems: 1,
        uniqueItems: true,
        description:
          'Labels of the optimizers this sweep applies to (default: all). Required for K-FAC and smoothing paths unless every optimizer uses them.',
      }),
    ),
  },
  { additionalProperties: false, description: 'One swept hyper-parameter.' },
);

/** The metrics tuning may select by: measured on the validation split, or steps to the run's target. Never the test split. */
export const SELECT_METRICS = ['validationAccuracy', 'validationLoss', 'stepsToTarget'] as const;
export type SelectMetric = (typeof SELECT_METRICS)[number];

export const SelectSchema = Type.Object(
  {
    metric: Type.Union(
      SELECT_METRICS.map((m) => Type.Literal(m)),
      {
        description:
          'What the selection optimizes, averaged over the tuning seeds: the final validationAccuracy (highest), validationLoss (lowest), or stepsToTarget (fewest; needs a target budget). A value none of whose seeds met the target is ranked after every value that met it, by its best validation value.',
      },
    ),
    stability: Type.Union([Type.Literal('per-cell'), Type.Literal('every-batch-size')], {
      default: 'per-cell',
      description:
        "Which values are candidates: 'per-cell' drops a value that diverged in any tuning seed of that optimizer and batch size; 'every-batch-size' drops a value that diverged at any batch size of the suite for that optimizer (the stability rule of the paper suites).",
    }),
  },
  { additionalProperties: false, description: 'The selection rule: a pure function of the tuning results.' },
);

export const TuneSchema = Type.Object(
  {
    grid: Type.Array(SweepSchema, {
      minItems: 1,
      description:
        'Hyper-parameters to tune: every combination of their values (for the optimizers each applies to) is a candidate. Each path needs at least two values.',
    }),
    perBatchSize: Type.Boolean({
      default: true,
      description:
        'Select separately at every batch size (Shallue et al. 2019); false selects once, at "atBatchSize", and uses that value at every batch size.',
    }),
    atBatchSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'With perBatchSize false: the batch size the values are selected at (one of "batchSizes").',
      }),
    ),
    seeds: Type.Array(Type.Integer({ minimum: 0 }), {
      minItems: 1,
      uniqueItems: true,
      description: 'Seeds of the tuning runs (use other seeds than the final runs, so the final numbers are not the ones selected on).',
    }),
    select: SelectSchema,
  },
  {
    additionalProperties: false,
    description:
      'External tuning (AlgoPerf): `ngd-bench run` first runs every candidate on the tuning seeds (into OUT/tuning/), selects per optimizer (and batch size) by "select" on the validation split, writes OUT/tuning.json, then runs the final runs on "seeds" with the selected values.',
  },
);

export const TolerancesSchema = Type.Object(
  {
    accuracyDropPoints: Type.Number({
      minimum: 0,
      default: 1,
      description:
        'A run fails the baseline check when its final test accuracy is more than this many percentage points below the baseline (1 = 91.0% -> 89.9% fails).',
    }),
    seedSpreadFactor: Type.Number({
      minimum: 0,
      default: 2,
      description:
        "The allowed accuracy drop widens to this many standard deviations of the baseline's accuracy over seeds (in points), when that is larger; 0 disables.",
    }),
    timeRatio: Type.Number({
      minimum: 1,
      default: 1.25,
      description:
        'A run fails the timing check when its time per training step exceeds the baseline by this ratio (1.25 = 25% slower fails).',
    }),
    minTimingSamples: Type.Integer({
      minimum: 1,
      default: 3,
      description:
        'Timing checks need at least this many samples (runs or probe repetitions) on each side; with fewer, a slowdown is reported but does not fail.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'How far results may drift from a baseline before the baseline check fails.' },
);

export const RunSettingsSchema = Type.Object(
  {
    timeoutMinutes: Type.Number({
      exclusiveMinimum: 0,
      // A timer holds at most 2^31 - 1 ms (24.8 days); a longer limit would fire at once.
      maximum: 35_791,
      default: 60,
      description: 'Wall-clock limit per run, minutes (at most 35791, about 24.8 days); a run over it is killed and counts as failed.',
    }),
    retries: Type.Integer({
      minimum: 0,
      default: 1,
      description:
        'Relaunches of a run after an infrastructure failure (a worker or peer lost, a process killed by a signal the harness did not send, a launch that failed); never after a timeout, divergence, a failed run or bad input.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'How the harness launches each run.' },
);

export const ProbesSchema = Type.Object(
  {
    batchSizes: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1 }), {
        minItems: 1,
        uniqueItems: true,
        description: 'Global batch sizes to time training steps at (default: the suite\'s "batchSizes").',
      }),
    ),
    optimizers: Type.Optional(
      Type.Array(Label('An optimizer label of this suite.'), {
        minItems: 1,
        uniqueItems: true,
        description: 'Optimizer labels to time (default: all).',
      }),
    ),
    iterations: Type.Integer({ minimum: 1, default: 20, description: 'Timed iterations per probe (after warm-up).' }),
    allreduceSizes: Type.Array(Type.Integer({ minimum: 1 }), {
      minItems: 1,
      uniqueItems: true,
      default: [4096, 262144, 4194304, 33554432],
      description: 'Payload sizes, bytes, of the allreduce timing probes.',
    }),
    workers: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Workers for the allreduce probes (default: the largest of "workers").' }),
    ),
    matmulSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 16384,
        description:
          "Also time an N x N float32 matMul on the run's backend (GFLOP/s): the compute limit the step times sit next to, e.g. 4096 on a GPU.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Timing probes: short measurements of step times and collectives, recorded next to the runs.',
  },
);

const trainProperties = TrainConfigSchema.properties;

export const SuiteSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'Path or URL of this JSON schema, for editors; ignored by ngd-bench.' })),
    name: Type.String({
      pattern: SUITE_NAME_PATTERN,
      maxLength: 64,
      patternErrorMessage: 'must be lowercase letters and digits joined by dashes, e.g. "fashion-mnist-mlp"',
      description: 'Suite name (lowercase, dash-separated); recorded in every run result.',
    }),
    description: Type.Optional(Type.String({ description: 'What the suite checks, for humans.' })),
    problem: Type.Optional(
      Type.Union(
        PROBLEM_NAMES.map((p) => Type.Literal(p)),
        {
          description:
            'A DeepOBS test problem: its model, dataset, batch size, epochs and regularisation fill in whatever the suite does not set (model, dataset, batchSizes, epochs unless a budget is given, and defaults).',
        },
      ),
    ),
    model: annotate(ModelConfigSchema, { description: 'Model, as in a training config (default: the mlp).' }),
    dataset: annotate(DatasetConfigSchema, { description: 'Dataset, as in a training config (default: fashion-mnist).' }),
    schedule: describeProperties(
      annotate(ScheduleConfigSchema, { description: 'Learning-rate schedule and batch-size scaling rule, shared by all optimizers.' }),
      {
        kind: 'Learning-rate decay after warm-up.',
        warmupEpochs: 'Epochs of linear warm-up to the peak learning rate.',
        stepFactor: 'step: factor the learning rate is multiplied by at each milestone.',
        referenceBatchSize: 'Batch size at which the learning rate is "lr"; batchScaling scales it to the actual batch size.',
      },
    ),
    epochs: annotate(trainProperties.epochs, { description: 'Training epochs per run (an epoch budget; give this or "budget").' }),
    budget: annotate(trainProperties.budget, {
      description:
        'Budget of every run instead of "epochs": {"steps": n}, or a target {"target": {"metric", "value"}, "max": {"epochs" | "steps": n}} (steps-to-target; a run stops at the first evaluation that meets it).',
    }),
    evalEverySteps: annotate(trainProperties.evalEverySteps, { description: 'Also evaluate every N steps, at every batch size.' }),
    evalGrowth: annotate(trainProperties.evalGrowth, {
      description: 'Also evaluate at the steps ceil(g^k): evenly spaced on a log scale, for steps-to-target at every batch size.',
    }),
    evalEverySamples: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Also evaluate every N training samples: each run evaluates every max(1, round(N / batchSize)) steps, so the resolution of steps-to-target is the same fraction of an epoch at every batch size. Give this or evalEverySteps.',
      }),
    ),
    microBatchSize: annotate(trainProperties.microBatchSize, {
      description:
        "At most this many examples per forward/backward pass on each worker (gradient accumulation): bounds a large batch's activation memory; the same steps up to rounding. Not for models with batch norm.",
    }),
    evalBatchSize: annotate(trainProperties.evalBatchSize, { description: 'Batch size for evaluation (does not affect results).' }),
    backend: annotate(trainProperties.backend, { description: 'Compute backend for every run (auto picks the fastest available).' }),
    defaults: OptimizerSettingsSchema,
    optimizers: Type.Array(OptimizerEntrySchema, {
      minItems: 1,
      description: 'The optimizers to compare; every one runs on every cell of the axes.',
    }),
    batchSizes: Type.Array(Type.Integer({ minimum: 1 }), {
      minItems: 1,
      uniqueItems: true,
      description: 'Global mini-batch sizes (split evenly across the workers of a run).',
    }),
    workers: Type.Array(Type.Integer({ minimum: 1 }), {
      minItems: 1,
      uniqueItems: true,
      default: [1],
      description: 'Data-parallel worker counts; every batch size must be divisible by every worker count.',
    }),
    workersByBatchSize: Type.Optional(
      Type.Record(Type.String({ pattern: '^[1-9][0-9]*$' }), Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, uniqueItems: true }), {
        description:
          'Worker counts for particular batch sizes, replacing "workers" for them, e.g. {"8192": [2]} runs the largest batch data-parallel. Keys must be listed in "batchSizes".',
      }),
    ),
    seeds: Type.Array(Type.Integer({ minimum: 0 }), {
      minItems: 1,
      uniqueItems: true,
      default: [0],
      description: 'Seeds (replicates) of every configuration.',
    }),
    sweep: Type.Array(SweepSchema, {
      default: [],
      description: 'Swept hyper-parameters: the product of their values (for the optimizers each applies to) multiplies the matrix.',
    }),
    tune: Type.Optional(TuneSchema),
    tolerances: TolerancesSchema,
    run: RunSettingsSchema,
    probes: Type.Optional(ProbesSchema),
  },
  {
    $id: SUITE_SCHEMA_ID,
    $schema: JSON_SCHEMA_DRAFT,
    title: 'ngd-bench suite',
    description:
      'A benchmark suite: the run matrix is optimizers x batchSizes x workers x sweep values x seeds, each cell a training run of the same model and dataset.',
    additionalProperties: false,
  },
);

export type Suite = Static<typeof SuiteSchema>;
export type OptimizerSettings = Static<typeof OptimizerSettingsSchema>;
export type OptimizerEntry = Static<typeof OptimizerEntrySchema>;
export type Sweep = Static<typeof SweepSchema>;
export type Tolerances = Static<typeof TolerancesSchema>;
export type RunSettings = Static<typeof RunSettingsSchema>;
export type Probes = Static<typeof ProbesSchema>;
export type Tune = Static<typeof TuneSchema>;
export type Select = Static<typeof SelectSchema>;

/** The worker counts a batch size runs with: its own entry in workersByBatchSize, else the suite's workers. */
export const workersFor = (suite: Pick<Suite, 'workers' | 'workersByBatchSize'>, batchSize: number): readonly number[] =>
  suite.workersByBatchSize?.[String(batchSize)] ?? suite.workers;

/** Every worker count the suite uses. */
export const allWorkerCounts = (suite: Pick<Suite, 'workers' | 'workersByBatchSize' | 'batchSizes'>): number[] => [
  ...new Set(suite.batchSizes.flatMap((b) => workersFor(suite, b))),
];

/** The label of an optimizer entry: its `label`, or its optimizer name. */
export const labelOf = (entry: OptimizerEntry): string => entry.label ?? entry.name;
