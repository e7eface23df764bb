/** Declarative suites: schema, loading with located errors, matrix expansion, stable run ids, filters and shards, `validate`. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { formatMatrix, validateCommand } from '../../src/cli/validateCommand.js';
import { SWEEPABLE_PATHS } from '../../src/suite/configPaths.js';
import { suiteJsonSchema, suiteJsonSchemaText } from '../../src/suite/emitSchema.js';
import { expandSuite, runConfig } from '../../src/suite/expandSuite.js';
import { loadSuite, suiteFromValue } from '../../src/suite/loadSuite.js';
import { locateJsonError } from '../../src/util/parseText.js';
import type { PlannedRun } from '../../src/suite/plannedRun.js';
import { probeSettings } from '../../src/suite/probes.js';
import { canonicalJson, configHash, runName } from '../../src/suite/runId.js';
import { estimateRunCost, parseShard, selectShard } from '../../src/suite/shard.js';
import { SuiteError } from '../../src/suite/suiteError.js';
import { tfjsOrTrainingReachable } from '../helpers/importGraph.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const suitesDir = join(root, 'suites');
const fixtures = join(root, 'test/fixtures/suites');
const tmp = mkdtempSync(join(tmpdir(), 'ngd-bench-suite-'));

const smoke = () => loadSuite(join(suitesDir, 'smoke.json'));
const example = () => loadSuite(join(suitesDir, 'example.yaml'));

function writeTmp(name: string, content: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

/** The SuiteError a function throws. */
function suiteError(fn: () => unknown): SuiteError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SuiteError) return error;
    throw error;
  }
  assert.fail('expected a SuiteError');
}

/** Asserts that the error has exactly one line per expected [path, message pattern], in any order. */
function assertProblems(error: SuiteError, expected: [string, RegExp][]) {
  const lines = error.errors.map((e) => `${e.path}: ${e.message}`);
  for (const [path, pattern] of expected) {
    assert.ok(
      error.errors.some((e) => e.path === path && pattern.test(e.message)),
      `expected a problem at ${path} matching ${pattern}, got:\n${lines.join('\n')}`,
    );
  }
  assert.equal(error.errors.length, expected.length, `exactly ${expected.length} problems, got:\n${lines.join('\n')}`);
}

function deepReverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deepReverseKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, deepReverseKeys(v)]),
  );
}

