/**
 * The architecture as a test: which top-level folder of src/ may import which. Two sides meet only
 * in src/cli (and the shared schema/utility folders):
 * - the command side (suite -> harness -> results -> check / report) knows processes and result JSON,
 *   never tensors;
 * - the training side (train -> optim / models / data -> compute/accel, compute/kernels,
 *   compute/backend; distributed -> distributed/collective; and the probes) knows tensors, never the
 *   harness, the checker or the reporter. A grouping folder's subfolders are folders of their own here.
 * `config`, `results` and `util` are shared by both; `util` imports nothing of ours. An edge not in this
 * table fails the test with the file that makes it: add it here only if it keeps the direction.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { folderEdges } from './helpers/importGraph.js';

const SHARED = ['config', 'results', 'util', '(root)'];

const ALLOWED: Record<string, readonly string[]> = {
  // src/cli.ts, src/tf.ts, src/version.ts
  '(root)': ['cli', 'util'],
  util: [],
  config: ['util'],
  results: ['config', 'util', '(root)'],
  // command side
  suite: ['config', 'results', 'util'],
  harness: ['suite', ...SHARED],
  check: ['suite', ...SHARED],
  report: ['suite', ...SHARED],
  // training side
  'compute/kernels': ['util'],
  'compute/accel': ['compute/kernels', 'util'],
  'compute/backend': ['compute/accel', ...SHARED],
  data: ['util'],
  models: ['compute/kernels', 'config', 'util', '(root)'],
  optim: ['compute/kernels', 'models', 'config', 'util', '(root)'],
  'distributed/collective': ['util'],
  distributed: ['distributed/collective', 'optim'],
  train: ['compute/accel', 'compute/backend', 'data', 'models', 'optim', ...SHARED],
  probes: ['compute/backend', 'distributed/collective', 'data', 'models', 'optim', 'train', 'suite', ...SHARED],
  // where the two sides meet
  cli: ['compute/backend', 'check', 'distributed/collective', 'distributed', 'harness', 'probes', 'report', 'suite', 'train', ...SHARED],
};

const COMMAND_SIDE = ['suite', 'harness', 'check', 'report'];
const TRAINING_SIDE = [
  'compute/kernels',
  'compute/accel',
  'compute/backend',
  'data',
  'models',
  'optim',
  'distributed/collective',
  'distributed',
  'train',
];

describe('architecture: import direction between folders of src/', () => {
  const edges = folderEdges();

  it('every edge is in the table (the offending file is named)', () => {
    const unexpected: string[] = [];
    for (const [from, targets] of edges) {
      for (const [to, file] of targets) {
        if (!(ALLOWED[from] ?? []).includes(to)) unexpected.push(`${from} -> ${to} (${file})`);
      }
    }
    assert.deepEqual(unexpected, []);
  });

  it('the table itself keeps the sides apart and util at the bottom', () => {
    for (const side of TRAINING_SIDE)
      for (const command of [...COMMAND_SIDE, 'cli']) assert.ok(!ALLOWED[side].includes(command), `${side} must not import ${command}`);
    for (const command of ['harness', 'check', 'report', 'results', 'config'])
      for (const side of TRAINING_SIDE) assert.ok(!ALLOWED[command].includes(side), `${command} must not import ${side}`);
    assert.deepEqual(ALLOWED.util, []);
    for (const [from, targets] of Object.entries(ALLOWED))
      assert.ok(!targets.includes('cli') || from === '(root)', `${from} must not import cli`);
  });

  it('every folder of src/ is in the table', () => {
    for (const from of edges.keys()) assert.ok(from in ALLOWED, `src/${from} has no row in the table`);
  });
});
