/**
 * Property-based fuzzing of the suite reader (fast-check): random text, and random mutations of the
 * committed suites (fields deleted, values replaced by other types, deep nesting, duplicate keys,
 * YAML aliases and tags), must each end as a valid suite or as a SuiteError (bad input: exit 2 with the
 * JSON path), never another exception, and quickly.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseSuiteText, type SuiteFormat } from '../../src/suite/loadSuite.js';
import { SuiteError } from '../../src/suite/suiteError.js';

const suitesDir = fileURLToPath(new URL('../../suites/', import.meta.url));
const committed = readdirSync(suitesDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(suitesDir, f), 'utf8')) as unknown);

/**
 * Each input must be read (or refused as bad input) within this many milliseconds: a bound that catches
 * a hang or an exponential blow-up, loose enough for a loaded CI machine (typical: a few ms).
 */
const PER_INPUT_MS = 5_000;

// The first read compiles the suite schema (ajv): not a property of any input, so it is done up front.
parseSuiteText(JSON.stringify(committed[0]), 'warm-up', 'json');

function readOrRefuse(text: string, format: SuiteFormat): 'ok' | 'refused' {
  const t0 = performance.now();
  try {
    parseSuiteText(text, 'fuzz', format);
    return 'ok';
  } catch (error) {
    if (!(error instanceof SuiteError)) throw new Error(`not a SuiteError on ${JSON.stringify(text.slice(0, 200))}: ${String(error)}`);
    assert.ok(error.errors.length > 0);
    for (const e of error.errors) assert.equal(typeof e.message, 'string');
    return 'refused';
  } finally {
    const ms = performance.now() - t0;
    assert.ok(ms < PER_INPUT_MS, `took ${ms.toFixed(0)} ms on ${JSON.stringify(text.slice(0, 200))}`);
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value of a JSON document. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => paths(v, [...prefix, i]))];
  if (value && typeof value === 'object') return [...here, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
  return here;
}

function mutate(doc: Json, path: (string | number)[], replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const copy = structuredClone(doc) as Record<string | number, Json>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (replacement === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
}

const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue() as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(-1, 0, 1e308, -1e308, 0.5, '', 'x'.repeat(10_000), [], {}, null, true),
  fc.integer({ min: 1, max: 200 }).map((depth) => {
    let v: Json = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  }),
);

describe('fuzzing the suite reader', () => {
  it('random text as JSON and as YAML: a suite or a SuiteError, never another exception or a hang', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.constantFrom<SuiteFormat>('json', 'yaml'), (text, format) => {
        readOrRefuse(text, format);
      }),
      { numRuns: 400, seed: 1 },
    );
  });

  it('mutated committed suites (deleted, retyped and deeply nested values): every one read or refused', () => {
    const counts = { ok: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.constantFrom(...committed),
        fc.nat(),
        fc.option(hostileValue, { nil: undefined }),
        fc.constantFrom<SuiteFormat>('json', 'yaml'),
        (suite, pick, replacement, format) => {
          const all = paths(suite as Json).filter((p) => p.length > 0);
          const doc = mutate(suite as Json, all[pick % all.length], replacement);
          counts[readOrRefuse(JSON.stringify(doc), format)]++;
        },
      ),
      { numRuns: 300, seed: 2 },
    );
    assert.ok(counts.refused > 50, `mutations should mostly be refused: ${JSON.stringify(counts)}`);
  });

  it('YAML built against the parser: alias bombs, deep nesting, tags, duplicate keys', () => {
    let bomb = 'a: &a [x, x, x, x, x, x, x, x, x]\n';
    for (const [n, p] of ['ba', 'cb', 'dc', 'ed', 'fe', 'gf', 'hg', 'ih'])
      bomb += `${n}: &${n} [*${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}]\n`;
    const cases = [
      bomb,
      `name: x\na: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
      'name: !!binary aGVsbG8=\noptimizers: [{name: sgd}]\nbatchSizes: [64]\n',
      'name: !!js/function "function () { process.exit(9) }"\noptimizers: [{name: sgd}]\nbatchSizes: [64]\n',
      'name: x\nname: y\noptimizers: [{name: sgd}]\nbatchSizes: [64]\n',
      'name: x\noptimizers: [{name: sgd, lr: .inf}]\nbatchSizes: [64]\n',
    ];
    for (const text of cases) assert.equal(readOrRefuse(text, 'yaml'), 'refused', text.slice(0, 80));
    assert.equal(readOrRefuse(`{"name":"x","name":"y"}`, 'json'), 'refused');
    assert.equal(readOrRefuse(`{"name":"x","a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 'json'), 'refused');
  });
});