describe('suite expansion', () => {
  it('smoke: optimizers x batch sizes, in file order', () => {
    const runs = expandSuite(smoke());
    assert.deepEqual(
      runs.map((r) => r.name),
      ['sgd', 'ngd', 'smoothed-ngd', 'smoothed-sgd'].flatMap((o) => [`${o}-b256-w1-s0`, `${o}-b1024-w2-s0`]),
    );
    for (const r of runs) {
      assert.equal(r.suite, 'smoke');
      assert.equal(r.id, `${r.name}-${r.configHash.slice(0, 10)}`);
      assert.match(r.configHash, /^[0-9a-f]{64}$/);
      assert.equal(r.timeoutSeconds, 15 * 60);
      assert.equal(r.retries, 1);
      assert.equal(r.config.model.name, 'mlp');
      assert.deepEqual(r.config.model.hiddenWidths, [64]);
      assert.equal(r.config.dataset.trainSize, 4096);
      assert.equal(r.config.epochs, 2);
    }
  });

  it('merges defaults, entry settings and optimizer sections', () => {
    const byLabel = new Map(expandSuite(smoke()).map((r) => [r.optimizerLabel, r.config.optimizer]));
    assert.equal(byLabel.get('sgd')?.lr, 0.05);
    assert.equal(byLabel.get('ngd')?.lr, 0.02);
    assert.equal(byLabel.get('sgd')?.kfac, undefined, 'defaults.kfac only reaches K-FAC optimizers');
    assert.equal(byLabel.get('sgd')?.smoothing, undefined);
    assert.equal(byLabel.get('ngd')?.kfac?.inverseUpdateInterval, 5);
    assert.equal(byLabel.get('ngd')?.kfac?.emaDecay, 0.95, 'TrainConfig defaults fill the rest');
    assert.equal(byLabel.get('ngd')?.smoothing, undefined);
    assert.equal(byLabel.get('smoothed-ngd')?.smoothing?.amplitude, 0.01);
    assert.equal(byLabel.get('smoothed-sgd')?.kfac, undefined);
  });

  it('example: sweeps apply only to their optimizers; seeds are innermost', () => {
    const runs = expandSuite(example());
    const count = (label: string) => runs.filter((r) => r.optimizerLabel === label).length;
    assert.equal(count('sgd'), 3 * 3);
    assert.equal(count('ngd'), 3 * 2 * 3);
    assert.equal(count('smoothed-ngd'), 3 * 2 * 3 * 3);
    assert.equal(runs.length, 81);
    for (const r of runs.filter((r) => r.optimizerLabel === 'sgd')) assert.deepEqual(r.sweep, {});
    for (const r of runs.filter((r) => r.optimizerLabel === 'ngd')) assert.deepEqual(Object.keys(r.sweep), ['optimizer.kfac.damping']);
    for (const r of runs.filter((r) => r.optimizerLabel === 'smoothed-ngd')) {
      assert.deepEqual(Object.keys(r.sweep), ['optimizer.kfac.damping', 'optimizer.smoothing.amplitude']);
      assert.equal(r.config.optimizer.kfac?.damping, r.sweep['optimizer.kfac.damping']);
      assert.equal(r.config.optimizer.smoothing?.amplitude, r.sweep['optimizer.smoothing.amplitude']);
    }
    assert.deepEqual(
      runs
        .filter((r) => r.optimizerLabel === 'smoothed-ngd')
        .slice(0, 7)
        .map((r) => r.name),
      [
        'smoothed-ngd-b128-w1-s0-damping=0.001-amplitude=0.001',
        'smoothed-ngd-b128-w1-s1-damping=0.001-amplitude=0.001',
        'smoothed-ngd-b128-w1-s2-damping=0.001-amplitude=0.001',
        'smoothed-ngd-b128-w1-s0-damping=0.001-amplitude=0.01',
        'smoothed-ngd-b128-w1-s1-damping=0.001-amplitude=0.01',
        'smoothed-ngd-b128-w1-s2-damping=0.001-amplitude=0.01',
        'smoothed-ngd-b128-w1-s0-damping=0.001-amplitude=0.05',
      ],
    );
    assert.equal(new Set(runs.map((r) => r.id)).size, runs.length);
  });

  it("K-FAC's low-rank gradient on several workers: one problem per such run, at the entry's kfac path", () => {
    const suite = {
      name: 'lr',
      dataset: { name: 'synthetic' },
      optimizers: [{ name: 'sgd' }, { name: 'ngd', kfac: { lowRankGradient: true } }],
      batchSizes: [256],
      workers: [1, 2],
      seeds: [0],
    };
    const error = suiteError(() => suiteFromValue(suite, 'inline'));
    assertProblems(error, [['/optimizers/1/kfac/lowRankGradient', /2 workers each hold a share/]]);
  });

  it('workers multiply the matrix and become part of the name and hash', () => {
    const suite = suiteFromValue(
      { name: 'w', dataset: { name: 'synthetic' }, optimizers: [{ name: 'sgd' }], batchSizes: [256], workers: [1, 2, 4], seeds: [0, 1] },
      'inline',
    );
    const runs = expandSuite(suite);
    assert.deepEqual(
      runs.map((r) => r.name),
      ['sgd-b256-w1-s0', 'sgd-b256-w1-s1', 'sgd-b256-w2-s0', 'sgd-b256-w2-s1', 'sgd-b256-w4-s0', 'sgd-b256-w4-s1'],
    );
    assert.notEqual(runs[0].configHash, runs[2].configHash, 'same config, other worker count');
    assert.equal(runs[2].config.batchSize, 256, 'batchSize stays the global batch');
  });

  it('runConfig resolves one cell (for probes) like the expansion does', () => {
    const suite = smoke();
    const run = expandSuite(suite).find((r) => r.name === 'ngd-b1024-w2-s0')!;
    assert.deepEqual(runConfig(suite, { optimizerLabel: 'ngd', batchSize: 1024, seed: 0 }), run.config);
  });

  it('every committed suite loads, and the YAML and JSON smoke suites agree with themselves', () => {
    for (const file of readdirSync(suitesDir).filter((f) => /\.(json|ya?ml)$/.test(f))) {
      const suite = loadSuite(join(suitesDir, file));
      assert.ok(expandSuite(suite).length > 0, file);
      assert.equal(suite.$schema, '../schemas/suite.schema.json', `${file} points editors at the schema`);
    }
    const raw = readFileSync(join(suitesDir, 'smoke.json'), 'utf8');
    assert.match(raw, /^\{\s*"\$schema": "\.\.\/schemas\/suite\.schema\.json"/, 'smoke.json starts with $schema');
  });
});

describe('run identity', () => {
  it('canonicalJson sorts keys at every depth and rejects non-JSON numbers', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null }, u: undefined }),
      '{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}',
    );
    assert.throws(() => canonicalJson({ x: Number.NaN }), /non-finite/);
  });

  it('configHash is sha256 of canonicalJson({ config, workers })', () => {
    const run = expandSuite(smoke())[0];
    const expected = createHash('sha256')
      .update(canonicalJson({ config: run.config, workers: run.workers }))
      .digest('hex');
    assert.equal(configHash(run.config, run.workers), expected);
    assert.equal(run.configHash, expected);
  });

  it('names: label, batch, workers, seed, then swept values', () => {
    assert.equal(
      runName({ optimizerLabel: 'ngd', batchSize: 1024, workers: 2, seed: 0, sweep: { 'optimizer.kfac.damping': 0.01 } }),
      'ngd-b1024-w2-s0-damping=0.01',
    );
    assert.equal(
      runName({
        optimizerLabel: 'x',
        batchSize: 8,
        workers: 1,
        seed: 3,
        sweep: { 'optimizer.kfac.klClip': null, 'schedule.kind': 'step' },
      }),
      'x-b8-w1-s3-klClip=null-kind=step',
    );
  });

  it('ids are stable across calls, key order and file format', () => {
    const ids = expandSuite(smoke()).map((r) => r.id);
    assert.deepEqual(
      expandSuite(smoke()).map((r) => r.id),
      ids,
    );
    const value = JSON.parse(readFileSync(join(suitesDir, 'smoke.json'), 'utf8'));
    const reordered = writeTmp('reordered.json', deepReverseKeys(value));
    assert.deepEqual(
      expandSuite(loadSuite(reordered)).map((r) => r.id),
      ids,
    );
    const asYaml = writeTmp('smoke.yaml', toYaml(deepReverseKeys(value)));
    assert.deepEqual(
      expandSuite(loadSuite(asYaml)).map((r) => r.id),
      ids,
    );
  });

  it('the suite name, description, tolerances and run settings do not change ids; lr does, only where it applies', () => {
    const value = JSON.parse(readFileSync(join(suitesDir, 'smoke.json'), 'utf8'));
    const base = expandSuite(suiteFromValue(value, 'base'));
    const renamed = expandSuite(
      suiteFromValue({ ...value, name: 'other', description: 'x', tolerances: { timeRatio: 2 }, run: { retries: 3 } }, 'renamed'),
    );
    assert.deepEqual(
      renamed.map((r) => r.configHash),
      base.map((r) => r.configHash),
    );
    const changed = structuredClone(value);
    changed.optimizers[1].lr = 0.03; // ngd
    const after = expandSuite(suiteFromValue(changed, 'changed'));
    base.forEach((r, i) => {
      if (r.optimizerLabel === 'ngd') assert.notEqual(after[i].configHash, r.configHash, r.name);
      else assert.equal(after[i].configHash, r.configHash, r.name);
    });
  });
});

