/**
 * ajv validation shared by every JSON document the tool reads or writes (configs, suites, results).
 * Errors come back as one line each, with the JSON path where they occurred.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import addFormatsPlugin from 'ajv-formats';
import { BadInputError } from '../util/errors.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM interop.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv;

const ajvWithDefaults = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const ajvStrict = new Ajv({ allErrors: true, strict: false });
addFormats(ajvWithDefaults);
addFormats(ajvStrict);
const compiled = new WeakMap<TSchema, { defaults: ValidateFunction; plain: ValidateFunction }>();

export class ValidationError extends BadInputError {
  constructor(
    readonly what: string,
    readonly problems: string[],
  ) {
    super(`${what}: ${problems.join('; ')}`);
    this.name = 'ValidationError';
  }
}

function describe(error: ErrorObject): string {
  const path = error.instancePath === '' ? '/' : error.instancePath;
  if (error.keyword === 'additionalProperties') {
    return `${path}: unknown property '${String(error.params.additionalProperty)}'`;
  }
  if (error.keyword === 'enum' || error.keyword === 'const') {
    const allowed = (error.params.allowedValues ?? [error.params.allowedValue]) as unknown[];
    return `${path}: must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${path}: ${error.message ?? error.keyword}`;
}

/** ajv reports one error per union branch; keep the most useful ones and collapse literal unions. */
function summarize(errors: ErrorObject[]): string[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const lines: string[] = [];
  for (const [path, errs] of byPath) {
    const consts = errs.filter((e) => e.keyword === 'const');
    if (consts.length > 1) {
      const allowed = consts.map((e) => JSON.stringify(e.params.allowedValue));
      lines.push(`${path === '' ? '/' : path}: must be one of ${allowed.join(', ')}`);
      continue;
    }
    for (const e of errs) if (e.keyword !== 'anyOf') lines.push(describe(e));
  }
  return [...new Set(lines)];
}

function validators(schema: TSchema) {
  let v = compiled.get(schema);
  if (!v) {
    v = { defaults: ajvWithDefaults.compile(schema), plain: ajvStrict.compile(schema) };
    compiled.set(schema, v);
  }
  return v;
}

/** Validates `value` against `schema`, filling defaults in place (on a deep copy). Throws ValidationError. */
export function validateWithDefaults<S extends TSchema>(schema: S, value: unknown, what: string): Static<S> {
  const copy: unknown = structuredClone(value);
  const check = validators(schema).defaults;
  if (!check(copy)) throw new ValidationError(what, summarize(check.errors ?? []));
  return copy as Static<S>;
}

/** Validates without modifying: for documents that must already be complete (result files). */
export function assertValid<S extends TSchema>(schema: S, value: unknown, what: string): asserts value is Static<S> {
  const check = validators(schema).plain;
  if (!check(value)) throw new ValidationError(what, summarize(check.errors ?? []));
}
