/**
 * The result file of one training run. The TypeBox schema is the source of truth; the reporter and
 * harness read these files only through this schema.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TrainConfigSchema } from '../config/trainConfig.js';

const Seconds = Type.Number({ minimum: 0 });
const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const NullableNumber = Type.Union([Type.Number(), Type.Null()], { description: 'null when not finite (e.g. NaN loss)' });

export const EpochMetricsSchema = Type.Object(
  {
    epoch: Type.Integer({ minimum: 1 }),
    steps: Type.Integer({ minimum: 0 }),
    learningRate: Type.Number(),
    meanBatchLoss: NullableNumber,
    trainLoss: NullableNumber,
    trainAccuracy: Fraction,
    testLoss: NullableNumber,
    testAccuracy: Fraction,
    validationLoss: Type.Optional(NullableNumber),
    validationAccuracy: Type.Optional(Fraction),
    seconds: Seconds,
  },
  { additionalProperties: false },
);

/** One point of the evaluation curve: every split evaluated after `step` optimizer steps. */
export const EvaluationSchema = Type.Object(
  {
    step: Type.Integer({ minimum: 0 }),
    epoch: Type.Number({ minimum: 0, description: 'step / steps per epoch (fractional between epoch ends)' }),
    samples: Type.Integer({ minimum: 0, description: 'training examples seen: step x global batch size' }),
    trainSeconds: Seconds,
    learningRate: Type.Number(),
    trainLoss: NullableNumber,
    trainAccuracy: Fraction,
    validationLoss: Type.Optional(NullableNumber),
    validationAccuracy: Type.Optional(Fraction),
    testLoss: NullableNumber,
    testAccuracy: Fraction,
  },
  { additionalProperties: false },
);

/** How a target budget ended: when the target was first met (null if never), and the best value seen. */
export const TargetOutcomeSchema = Type.Object(
  {
    metric: Type.String(),
    value: Type.Number(),
    reached: Type.Boolean(),
    stepsToTarget: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    samplesToTarget: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    epochsToTarget: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    trainSecondsToTarget: Type.Union([Seconds, Type.Null()], {
      description: 'training time (evaluation excluded) until the evaluation that met it',
    }),
    best: NullableNumber,
    bestAtStep: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  },
  { additionalProperties: false },
);

export const FinalMetricsSchema = Type.Object(
  {
    trainLoss: NullableNumber,
    trainAccuracy: Fraction,
    testLoss: NullableNumber,
    testAccuracy: Fraction,
    validationLoss: Type.Optional(NullableNumber),
    validationAccuracy: Type.Optional(Fraction),
    generalizationGap: Type.Number({ description: 'trainAccuracy - testAccuracy' }),
  },
  { additionalProperties: false },
);

export const PhaseTimesSchema = Type.Object(
  {
    samAscent: Type.Optional(Seconds),
    forwardBackward: Seconds,
    curvature: Seconds,
    inversion: Seconds,
    preconditioning: Seconds,
    update: Seconds,
    evaluation: Seconds,
  },
  { additionalProperties: false },
);

/** The WebGPU adapter a `webgpu` run ran on, as Dawn reports it. */
export const GpuAdapterSchema = Type.Object(
  {
    api: Type.Literal('webgpu'),
    vendor: Type.String(),
    architecture: Type.String({ description: "e.g. 'ampere'; 'software' for a CPU implementation such as Mesa's lavapipe" }),
    device: Type.String(),
    description: Type.String(),
    driver: Type.Union([Type.String(), Type.Null()], { description: "the driver's name and version, where the adapter says" }),
    software: Type.Boolean({ description: 'a software (CPU) adapter: numbers are for correctness only, never GPU timings' }),
    bindings: Type.String({ description: "the WebGPU implementation, e.g. 'webgpu 0.6.2 (Dawn)'" }),
    selection: Type.Optional(
      Type.String({ description: "how this rank's adapter was chosen, e.g. 'local rank 1: GPU 1 of 8, NVIDIA H200 at PCI 0000:65:00.0'" }),
    ),
    pciBusId: Type.Optional(Type.String({ description: 'the PCI bus the rank was pinned to (Mesa device-select layer)' })),
  },
  { additionalProperties: false },
);

/** What one rank of a data-parallel run ran on. */
export const RankBackendSchema = Type.Object(
  {
    rank: Type.Integer({ minimum: 0 }),
    backend: Type.String(),
    accelerator: Type.Union([Type.String(), Type.Null()]),
    gpuAdapter: Type.Optional(GpuAdapterSchema),
  },
  { additionalProperties: false },
);

export const EnvironmentSchema = Type.Object(
  {
    backend: Type.String({ description: "what actually ran: 'webgpu', 'tensorflow-gpu', 'tensorflow', 'cpu-blas' or 'cpu'" }),
    backendRequested: Type.String(),
    backendVersion: Type.String(),
    tfjsCoreVersion: Type.String(),
    accelerator: Type.Union([Type.String(), Type.Null()], { description: 'BLAS library or GPU used, if any' }),
    gpuAdapter: Type.Optional(GpuAdapterSchema),
    ranks: Type.Optional(
      Type.Array(RankBackendSchema, { description: 'every rank of a data-parallel run, by rank (rank 0 is this environment)' }),
    ),
    cpuModel: Type.String(),
    cpuCores: Type.Integer({ minimum: 1 }),
    memoryBytes: Type.Integer({ minimum: 0 }),
    gpus: Type.Array(Type.String()),
    platform: Type.String(),
    nodeVersion: Type.String(),
    hostname: Type.String(),
  },
  { additionalProperties: false },
);

