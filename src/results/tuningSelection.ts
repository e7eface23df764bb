/**
 * `OUT/tuning.json`: what a tuned suite's tuning phase selected, per optimizer and batch size, with
 * every candidate's per-seed numbers, so the choice can be read, audited and recomputed from the
 * tuning results alone (src/suite/selectTuned.ts is the pure function that makes it).
 */
import { Type, type Static } from '@sinclair/typebox';

const Value = Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]);
const Values = Type.Record(Type.String(), Value, { description: 'config path -> value' });

export const CandidateSchema = Type.Object(
  {
    values: Values,
    score: Type.Union([Type.Number(), Type.Null()], {
      description: 'mean of the selection metric over the tuning seeds (null when it cannot be scored)',
    }),
    reachedTarget: Type.Optional(Type.Boolean({ description: 'stepsToTarget: every seed met the target' })),
    seeds: Type.Array(
      Type.Object(
        {
          seed: Type.Integer({ minimum: 0 }),
          runId: Type.Union([Type.String(), Type.Null()], { description: 'null when the tuning run is missing' }),
          status: Type.Union([Type.Literal('ok'), Type.Literal('diverged'), Type.Literal('failed'), Type.Literal('missing')]),
          value: Type.Union([Type.Number(), Type.Null()], {
            description: 'the selection metric of this run (for a target not met: its best value seen)',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    excluded: Type.Union([Type.String(), Type.Null()], {
      description: 'why the value was not a candidate (divergence, a failed or missing run)',
    }),
  },
  { additionalProperties: false },
);

export const SelectionCellSchema = Type.Object(
  {
    optimizerLabel: Type.String(),
    batchSize: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: 'null: selected once and used at every batch size' }),
    selectedAt: Type.Integer({ minimum: 1, description: 'the batch size the tuning runs of this cell ran at' }),
    chosen: Type.Union([
      Type.Object({ values: Values, score: Type.Union([Type.Number(), Type.Null()]) }, { additionalProperties: false }),
      Type.Null(),
    ]),
    reason: Type.String({ description: 'one line: why this value, or why none' }),
    ties: Type.Array(Values, { description: 'other candidates with exactly the chosen score (the first in grid order wins)' }),
    edges: Type.Array(Type.String(), {
      description: 'grid paths whose chosen value is the lowest or highest tried: the optimum may lie outside the grid',
    }),
    candidates: Type.Array(CandidateSchema),
  },
  { additionalProperties: false },
);

export const TuningSelectionSchema = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    suite: Type.String(),
    split: Type.Literal('validation', { description: 'the split every selection was made on (never test)' }),
    select: Type.Object({ metric: Type.String(), stability: Type.String() }, { additionalProperties: false }),
    perBatchSize: Type.Boolean(),
    seeds: Type.Array(Type.Integer({ minimum: 0 })),
    grid: Type.Array(
      Type.Object(
        { path: Type.String(), values: Type.Array(Value), optimizers: Type.Optional(Type.Array(Type.String())) },
        { additionalProperties: false },
      ),
    ),
    complete: Type.Boolean({ description: 'every tuning run has a result (ok, diverged or failed)' }),
    cells: Type.Array(SelectionCellSchema),
  },
  { additionalProperties: false },
);

export type TuningSelection = Static<typeof TuningSelectionSchema>;
export type SelectionCell = Static<typeof SelectionCellSchema>;
export type Candidate = Static<typeof CandidateSchema>;
