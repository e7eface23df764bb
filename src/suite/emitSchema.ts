/**
 * The suite schema as a plain JSON Schema document (draft 2020-12) for editors, committed as
 * schemas/suite.schema.json (regenerate: `npx tsx src/suite/writeSchemaFile.ts`; a test fails when the
 * committed file differs). Fields that have a default are not required in a file, although they are
 * required in the loaded Suite type (ajv fills them in).
 */
import { SuiteSchema } from './suiteSchema.js';
import { isJsonObject } from '../util/jsonObject.js';

type Node = Record<string, unknown>;

function relaxDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relaxDefaults);
  if (!isJsonObject(value)) return value;
  const out: Node = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === 'default' || k === 'enum' || k === 'const' ? v : relaxDefaults(v);
  if (Array.isArray(out.required) && isJsonObject(out.properties)) {
    const properties = out.properties;
    const required = (out.required as string[]).filter((k) => !(isJsonObject(properties[k]) && 'default' in properties[k]));
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  return out;
}

/** The JSON schema object (TypeBox's symbol keys dropped). */
export function suiteJsonSchema(): Record<string, unknown> {
  return relaxDefaults(JSON.parse(JSON.stringify(SuiteSchema))) as Record<string, unknown>;
}

/** The exact text of schemas/suite.schema.json. */
export function suiteJsonSchemaText(): string {
  return `${JSON.stringify(suiteJsonSchema(), null, 2)}\n`;
}
