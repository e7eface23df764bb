/** The probe report file (`ngd-bench probe`): its TypeBox schema is the source of its types. */
import { Type, type Static } from '@sinclair/typebox';
import { EnvironmentSchema } from './runResult.js';

/** One timed quantity: tinybench's statistics of its samples (src/probes/figure.ts measures it). */
export const FigureSchema = Type.Object(
  {
    meanMs: Type.Number({ minimum: 0 }),
    medianMs: Type.Number({ minimum: 0 }),
    p99Ms: Type.Number({ minimum: 0 }),
    rmePercent: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
      description: 'relative margin of error of the mean (95%); null with one sample',
    }),
    samples: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type Figure = Static<typeof FigureSchema>;

/**
 * The step phases a probe times, in step order, with their table headings: one list for the probe, its
 * schema and every table that shows it.
 */
export const STEP_PHASE_COLUMNS = [
  ['samAscent', 'SAM ascent'],
  ['forwardBackward', 'fwd+bwd'],
  ['curvature', 'curvature'],
  ['inversion', 'inversion'],
  ['preconditioning', 'precond.'],
  ['update', 'update'],
] as const;
export type StepPhase = (typeof STEP_PHASE_COLUMNS)[number][0];
export const STEP_PHASES: readonly StepPhase[] = STEP_PHASE_COLUMNS.map(([phase]) => phase);

/** The phase columns a table of these probes shows: SAM's ascent only where some probe has one. */
export function shownPhaseColumns(probes: readonly { phases: Partial<Record<StepPhase, { meanMs: number }>> }[]) {
  return STEP_PHASE_COLUMNS.filter(([phase]) => phase !== 'samAscent' || probes.some((p) => (p.phases.samAscent?.meanMs ?? 0) > 0));
}

export const StepPhaseProbeSchema = Type.Object(
  {
    optimizerLabel: Type.String(),
    optimizer: Type.String(),
    model: Type.String(),
    batchSize: Type.Integer({ minimum: 1 }),
    step: FigureSchema,
    reference: Type.Optional(
      Type.Composite([FigureSchema, Type.Object({ workload: Type.String() })], {
        additionalProperties: false,
        description:
          'a fixed calibration workload timed right before this probe, in the same process: step / reference is comparable across runs of a loaded or noisy machine',
      }),
    ),
    samplesPerSecond: Type.Number({ minimum: 0, description: 'batch size / mean step time' }),
    phases: Type.Object(
      {
        // Only sam-sgd and sam-ngd have it; reports written before it existed lack it.
        samAscent: Type.Optional(FigureSchema),
        forwardBackward: FigureSchema,
        curvature: FigureSchema,
        inversion: FigureSchema,
        preconditioning: FigureSchema,
        update: FigureSchema,
      },
      {
        additionalProperties: false,
        description: 'per-step time of each phase; phases run every k steps have median 0 and an amortized mean',
      },
    ),
  },
  { additionalProperties: false },
);

export const AllreduceProbeSchema = Type.Object(
  {
    bytes: Type.Integer({ minimum: 0 }),
    latency: FigureSchema,
    algorithmBandwidth: Type.Number({ minimum: 0, description: 'bytes / median time, bytes per second' }),
    busBandwidth: Type.Number({
      minimum: 0,
      description: '2 (N-1)/N x algorithm bandwidth: what each link carried, comparable to raw TCP',
    }),
  },
  { additionalProperties: false },
);

export const ProbeReportSchema = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    kind: Type.Literal('ngd-bench-probes'),
    suite: Type.String(),
    toolVersion: Type.String(),
    environment: EnvironmentSchema,
    createdAt: Type.String({ format: 'date-time' }),
    stepPhases: Type.Array(StepPhaseProbeSchema),
    matmul: Type.Optional(
      Type.Object(
        {
          size: Type.Integer({ minimum: 1 }),
          flops: Type.Number({ minimum: 0, description: '2 N^3 per multiply' }),
          gflops: Type.Number({ minimum: 0, description: 'at the median time' }),
          time: FigureSchema,
        },
        { additionalProperties: false, description: "an N x N float32 matMul on the run's backend, host read included" },
      ),
    ),
    allreduce: Type.Union([
      Type.Object(
        {
          workers: Type.Integer({ minimum: 2 }),
          algorithm: Type.String(),
          sizes: Type.Array(AllreduceProbeSchema),
          loopbackTcp: Type.Object(
            {
              bytes: Type.Integer({ minimum: 1 }),
              bytesPerSecond: Type.Number({ minimum: 0, description: 'median one-way throughput of one loopback TCP stream' }),
              transfer: FigureSchema,
            },
            { additionalProperties: false, description: 'raw loopback TCP, measured in the same run: the reference for the allreduce' },
          ),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);

export type ProbeReport = Static<typeof ProbeReportSchema>;
export type StepPhaseProbe = Static<typeof StepPhaseProbeSchema>;
export type AllreduceProbe = Static<typeof AllreduceProbeSchema>;
