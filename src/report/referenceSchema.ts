/**
 * A published reference to set our runs against: per-seed test-accuracy curves another benchmark
 * published for the same problem and settings (e.g. DeepOBS's baselines, Schneider et al. 2019), each
 * tied to one optimizer label of our results. The raw per-seed values are kept, so every summary comes
 * from the one statistics module, never from numbers copied out of a paper.
 */
import { Type, type Static } from '@sinclair/typebox';
import { LABEL_PATTERN } from '../suite/suiteSchema.js';

const ReferenceSeedSchema = Type.Object(
  {
    seed: Type.Integer({ description: "The publisher's random seed." }),
    file: Type.String({ minLength: 1, description: 'The published file this curve was read from, inside source.url at source.commit.' }),
    testAccuracy: Type.Array(Type.Number({ minimum: 0, maximum: 1 }), {
      minItems: 2,
      description: 'Test accuracy after each epoch, as a fraction; index 0 is before training, index e after epoch e.',
    }),
  },
  { additionalProperties: false },
);

const ReferenceCurveSchema = Type.Object(
  {
    label: Type.String({
      pattern: LABEL_PATTERN,
      maxLength: 64,
      description: 'The optimizer label of our results this curve is compared with.',
    }),
    batchSize: Type.Integer({
      minimum: 1,
      description: 'The batch size the reference ran at; only our runs at this batch size are compared.',
    }),
    setting: Type.String({ minLength: 1, description: "The publisher's optimizer and hyper-parameters, in words." }),
    seeds: Type.Array(ReferenceSeedSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const PublishedReferenceSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'What the reference is, e.g. "DeepOBS baselines, fmnist_2c2d".' }),
    source: Type.Object(
      {
        citation: Type.String({ minLength: 1 }),
        url: Type.String({ minLength: 1 }),
        commit: Type.String({ pattern: '^[0-9a-f]{7,40}$' }),
        extractedWith: Type.String({ minLength: 1, description: 'The command that wrote this file from the source.' }),
      },
      { additionalProperties: false },
    ),
    protocolDifferences: Type.Array(Type.String({ minLength: 1 }), {
      description: "Where the publisher's protocol differs from our runs' (test subset, selection, data order, ...).",
    }),
    curves: Type.Array(ReferenceCurveSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type PublishedReference = Static<typeof PublishedReferenceSchema>;
export type ReferenceCurve = Static<typeof ReferenceCurveSchema>;
