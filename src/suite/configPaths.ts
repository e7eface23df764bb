/**
 * Dotted paths into TrainConfig (`optimizer.kfac.damping`), derived from TrainConfigSchema so that a
 * new config field is sweepable without touching the suite code.
 */
import type { TSchema } from '@sinclair/typebox';
import { OPTIMIZER_SECTIONS, type OptimizerSection, TrainConfigSchema } from '../config/trainConfig.js';
import { isJsonObject } from '../util/jsonObject.js';

type Node = Record<string, unknown>;

/** Paths that are axes of the suite and may not be swept, with where their values go instead. */
export const AXIS_PATHS: Readonly<Record<string, string>> = {
  batchSize: 'list the batch sizes in "batchSizes"',
  seed: 'list the seeds in "seeds"',
  'optimizer.name': 'list the optimizers in "optimizers"',
  workers: 'list the worker counts in "workers"',
};

function leaves(schema: Node, prefix: string, out: Map<string, TSchema>): void {
  for (const [key, sub] of Object.entries((schema.properties ?? {}) as Record<string, Node>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (sub.type === 'object' && isJsonObject(sub.properties)) leaves(sub, path, out);
    else out.set(path, sub as TSchema);
  }
}

const LEAVES = new Map<string, TSchema>();
leaves(TrainConfigSchema as unknown as Node, '', LEAVES);

/** A schema accepts a scalar (sweep values are scalars: numbers, strings, booleans, null). */
function isScalar(schema: Node): boolean {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Node[]).every(isScalar);
  return schema.type !== 'array' && schema.type !== 'object';
}

/** Every leaf path of TrainConfig (including lists such as model.hiddenWidths). */
export const CONFIG_LEAF_PATHS: readonly string[] = [...LEAVES.keys()];

/** Every path a suite may sweep, in schema order. */
export const SWEEPABLE_PATHS: readonly string[] = [...LEAVES]
  .filter(([path, schema]) => !(path in AXIS_PATHS) && isScalar(schema as unknown as Node))
  .map(([path]) => path);

/** The schema of the config value at a sweepable path. */
export function schemaAtPath(path: string): TSchema {
  const schema = LEAVES.get(path);
  if (!schema || !SWEEPABLE_PATHS.includes(path)) throw new Error(`internal error: '${path}' is not a sweepable path`);
  return schema;
}

/** The values a config leaf accepts when it is a string enum (a union of literals), else null. */
export function choicesAtPath(path: string): readonly string[] | null {
  const schema = LEAVES.get(path) as Node | undefined;
  if (!schema) throw new Error(`internal error: '${path}' is not a config path`);
  const options = Array.isArray(schema.anyOf) ? (schema.anyOf as Node[]) : [schema];
  const values = options.map((o) => o.const);
  return values.every((v) => typeof v === 'string') ? (values as string[]) : null;
}

/** Sets `value` at a dotted path of a plain object, creating intermediate objects. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isJsonObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/** The optimizer section a path belongs to, if it only applies to some optimizers. */
export function optimizerSection(path: string): OptimizerSection | undefined {
  return OPTIMIZER_SECTIONS.find((section) => path.startsWith(`optimizer.${section}.`));
}