describe('filters', () => {
  const runs = () => expandSuite(example());
  const names = (filter: string) => expandSuite(example(), { filter }).map((r) => r.name);

  it('key=value terms (with alternatives and numeric comparison) are ANDed', () => {
    assert.deepEqual(names('optimizer=ngd batch=1024 seed=0'), ['ngd-b1024-w1-s0-damping=0.001', 'ngd-b1024-w1-s0-damping=0.01']);
    assert.equal(names('optimizer=sgd,ngd seed=1').length, 3 + 6);
    assert.deepEqual(names('optimizer=ngd batch=128 damping=1e-2 seed=2'), ['ngd-b128-w1-s2-damping=0.01']);
    assert.equal(names('optimizer.smoothing.amplitude=0.05').length, 3 * 2 * 3);
  });

  it('plain text matches a substring of the name or id; * and ? glob the whole name', () => {
    assert.equal(names('sgd-b4096').length, 3);
    const one = runs()[5];
    assert.deepEqual(names(one.id), [one.name]);
    assert.deepEqual(names('ngd-b4096-w1-s?-damping=0.01'), [
      'ngd-b4096-w1-s0-damping=0.01',
      'ngd-b4096-w1-s1-damping=0.01',
      'ngd-b4096-w1-s2-damping=0.01',
    ]);
    assert.equal(names('*-s0*').length, 81 / 3);
  });

  it('an unknown key suggests the nearest; no match at all is an error', () => {
    assert.match(
      suiteError(() => names('optimzer=ngd')).message,
      /--filter: unknown key 'optimzer' in 'optimzer=ngd' \(did you mean 'optimizer'\?\)/,
    );
    assert.match(suiteError(() => names('adam')).message, /--filter: 'adam' matches none of the 81 runs/);
  });
});

