/**
 * `OUT/manifest.json`: what a results directory was meant to hold (the planned run ids of a suite, or
 * of one shard of it). Written atomically by `run` (at the start and after every run) and by `merge`;
 * read through resultsDirectory.ts.
 */
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { assertValid } from '../config/validate.js';
import { MANIFEST_FILE } from './resultsLayout.js';
import { writeJsonAtomic } from './writeJsonAtomic.js';

export { MANIFEST_FILE };

export const ShardSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: 'as given to --shard i/n' }),
    count: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

export const ManifestSchema = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    suite: Type.String({ description: "the suite's name" }),
    shard: Type.Union([ShardSchema, Type.Null()], { description: 'null for a whole suite or a merged directory' }),
    runIds: Type.Array(Type.String(), { description: 'the run ids planned for this directory, in launch order' }),
    toolVersion: Type.String(),
    updatedAt: Type.String({ format: 'date-time' }),
    mergedFrom: Type.Optional(Type.Array(Type.String(), { description: 'merge only: the input directories' })),
  },
  { additionalProperties: false },
);

export type Manifest = Static<typeof ManifestSchema>;
export type Shard = Static<typeof ShardSchema>;

export function manifestPath(dir: string): string {
  return join(dir, MANIFEST_FILE);
}

export function writeManifest(dir: string, manifest: Manifest): void {
  assertValid(ManifestSchema, manifest, 'internal error: manifest does not match its schema');
  writeJsonAtomic(manifestPath(dir), manifest);
}