/** Where the run sat in a suite; added by the harness. */
export const RunIdentitySchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    suite: Type.String(),
    optimizerLabel: Type.String(),
    configHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    sweep: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()])),
    tuned: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]), {
        description: "a tuned suite's final run: the values its tuning selected (see the results directory's tuning.json)",
      }),
    ),
    attempts: Type.Integer({ minimum: 1, description: 'launches it took (retries after infrastructure failures)' }),
  },
  { additionalProperties: false },
);

/** How a data-parallel run was split. Absent for a single-process run. */
export const ParallelSchema = Type.Object(
  {
    workers: Type.Integer({ minimum: 1 }),
    launcher: Type.Union([Type.Literal('ngd-bench'), Type.Literal('mpirun'), Type.Literal('slurm'), Type.Literal('torchrun')]),
    perWorkerBatchSize: Type.Integer({ minimum: 1 }),
    threadsPerWorker: Type.Integer({ minimum: 1, description: 'BLAS/OpenMP threads each worker was given' }),
    allreduce: Type.String({ description: "collective algorithm, e.g. 'ring'" }),
    communicationSeconds: Type.Number({ minimum: 0, description: "rank 0's time inside collectives" }),
    bytesAllreducedPerStep: Type.Integer({ minimum: 0, description: 'mean payload per training step' }),
    replicaChecks: Type.Integer({ minimum: 0, description: 'steps after which all ranks were checked to hold bit-identical weights' }),
  },
  { additionalProperties: false },
);

export const RunStatusSchema = Type.Union([Type.Literal('ok'), Type.Literal('diverged'), Type.Literal('failed')]);

export const RunResultSchema = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    tool: Type.Object({ name: Type.Literal('ngd-bench'), version: Type.String() }, { additionalProperties: false }),
    config: TrainConfigSchema,
    status: RunStatusSchema,
    divergedAtStep: Type.Optional(Type.Integer({ minimum: 0 })),
    error: Type.Optional(Type.String()),
    failureKind: Type.Optional(
      Type.Union([Type.Literal('run'), Type.Literal('infrastructure')], {
        description:
          "for failed runs: 'infrastructure' (a worker or peer lost, a timeout: worth a retry) or 'run' (training itself failed)",
      }),
    ),
    stderrTail: Type.Optional(Type.String({ description: 'last lines the run printed on stderr, kept for failed runs' })),
    run: Type.Optional(RunIdentitySchema),
    parallel: Type.Optional(ParallelSchema),
    dataset: Type.Union(
      [
        Type.Object(
          {
            source: Type.String(),
            trainExamples: Type.Integer({ minimum: 0 }),
            testExamples: Type.Integer({ minimum: 0 }),
            validationExamples: Type.Optional(Type.Integer({ minimum: 0, description: 'held out of the training file; never trained on' })),
            trainEvalExamples: Type.Optional(
              Type.Integer({ minimum: 0, description: 'training examples the train metrics are measured on, when a subset' }),
            ),
            inputShape: Type.Array(Type.Integer({ minimum: 1 })),
            numClasses: Type.Integer({ minimum: 2 }),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      { description: 'null when the run failed before its data was loaded' },
    ),
    epochs: Type.Array(EpochMetricsSchema),
    evaluations: Type.Optional(
      Type.Array(EvaluationSchema, { description: 'every evaluation, in step order (epoch ends and every evalEverySteps)' }),
    ),
    stopReason: Type.Optional(
      Type.Union([Type.Literal('budget'), Type.Literal('target')], {
        description: 'why an ok run stopped: its budget ran out, or it met its target',
      }),
    ),
    target: Type.Optional(TargetOutcomeSchema),
    final: Type.Union([FinalMetricsSchema, Type.Null()], { description: 'the last evaluation (at the stop)' }),
    optimizerDiagnostics: Type.Record(Type.String(), Type.Number(), {
      description: "the optimizer's own run statistics, e.g. K-FAC klClippedStepFraction and meanKlScale",
    }),
    timing: Type.Object(
      {
        phases: PhaseTimesSchema,
        totalSeconds: Seconds,
        trainSeconds: Seconds,
        steps: Type.Integer({ minimum: 0 }),
        samplesPerSecond: Type.Number({ minimum: 0, description: 'training samples per second of training time (excl. evaluation)' }),
        peakRssBytes: Type.Optional(
          Type.Integer({
            minimum: 0,
            description: "peak resident memory of the process that wrote the result (rank 0's, data loading included), from getrusage",
          }),
        ),
      },
      { additionalProperties: false },
    ),
    environment: Type.Union([EnvironmentSchema, Type.Null()], { description: 'null when the run failed before a backend was chosen' }),
    startedAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

export type RunResult = Static<typeof RunResultSchema>;
export type EpochMetrics = Static<typeof EpochMetricsSchema>;
export type Evaluation = Static<typeof EvaluationSchema>;
export type TargetOutcome = Static<typeof TargetOutcomeSchema>;
export type FinalMetrics = Static<typeof FinalMetricsSchema>;
export type Environment = Static<typeof EnvironmentSchema>;
export type GpuAdapter = Static<typeof GpuAdapterSchema>;
export type RankBackend = Static<typeof RankBackendSchema>;
export type RunIdentity = Static<typeof RunIdentitySchema>;
export type Parallel = Static<typeof ParallelSchema>;
export type RunStatus = Static<typeof RunStatusSchema>;