describe('shards', () => {
  it('parses i/n and rejects anything else clearly', () => {
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    assert.deepEqual(parseShard(' 1 / 1 '), { index: 1, count: 1 });
    assert.match(
      suiteError(() => parseShard('0/4')).message,
      /--shard: '0\/4' is out of range: i must be between 1 and 4 \(shards are numbered from 1\)/,
    );
    assert.match(suiteError(() => parseShard('5/4')).message, /out of range/);
    assert.match(suiteError(() => parseShard('1/0')).message, /n must be at least 1/);
    assert.match(suiteError(() => parseShard('half')).message, /'half' is not of the form i\/n/);
    assert.match(suiteError(() => parseShard('1/2/3')).message, /not of the form i\/n/);
  });

  it('shards 1..n partition the matrix, keep expansion order, balance cost, and are deterministic', () => {
    const runs = expandSuite(example());
    const index = new Map(runs.map((r, i) => [r.id, i]));
    for (const count of [1, 2, 3, 4, 7, 100]) {
      const shards = Array.from({ length: count }, (_, i) => selectShard(runs, { index: i + 1, count }));
      const all = shards.flat().map((r) => r.id);
      assert.equal(all.length, runs.length, `n=${count}: no overlap`);
      assert.deepEqual(new Set(all), new Set(runs.map((r) => r.id)), `n=${count}: union is the matrix`);
      for (const shard of shards) {
        const order = shard.map((r) => index.get(r.id)!);
        assert.deepEqual(
          order,
          [...order].sort((a, b) => a - b),
          'expansion order within a shard',
        );
      }
      const loads = shards.map((s) => s.reduce((sum, r) => sum + estimateRunCost(r), 0));
      const biggest = Math.max(...runs.map(estimateRunCost));
      if (count <= runs.length) assert.ok(Math.max(...loads) - Math.min(...loads) <= biggest + 1e-9, `n=${count}: balanced (${loads})`);
      assert.deepEqual(
        selectShard(runs, { index: 1, count }).map((r) => r.id),
        shards[0].map((r) => r.id),
        'deterministic',
      );
    }
  });

  it('equal costs are dealt round-robin', () => {
    const runs = expandSuite(smoke());
    const shards = [1, 2, 3].map((index) => selectShard(runs, { index, count: 3 }, () => 1).length);
    assert.deepEqual(shards, [3, 3, 2]);
  });
});

describe('probes', () => {
  it('defaults come from the rest of the suite', () => {
    assert.deepEqual(probeSettings(smoke()), {
      batchSizes: [256, 1024],
      optimizers: ['sgd', 'ngd', 'smoothed-ngd', 'smoothed-sgd'],
      iterations: 10,
      allreduceSizes: [4096, 262144, 4194304, 16777216],
      workers: 2,
      matmulSize: null,
    });
    const bare = suiteFromValue(
      { name: 'p', dataset: { name: 'synthetic' }, optimizers: [{ name: 'sgd' }], batchSizes: [256], workers: [1, 4] },
      'p',
    );
    assert.deepEqual(probeSettings(bare), {
      batchSizes: [256],
      optimizers: ['sgd'],
      iterations: 20,
      allreduceSizes: [4096, 262144, 4194304, 33554432],
      workers: 4,
      matmulSize: null,
    });
    const perBatch = suiteFromValue(
      {
        name: 'q',
        dataset: { name: 'synthetic' },
        optimizers: [{ name: 'sgd' }],
        batchSizes: [128, 256],
        workersByBatchSize: { '256': [2] },
      },
      'q',
    );
    assert.equal(probeSettings(perBatch).workers, 2, 'the largest worker count of any batch size');
  });

  it('workersByBatchSize replaces workers for the batch sizes it lists, and must name listed batch sizes', () => {
    const base = { name: 'w', dataset: { name: 'synthetic' }, optimizers: [{ name: 'sgd' }], batchSizes: [128, 256] };
    const runs = expandSuite(suiteFromValue({ ...base, workersByBatchSize: { '256': [2, 4] } }, 'w'));
    assert.deepEqual(
      runs.map((r) => r.name),
      ['sgd-b128-w1-s0', 'sgd-b256-w2-s0', 'sgd-b256-w4-s0'],
    );
    assert.throws(
      () => expandSuite(suiteFromValue({ ...base, workersByBatchSize: { '512': [2] } }, 'w')),
      /workersByBatchSize\/512: batch size 512 is not in "batchSizes"/,
    );
    assert.throws(
      () => expandSuite(suiteFromValue({ ...base, workersByBatchSize: { '128': [3] } }, 'w')),
      /batch size 128 does not split evenly across 3 workers/,
    );
  });
});

