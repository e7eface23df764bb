/**
 * Small transforms on TypeBox schemas, so that the suite schema can reuse the TrainConfig sub-schemas
 * (the single source of truth) while adapting them: overrides must not carry defaults (a default in an
 * override would silently win over the suite's `defaults`), and editors need a description on every field.
 * The transforms deep-copy, keeping TypeBox's symbol keys, so the static types are unchanged.
 */
import type { TSchema } from '@sinclair/typebox';

type Node = Record<PropertyKey, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep copy keeping symbol keys; `visit` may edit each schema node (not the `properties` maps). */
function copy(value: unknown, visit: (node: Node) => void, isPropertiesMap = false): unknown {
  if (Array.isArray(value)) return value.map((v) => copy(v, visit));
  if (!isNode(value)) return value;
  const out: Node = {};
  for (const key of Reflect.ownKeys(value)) {
    out[key] = copy(value[key], visit, !isPropertiesMap && key === 'properties');
  }
  if (!isPropertiesMap) visit(out);
  return out;
}

/** Appends ` Default: X.` to a description (editors then still show the default of the setting overridden). */
function describeDefault(node: Node): void {
  if (!('default' in node)) return;
  const note = `Default: ${JSON.stringify(node.default)}.`;
  node.description = typeof node.description === 'string' ? `${node.description} ${note}` : note;
  delete node.default;
}

/** The schema without any `default` keyword, at any depth (the defaults move into the descriptions). */
export function withoutDefaults<T extends TSchema>(schema: T): T {
  return copy(schema, describeDefault) as T;
}

/** A copy with extra annotations on the root (description, default, ...). */
export function annotate<T extends TSchema>(schema: T, options: Record<string, unknown>): T {
  const out = copy(schema, () => {}) as Node;
  Object.assign(out, options);
  return out as T;
}

/** A copy of an object schema whose properties without a description get the given one. */
export function describeProperties<T extends TSchema>(schema: T, descriptions: Record<string, string>): T {
  const out = copy(schema, () => {}) as Node;
  const properties = out.properties as Record<string, Node>;
  for (const [key, description] of Object.entries(descriptions)) {
    const property = properties[key];
    if (!property) throw new Error(`internal error: no property '${key}' to describe`);
    if (typeof property.description !== 'string') property.description = description;
  }
  return out as T;
}
