/**
 * ajv's errors turned into problems people can act on: one per mistake, at its JSON path, with the
 * nearest valid name for anything unknown (property names, optimizer / model / dataset / backend names,
 * sweep paths). Same `<path>: <message>` form as src/config/validate.ts.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import addFormatsPlugin from 'ajv-formats';
import { nearest } from '../util/nearest.js';
import { AXIS_PATHS, CONFIG_LEAF_PATHS } from './configPaths.js';
import type { SuiteProblem } from './suiteError.js';
import { isJsonObject } from '../util/jsonObject.js';

const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => Ajv2020;
const withDefaults = addFormats(new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, strict: false }));
const plain = addFormats(new Ajv2020({ allErrors: true, verbose: true, strict: false }));
const compiled = new WeakMap<TSchema, ValidateFunction>();
const compiledPlain = new WeakMap<TSchema, ValidateFunction>();

/** Validates (filling defaults in place when `fillDefaults`) and returns the problems, none if valid. */
export function schemaProblems(schema: TSchema, value: unknown, fillDefaults: boolean, basePath = ''): SuiteProblem[] {
  const cache = fillDefaults ? compiled : compiledPlain;
  let check = cache.get(schema);
  if (!check) {
    check = (fillDefaults ? withDefaults : plain).compile(schema);
    cache.set(schema, check);
  }
  if (check(value)) return [];
  return summarize(check.errors ?? []).map((p) => ({ path: basePath + (p.path === '/' && basePath ? '' : p.path), message: p.message }));
}

type Json = Record<string, unknown>;
const show = (v: unknown) => JSON.stringify(v);
const pathOf = (e: ErrorObject) => (e.instancePath === '' ? '/' : e.instancePath);

/** What a name at this path is called in messages ('unknown optimizer ...'). */
function kindAt(path: string): string {
  if (/^\/optimizers\/\d+\/name$/.test(path)) return 'optimizer';
  if (/^\/(sweep|tune\/grid)\/\d+\/path$/.test(path)) return 'sweep path';
  if (path === '/model/name') return 'model';
  if (path === '/dataset/name') return 'dataset';
  if (path === '/backend') return 'backend';
  return 'value';
}

/** `unknown optimizer 'x' (did you mean 'y'?); known: a, b` (the list is left out when a guess exists and it is long). */
export function unknownName(kind: string, value: string, known: readonly string[]): string {
  const guess = nearest(value, known) ?? (kind === 'sweep path' ? known.find((k) => k.endsWith(`.${value}`)) : undefined);
  const hint = guess ? ` (did you mean '${guess}'?)` : '';
  const list = guess && known.length > 12 ? '' : `; known: ${known.join(', ')}`;
  return `unknown ${kind} '${value}'${hint}${list}`;
}

function unknownValue(path: string, value: unknown, allowed: unknown[]): string {
  if (typeof value !== 'string') return `must be one of ${allowed.map(show).join(', ')}`;
  const kind = kindAt(path);
  if (kind === 'sweep path' && value in AXIS_PATHS) return `'${value}' cannot be swept: ${AXIS_PATHS[value]}`;
  if (kind === 'sweep path' && CONFIG_LEAF_PATHS.includes(value)) {
    return `'${value}' cannot be swept: sweeps take single values (numbers, strings, booleans, null), not lists`;
  }
  if (kind === 'value') {
    const guess = nearest(value, allowed.map(String));
    return `must be one of ${allowed.map(show).join(', ')}${guess ? ` (did you mean '${guess}'?)` : ''}`;
  }
  return unknownName(kind, value, allowed.map(String));
}