describe('schema file', () => {
  it('schemas/suite.schema.json is exactly what the code emits (regenerate: npx tsx src/suite/writeSchemaFile.ts)', () => {
    assert.equal(readFileSync(join(root, 'schemas/suite.schema.json'), 'utf8'), suiteJsonSchemaText());
  });

  it('is a draft 2020-12 schema that accepts every committed suite and rejects a bad one', () => {
    const schema = suiteJsonSchema();
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.$id, 'https://ngd-bench.dev/schemas/suite.schema.json');
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const check = ajv.compile(schema);
    for (const file of readdirSync(suitesDir).filter((f) => /\.(json|ya?ml)$/.test(f))) {
      const text = readFileSync(join(suitesDir, file), 'utf8');
      assert.ok(check(file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)), `${file}: ${JSON.stringify(check.errors)}`);
    }
    assert.ok(check({ name: 'minimal', optimizers: [{ name: 'sgd' }], batchSizes: [128] }), 'fields with defaults are optional in files');
    assert.equal(check({ name: 'x', optimizers: [{ name: 'adam' }], batchSizes: [128] }), false);
  });

  it('describes every field, and lists the sweepable paths for completion', () => {
    const missing: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (typeof node !== 'object' || node === null) return;
      const n = node as Record<string, unknown>;
      for (const [key, sub] of Object.entries((n.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        if (typeof sub.description !== 'string' || sub.description === '') missing.push(`${path}/${key}`);
        walk(sub, `${path}/${key}`);
        walk(sub.items, `${path}/${key}/items`);
      }
    };
    const schema = suiteJsonSchema();
    walk(schema, '');
    assert.deepEqual(missing, []);
    const sweepPath = (schema as { properties: { sweep: { items: { properties: { path: { enum: string[] } } } } } }).properties.sweep.items
      .properties.path;
    assert.deepEqual(sweepPath.enum, [...SWEEPABLE_PATHS]);
    for (const p of ['optimizer.lr', 'optimizer.kfac.damping', 'optimizer.smoothing.amplitude', 'schedule.warmupEpochs'])
      assert.ok(SWEEPABLE_PATHS.includes(p), p);
    for (const p of ['batchSize', 'seed', 'optimizer.name', 'model.hiddenWidths']) assert.ok(!SWEEPABLE_PATHS.includes(p), p);
  });

  it('optimizer overrides carry no defaults of their own (they would override the suite defaults)', () => {
    const text = JSON.stringify((suiteJsonSchema() as { properties: Record<string, unknown> }).properties.optimizers);
    assert.doesNotMatch(text, /"default"/);
  });
});

