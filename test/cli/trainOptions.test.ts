/** The train flag table: every config flag reaches its config path, and enum choices come from the config schema. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { addTrainOptions, applyTrainFlags, CONFIG_FLAGS, type TrainFlags } from '../../src/cli/trainOptions.js';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { CONFIG_LEAF_PATHS, choicesAtPath } from '../../src/suite/configPaths.js';

const parse = (args: string[]): TrainFlags =>
  addTrainOptions(new Command('train').exitOverride()).parse(args, { from: 'user' }).opts<TrainFlags>();

describe('train flags: one table', () => {
  it('every config flag names a config path', () => {
    for (const entry of CONFIG_FLAGS) assert.ok(CONFIG_LEAF_PATHS.includes(entry.path), `${entry.flag} -> ${entry.path}`);
  });

  it('choices are the schema enum: --fisher accepts what optimizer.kfac.fisher accepts and nothing else', () => {
    assert.deepEqual(choicesAtPath('optimizer.kfac.fisher'), ['mc', 'empirical']);
    assert.equal(parse(['--fisher', 'empirical']).fisher, 'empirical');
    assert.throws(() => parse(['--fisher', 'exact']), /Allowed choices are mc, empirical/);
  });

  it('flags land at their paths and the result is a valid config', () => {
    const flags = parse([
      '-m',
      'cnn',
      '--lr',
      '0.05',
      '--kl-clip',
      'none',
      '--damping',
      '0.01',
      '--noise-relative',
      '-b',
      '256',
      '--validation-size',
      '100',
      '--steps',
      '7',
    ]);
    const doc = applyTrainFlags({ optimizer: { name: 'smoothed-ngd', kfac: { damping: 0.1 } } }, flags);
    assert.deepEqual(doc, {
      model: { name: 'cnn' },
      optimizer: { name: 'smoothed-ngd', lr: 0.05, kfac: { damping: 0.01, klClip: null }, smoothing: { relative: true } },
      batchSize: 256,
      dataset: { validationSize: 100 },
      budget: { steps: 7 },
    });
    const config = resolveTrainConfig(doc, 'flags');
    assert.equal(config.optimizer.kfac?.klClip, null);
  });
});