function describe(e: ErrorObject): string {
  const parent = (e.parentSchema ?? {}) as Json;
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String(e.params.additionalProperty);
      const allowed = Object.keys((parent.properties ?? {}) as Json);
      const guess = nearest(name, allowed);
      return `unknown property '${name}' ${guess ? `(did you mean '${guess}'?)` : `(allowed: ${allowed.join(', ')})`}`;
    }
    case 'enum':
      return unknownValue(pathOf(e), e.data, e.params.allowedValues as unknown[]);
    case 'const':
      return unknownValue(pathOf(e), e.data, [e.params.allowedValue]);
    case 'uniqueItems': {
      const [a, b] = [e.params.i as number, e.params.j as number].sort((x, y) => x - y);
      return `duplicate value ${show((e.data as unknown[])[a])} (items ${a} and ${b})`;
    }
    case 'pattern':
      return typeof parent.patternErrorMessage === 'string' ? parent.patternErrorMessage : (e.message ?? 'does not match its pattern');
    default:
      return e.message ?? e.keyword;
  }
}

/**
 * A union of object shapes (e.g. a budget: {epochs} | {steps} | {target, max}) is told apart by its keys:
 * an object whose keys fit exactly one branch gets that branch's own problems (so a bad `max` inside a
 * target budget is reported at /budget/max/steps, not as "must match a schema in anyOf"), and one that
 * fits none, or is empty, is told which keys the shapes have.
 */
function objectUnionProblems(e: ErrorObject): SuiteProblem[] | null {
  const branches = e.schema as unknown;
  if (
    !isJsonObject(e.data) ||
    !Array.isArray(branches) ||
    !branches.every((b) => isJsonObject(b) && b.type === 'object' && isJsonObject(b.properties))
  )
    return null;
  const data = e.data;
  const keys = Object.keys(data);
  const fits = (branches as Json[]).filter((b) => keys.length > 0 && keys.every((k) => k in (b.properties as Json)));
  if (fits.length === 1) {
    const inner = schemaProblems(fits[0] as unknown as TSchema, data, false, pathOf(e) === '/' ? '' : pathOf(e));
    return inner.length > 0 ? inner : null;
  }
  const shapes = (branches as Json[]).map((b) =>
    ((b.required as string[] | undefined) ?? Object.keys(b.properties as Json)).map((k) => `"${k}"`).join(' and '),
  );
  return [
    {
      path: pathOf(e),
      message: `must have ${shapes.join(', or ')}${keys.length > 0 ? ` (got ${keys.map((k) => `"${k}"`).join(', ')})` : ''}`,
    },
  ];
}

/**
 * ajv reports a failed union (anyOf) as one error per branch plus the anyOf itself: merge them into one
 * problem ('must be > 0 or null'; for unions of literals, the unknown-name message with a suggestion).
 */
export function summarize(errors: ErrorObject[]): SuiteProblem[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf');
  const inBranch = (e: ErrorObject) => unions.some((u) => u !== e && e.schemaPath.startsWith(`${u.schemaPath}/`));
  const problems: SuiteProblem[] = [];
  for (const e of errors) {
    if (inBranch(e)) continue;
    if (e.keyword !== 'anyOf') {
      problems.push({ path: pathOf(e), message: describe(e) });
      continue;
    }
    const objectBranch = objectUnionProblems(e);
    if (objectBranch) {
      problems.push(...objectBranch);
      continue;
    }
    const within = (b: ErrorObject, u: ErrorObject) => b.schemaPath.startsWith(`${u.schemaPath}/`);
    // The errors of this union's own branches (not those of a union nested inside it).
    const branches = errors.filter((b) => within(b, e) && !unions.some((u) => u !== b && within(u, e) && within(b, u)));
    if (branches.length > 0 && branches.every((b) => b.keyword === 'const')) {
      problems.push({
        path: pathOf(e),
        message: unknownValue(
          pathOf(e),
          e.data,
          branches.map((b) => b.params.allowedValue),
        ),
      });
      continue;
    }
    const messages = [...new Set(branches.map((b) => describe(b)))];
    const joined = messages.every((m) => m.startsWith('must be '))
      ? `must be ${messages.map((m) => m.slice(8)).join(' or ')}`
      : messages.join(' or ');
    problems.push({ path: pathOf(e), message: messages.length > 0 ? joined : (e.message ?? 'does not match') });
  }
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