describe('bad suites: every problem, at its JSON path', () => {
  const load = (name: string) => suiteError(() => loadSuite(join(fixtures, name)));

  it('malformed JSON: line and column', () => {
    const e = load('malformed.json');
    assertProblems(e, [['', /^malformed JSON at line 4, column 28: unexpected '\]', expected a value after ',' \(trailing comma\)$/]]);
    assert.equal(
      e.message,
      `${join(fixtures, 'malformed.json')}: malformed JSON at line 4, column 28: unexpected ']', expected a value after ',' (trailing comma)`,
    );
  });

  it('the JSON locator finds the first error', () => {
    assert.equal(locateJsonError('{"a": [1, 2]}'), undefined);
    assert.deepEqual(locateJsonError('{"a": 1\n "b": 2}'), {
      offset: 9,
      message: "unexpected '\"', expected ',' or '}' after the property value",
    });
    assert.deepEqual(locateJsonError('{"a": tru}'), { offset: 9, message: "unexpected '}', expected 'true'" });
    assert.deepEqual(locateJsonError('{"a": 1'), {
      offset: 7,
      message: "unexpected end of input, expected ',' or '}' after the property value",
    });
    assert.deepEqual(locateJsonError("{'a': 1}"), { offset: 1, message: "unexpected ''', expected a double-quoted property name" });
    assert.deepEqual(locateJsonError('[01]'), { offset: 2, message: "unexpected '1', expected ',' or a closing bracket after the number" });
  });

  it('malformed YAML: line and column', () => {
    assertProblems(load('malformed.yaml'), [
      ['', /^malformed YAML at line 5, column 1: Flow sequence .* must be sufficiently indented and end with a \]$/],
    ]);
  });

  it('missing required fields, at every depth', () => {
    assertProblems(load('missing-required.json'), [
      ['/', /^must have required property 'batchSizes'$/],
      ['/optimizers/0', /^must have required property 'name'$/],
    ]);
  });

  it('wrong types and ranges at nested paths: all of them, not just the first', () => {
    assertProblems(load('wrong-types.json'), [
      ['/name', /^must be lowercase letters and digits joined by dashes/],
      ['/model/hiddenWidths/1', /^must be integer$/],
      ['/dataset/trainSize', /^must be >= 1$/],
      ['/epochs', /^must be integer$/],
      ['/defaults/lr', /^must be > 0$/],
      ['/defaults/kfac/damping', /^must be number$/],
      ['/defaults/kfac/klClip', /^must be > 0 or null$/],
      ['/optimizers/0/momentum', /^must be < 1$/],
      ['/optimizers/0/nesterov', /^must be boolean$/],
      ['/batchSizes', /^duplicate value 256 \(items 0 and 1\)$/],
      ['/seeds', /^must NOT have fewer than 1 items$/],
      ['/tolerances/timeRatio', /^must be >= 1$/],
      ['/run/retries', /^must be >= 0$/],
    ]);
  });

  it('unknown names and properties suggest the nearest valid one', () => {
    assertProblems(load('unknown-names.yaml'), [
      ['/', /^unknown property 'colour' \(allowed: \$schema, name, description, problem, model, .*probes\)$/],
      ['/model/name', /^unknown model 'mpl' \(did you mean 'mlp'\?\); known: mlp, cnn, resnet20, deepobs-mlp, 2c2d, 3c3d$/],
      ['/dataset/name', /^unknown dataset 'fashion-mnits' \(did you mean 'fashion-mnist'\?\)/],
      ['/backend', /^unknown backend 'cpu-blsa' \(did you mean 'cpu-blas'\?\)/],
      ['/schedule/kind', /^must be one of "constant", "step", "cosine", "polynomial" \(did you mean 'cosine'\?\)$/],
      [
        '/optimizers/0/name',
        /^unknown optimizer 'smoothed-ngdd' \(did you mean 'smoothed-ngd'\?\); known: sgd, smoothed-sgd, ngd, smoothed-ngd, sam-sgd, sam-ngd$/,
      ],
      ['/optimizers/1', /^unknown property 'lrr' \(did you mean 'lr'\?\)$/],
      ['/sweep/0/path', /^unknown sweep path 'optimizer\.kfac\.dampng' \(did you mean 'optimizer\.kfac\.damping'\?\)$/],
      ['/sweep/1/path', /^'batchSize' cannot be swept: list the batch sizes in "batchSizes"$/],
    ]);
  });

  it('batch sizes that do not split across the workers, or exceed the training set', () => {
    assertProblems(load('not-divisible.json'), [
      ['/batchSizes/1', /^batch size 256 does not split evenly across 3 workers/],
      ['/batchSizes/2', /^batch size 2000 does not split evenly across 3 workers/],
      ['/batchSizes/2', /^batch size 2000 exceeds the 1000 training examples \(dataset\.trainSize\)/],
    ]);
  });

  it('sweeps: settings an optimizer does not use, bad values, unknown labels, overlaps', () => {
    assertProblems(load('bad-sweep.json'), [
      [
        '/sweep/0',
        /^'optimizer\.kfac\.damping' is a K-FAC setting, which 'sgd' does not use; restrict the sweep with "optimizers": \["ngd","smoothed-ngd"\]$/,
      ],
      ['/sweep/0/values/1', /^must be > 0$/],
      ['/sweep/1/optimizers/0', /^unknown optimizer label 'smoothed-ngdd' \(did you mean 'smoothed-ngd'\?\)/],
      ['/sweep/2/path', /^'optimizer\.kfac\.damping' is already swept by \/sweep\/0 for 'ngd'$/],
      ['/sweep/3/values/1', /^must be number or null$/],
      ['/probes/optimizers/1', /^unknown optimizer label 'smoothed-sgd'/],
    ]);
  });

  it('a short sweep path suggests the full one', () => {
    const path = writeTmp('short-path.json', {
      name: 's',
      optimizers: [{ name: 'ngd' }],
      batchSizes: [256],
      sweep: [{ path: 'damping', values: [0.1] }],
    });
    assertProblems(
      suiteError(() => loadSuite(path)),
      [['/sweep/0/path', /^unknown sweep path 'damping' \(did you mean 'optimizer\.kfac\.damping'\?\)$/]],
    );
  });

  it('duplicate labels and sections an optimizer does not use', () => {
    assertProblems(load('duplicate-labels.json'), [
      ['/optimizers/1', /^duplicate optimizer label 'ngd' \(also \/optimizers\/0\); give the entries distinct "label"s$/],
      ['/optimizers/2/kfac', /^optimizer 'sgd' does not use K-FAC settings/],
      ['/optimizers/3/label', /^duplicate optimizer label 'plain' \(also \/optimizers\/2\)/],
    ]);
  });

  it('identical runs are an error naming both', () => {
    const path = writeTmp('twins.json', {
      name: 't',
      dataset: { name: 'synthetic' },
      optimizers: [{ name: 'sgd' }, { name: 'sgd', label: 'sgd-again', lr: 0.05 }],
      batchSizes: [256],
    });
    assertProblems(
      suiteError(() => loadSuite(path)),
      [['/optimizers/1', /^runs 'sgd-b256-w1-s0' \(\/optimizers\/0\) and 'sgd-again-b256-w1-s0' have the same resolved config/]],
    );
  });

  it("resolveTrainConfig's own checks are reported where the suite sets the value, once for all runs", () => {
    const path = writeTmp('cnn-widths.json', {
      name: 'c',
      model: { name: 'cnn', hiddenWidths: [8] },
      dataset: { name: 'synthetic' },
      optimizers: [{ name: 'sgd' }],
      batchSizes: [64, 128],
      seeds: [0, 1],
    });
    assertProblems(
      suiteError(() => loadSuite(path)),
      [['/model/hiddenWidths', /^only the mlp has configurable widths \(run 'sgd-b64-w1-s0' and 3 more\)$/]],
    );
  });

  it('a swept training-set size smaller than a batch', () => {
    const path = writeTmp('swept-size.json', {
      name: 'ss',
      dataset: { name: 'synthetic' },
      optimizers: [{ name: 'sgd' }],
      batchSizes: [128, 512],
      sweep: [{ path: 'dataset.trainSize', values: [256, 1024] }],
    });
    assertProblems(
      suiteError(() => loadSuite(path)),
      [['/sweep/0', /^batch size 512 exceeds the 256 training examples \(dataset\.trainSize\).* \(run 'sgd-b512-w1-s0-trainSize=256'\)$/]],
    );
  });

  it('missing file, unknown extension, not an object', () => {
    assertProblems(
      suiteError(() => loadSuite(join(tmp, 'absent.json'))),
      [['', /^no such file$/]],
    );
    assertProblems(
      suiteError(() => loadSuite(writeTmp('suite.toml', 'name = "x"'))),
      [['', /^unsupported suite file type '\.toml'/]],
    );
    assertProblems(
      suiteError(() => loadSuite(writeTmp('list.json', '[1]'))),
      [['/', /^must be object$/]],
    );
  });

  it('SuiteError is a ValidationError (bad input, exit 2) whose message lists every problem with the file', () => {
    const e = load('missing-required.json');
    assert.equal(e.name, 'SuiteError');
    const file = join(fixtures, 'missing-required.json');
    assert.equal(
      e.message,
      `${file}: /: must have required property 'batchSizes'; ${file}: /optimizers/0: must have required property 'name'`,
    );
  });
});

