/**
 * `baselines/<suite>.json`: what `ngd-bench check` compares a results directory against. The TypeBox
 * schema is the single source of its types; the file is validated with it on every read and write.
 *
 * An entry is keyed by run id AND environment fingerprint: accuracy is compared across machines, time
 * only on the same fingerprint (a time measured on one machine says nothing of another).
 */
import { Type, type Static } from '@sinclair/typebox';
import { RunStatusSchema } from '../results/runResult.js';
import { TolerancesSchema } from '../suite/suiteSchema.js';

export const BASELINE_SCHEMA_VERSION = 1;

const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const NullableFraction = Type.Union([Fraction, Type.Null()], { description: 'null when the run did not finish (diverged or failed)' });

/** Where a time was measured: the backend that ran, the device that did the work, and the worker count. */
export const EnvironmentFingerprintSchema = Type.Object(
  {
    backend: Type.String({
      description: "backend that actually ran, e.g. 'cpu-blas', 'tensorflow-gpu' ('unknown' if the run failed before choosing one)",
    }),
    device: Type.String({
      description: "GPU name(s) for GPU backends (e.g. '2x NVIDIA A100-SXM4-40GB'), else the CPU model ('unknown' if not recorded)",
    }),
    workers: Type.Integer({ minimum: 1, description: 'data-parallel worker processes of the run' }),
  },
  { additionalProperties: false },
);

/** A probe's step-time figure (tinybench statistics), as `ngd-bench probe` measured it for this optimizer label and batch size. */
export const ProbeStepSchema = Type.Object(
  {
    medianMs: Type.Number({ minimum: 0 }),
    meanMs: Type.Number({ minimum: 0 }),
    rmePercent: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    samples: Type.Integer({ minimum: 1, description: 'timed steps' }),
    referenceMedianMs: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: "median of the probe's calibration workload, timed right before this step probe" }),
    ),
  },
  { additionalProperties: false },
);

const SweepValue = Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]);

export const BaselineEntrySchema = Type.Object(
  {
    runId: Type.String({ description: "the run's id in its suite: `<name>-<first 10 hex of configHash>`" }),
    name: Type.String({ description: 'run name, e.g. ngd-b1024-w2-s0-damping=0.01' }),
    groupKey: Type.String({
      description:
        'seed group: `<name without -s<seed>>-<first 10 hex of sha256(canonical JSON of { config with seed 0, workers })>`; runs that differ only in their seed share it',
    }),
    configHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    optimizerLabel: Type.String(),
    batchSize: Type.Integer({ minimum: 1 }),
    workers: Type.Integer({ minimum: 1 }),
    seed: Type.Integer({ minimum: 0 }),
    sweep: Type.Record(Type.String(), SweepValue),
    environment: EnvironmentFingerprintSchema,
    status: RunStatusSchema,
    testAccuracy: NullableFraction,
    trainAccuracy: NullableFraction,
    generalizationGap: Type.Union([Type.Number(), Type.Null()], {
      description: 'trainAccuracy - testAccuracy; null when the run did not finish',
    }),
    epochSeconds: Type.Array(Type.Number({ minimum: 0 }), { description: 'seconds of each epoch: the timing samples' }),
    medianEpochSeconds: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'null without epochs' }),
    samplesPerSecond: Type.Number({ minimum: 0 }),
    probeStep: Type.Optional(ProbeStepSchema),
    finishedAt: Type.String({ format: 'date-time', description: "the result's finishedAt" }),
    resultToolVersion: Type.String({ description: 'ngd-bench version that produced the result' }),
  },
  { additionalProperties: false },
);

export const BaselineSchema = Type.Object(
  {
    schemaVersion: Type.Literal(BASELINE_SCHEMA_VERSION),
    kind: Type.Literal('ngd-bench-baseline'),
    suite: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    toolVersion: Type.String({ description: 'ngd-bench version that last wrote the file' }),
    tolerances: TolerancesSchema,
    entries: Type.Array(BaselineEntrySchema),
  },
  { additionalProperties: false },
);

export type Baseline = Static<typeof BaselineSchema>;
export type BaselineEntry = Static<typeof BaselineEntrySchema>;
export type EnvironmentFingerprint = Static<typeof EnvironmentFingerprintSchema>;
export type ProbeStep = Static<typeof ProbeStepSchema>;