describe('ngd-bench validate', () => {
  /** Runs the command in-process, capturing its output and exit code. */
  async function validate(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    // A collector, never a replaced process.stdout.write: that would swallow node:test's own reports too.
    const output = { out: (text: string) => void out.push(text), err: (text: string) => void err.push(text) };
    const before = process.exitCode; // node:test sets 1 once any test has failed
    process.exitCode = undefined;
    let code: typeof process.exitCode;
    try {
      await validateCommand(output).exitOverride().parseAsync(args, { from: 'user' });
    } finally {
      code = process.exitCode;
      process.exitCode = before;
    }
    return { code: code ?? 0, stdout: out.join(''), stderr: err.join('') };
  }

  it('ok suites: one line each, exit 0', async () => {
    const r = await validate(['suites/smoke.json', 'suites/example.yaml']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'suites/smoke.json: ok (8 runs)\nsuites/example.yaml: ok (81 runs)\n');
    assert.equal(r.stderr, '');
  });

  it('invalid suites: every error on its own line, exit 2', async () => {
    const bad = 'test/fixtures/suites/wrong-types.json';
    const r = await validate(['suites/smoke.json', bad, 'test/fixtures/suites/malformed.yaml']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, 'suites/smoke.json: ok (8 runs)\n');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 13 + 1);
    assert.ok(lines.includes(`${bad}: /defaults/kfac/klClip: must be > 0 or null`), r.stderr);
    assert.ok(lines.includes(`${bad}: /run/retries: must be >= 0`), r.stderr);
    assert.match(lines[13], /^test\/fixtures\/suites\/malformed\.yaml: malformed YAML at line 5, column 1: /);
  });

  it('--json: machine-readable results', async () => {
    const r = await validate(['--json', 'suites/smoke.json', 'test/fixtures/suites/missing-required.json']);
    assert.equal(r.code, 2);
    assert.deepEqual(JSON.parse(r.stdout), [
      { file: 'suites/smoke.json', ok: true, runs: 8, errors: [] },
      {
        file: 'test/fixtures/suites/missing-required.json',
        ok: false,
        runs: 0,
        errors: [
          { path: '/', message: "must have required property 'batchSizes'" },
          { path: '/optimizers/0', message: "must have required property 'name'" },
        ],
      },
    ]);
  });

  it('the real process: stderr lines and exit code 2', () => {
    const entry = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/suites/validateCli.ts');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', entry, 'validate', 'suites/smoke.json', 'test/fixtures/suites/unknown-names.yaml'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, 'suites/smoke.json: ok (8 runs)\n');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 9, r.stderr);
    for (const line of lines) assert.match(line, /^test\/fixtures\/suites\/unknown-names\.yaml: \/\S*: /);
    assert.ok(
      lines.includes(
        "test/fixtures/suites/unknown-names.yaml: /optimizers/0/name: unknown optimizer 'smoothed-ngdd' (did you mean 'smoothed-ngd'?); known: sgd, smoothed-sgd, ngd, smoothed-ngd, sam-sgd, sam-ngd",
      ),
    );
  });

  it('formatMatrix: a table with one row per run', () => {
    const runs: PlannedRun[] = expandSuite(example(), { filter: 'optimizer=smoothed-ngd batch=128 seed=0 damping=0.01' });
    const table = formatMatrix(runs).split('\n');
    assert.match(table[0], /^id\s+optimizer\s+batch\s+workers\s+seed\s+sweep$/);
    assert.equal(table.length, 2 + 3 + 1);
    assert.match(
      table[2],
      /^smoothed-ngd-b128-w1-s0-damping=0\.01-amplitude=0\.001-[0-9a-f]{10}\s+smoothed-ngd\s+128\s+1\s+0\s+damping=0\.01 amplitude=0\.001$/,
    );
    assert.equal(table[5], '3 runs');
  });
});

describe('src/suite stays free of tfjs', () => {
  it('no module reachable from src/suite or the validate command imports tfjs', () => {
    const suiteDir = join(root, 'src/suite');
    const { offenders, seen } = tfjsOrTrainingReachable([
      ...readdirSync(suiteDir).map((f) => join(suiteDir, f)),
      join(root, 'src/cli/validateCommand.ts'),
    ]);
    assert.ok(seen.has(join(root, 'src/suite/index.ts')));
    assert.deepEqual(offenders, []);
    assert.ok(seen.has(join(root, 'src/config/resolveConfig.ts')));
  });
});
