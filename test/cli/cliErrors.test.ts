/** Every kind of bad input: one clear line on stderr, exit code 2, and no result file. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/runCli.js';

const dir = mkdtempSync(join(tmpdir(), 'ngd-bench-cli-'));
const out = join(dir, 'result.json');
const quick = ['--dataset', 'synthetic', '--backend', 'cpu', '--out', out];

function expectBadInput(args: string[], pattern: RegExp, env: Record<string, string> = {}) {
  const r = runCli(['train', ...args], env);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('(run with --help'));
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.equal(lines.length, 1, `exactly one error line, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.equal(existsSync(out), false, 'no result file is left behind');
}

function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('train: bad input', () => {
  it('unknown optimizer name suggests the nearest', () =>
    expectBadInput([...quick, '--optimizer', 'smoothed-ngdd'], /unknown optimizer 'smoothed-ngdd' \(did you mean 'smoothed-ngd'\?\)/));
  it('unknown model name suggests the nearest', () =>
    expectBadInput([...quick, '--model', 'mpl'], /unknown model 'mpl' \(did you mean 'mlp'\?\)/));
  it('unknown dataset name suggests the nearest', () =>
    expectBadInput(['--dataset', 'fashion-mnits', '--out', out], /unknown dataset 'fashion-mnits' \(did you mean 'fashion-mnist'\?\)/));
  it('unknown backend name suggests the nearest', () =>
    expectBadInput([...quick, '--backend', 'cpu-blsa'], /unknown backend 'cpu-blsa' \(did you mean 'cpu-blas'\?\)/));
  it('malformed number flag', () => expectBadInput([...quick, '--lr', 'fast'], /'fast' is not a number/));
  it('invalid config lists every schema error with its JSON path', () => {
    const cfg = writeConfig('bad.json', JSON.stringify({ batchSize: 0, optimizer: { lr: -1, momentum: 2 }, colour: 'red' }));
    expectBadInput(
      ['--config', cfg, ...quick],
      /\/: unknown property 'colour'.*\/optimizer\/lr: must be > 0.*\/optimizer\/momentum: must be < 1.*\/batchSize: must be >= 1/,
    );
  });
  it('malformed JSON config names the file', () =>
    expectBadInput(
      ['--config', writeConfig('broken.json', '{"epochs": 2,'), ...quick],
      /broken\.json: malformed JSON in config at line 1/,
    ));
  it('a config that is not a JSON object says so', () =>
    expectBadInput(['--config', writeConfig('list.json', '[1, 2]'), ...quick], /list\.json: config must be a JSON object, got an array/));
  it('missing config file names the file', () =>
    expectBadInput(['--config', join(dir, 'nope.json'), ...quick], /nope\.json: cannot read config: no such file/));
  it('K-FAC settings for sgd are an impossible config', () =>
    expectBadInput([...quick, '--optimizer', 'sgd', '--damping', '0.1'], /\/optimizer\/kfac: optimizer 'sgd' does not use K-FAC settings/));
  it('a batch larger than the training set is an impossible config', () =>
    expectBadInput([...quick, '--train-size', '100', '--batch-size', '128'], /batch size 128 exceeds the 100 training examples/));
  it("K-FAC's low-rank gradient over several workers is an impossible config", () =>
    expectBadInput(
      [...quick, '--optimizer', 'ngd', '--low-rank-gradient', '--workers', '2', '--batch-size', '64'],
      /low-rank gradient needs the whole batch's rows in one process, and 2 workers each hold a share/,
    ));
  it("K-FAC's low-rank gradient with an L2 term in the gradient names the setting", () =>
    expectBadInput(
      [...quick, '--optimizer', 'ngd', '--low-rank-gradient', '--weight-decay', '1e-4'],
      /\/optimizer\/kfac\/lowRankGradient: weight decay placed 'l2' adds wd·w to the gradient/,
    ));
  it('micro-batches for a model with batch norm are an impossible config', () =>
    expectBadInput([...quick, '--model', 'resnet20', '--micro-batch-size', '32'], /\/microBatchSize: resnet20 has batch norm/));
  it('a memory budget that is not a number of GiB', () =>
    expectBadInput([...quick, '--memory-budget', 'lots'], /--memory-budget: 'lots' is not a positive number of GiB/));
  it('a batch whose training pass does not fit the memory budget is refused before the first step', () =>
    expectBadInput(
      [...quick, '--memory-budget', '0.01'],
      /a training pass of 128 examples needs about .* memory budget is 0\.0 GiB: not even one example fits/,
    ));
  it('a malformed memory budget in the environment names the variable', () =>
    expectBadInput(quick, /\$NGD_BENCH_MEMORY_BUDGET_GIB: '-3' is not a positive number of GiB/, { NGD_BENCH_MEMORY_BUDGET_GIB: '-3' }));
  it('an unavailable native backend says how to get it', () =>
    expectBadInput(
      ['--dataset', 'synthetic', '--backend', 'tensorflow', '--out', out],
      /backend 'tensorflow' unavailable: cannot load @tensorflow\/tfjs-node .*npm install/,
    ));
  it('a problem with a dataset it does not belong to names the problem that has it', () =>
    expectBadInput(
      ['--problem', 'fmnist_2c2d', '--dataset', 'mnist', '--steps', '1', '--out', out],
      /^ngd-bench: error: --problem fmnist_2c2d: \/dataset\/name: 'mnist' is not the dataset of problem fmnist_2c2d \(fashion-mnist\); use problem mnist_2c2d$/,
    ));
  it('a pixel scaling for the synthetic dataset is an impossible config', () => {
    const cfg = writeConfig('synthetic-scaling.json', JSON.stringify({ dataset: { name: 'synthetic', pixelScaling: 'unit-interval' } }));
    expectBadInput(
      ['--config', cfg, '--backend', 'cpu', '--out', out],
      /\/dataset\/pixelScaling: the synthetic dataset is generated as floats, not pixels/,
    );
  });
  it('an unknown problem suggests the nearest', () =>
    expectBadInput(['--problem', 'fmnist-2c2d', '--steps', '1', '--out', out], /fmnist-2c2d.*did you mean 'fmnist_2c2d'/));
  it('a missing dataset directory says how to get it', () =>
    expectBadInput(
      ['--dataset', 'fashion-mnist', '--data-dir', join(dir, 'absent'), '--backend', 'cpu', '--out', out],
      /fashion-mnist.*absent.*apt-get install dataset-fashion-mnist/,
    ));
  it('a corrupt dataset file is named', () => {
    const data = join(dir, 'corrupt');
    mkdirSync(data);
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(data, f), Buffer.from([0, 0, 0, 0, 1, 2, 3]));
    }
    expectBadInput(
      ['--dataset', 'mnist', '--data-dir', data, '--backend', 'cpu', '--out', out],
      /(t10k|train)-(images|labels)-idx\d-ubyte/,
    );
  });
});

describe('a reader that closes stdout early', () => {
  it('`train --help | true` ends quietly with exit 0, not an EPIPE crash', () => {
    // `true` exits at once (before node has started), so the help is written into a pipe nobody reads.
    const r = spawnSync('bash', ['-c', `"${process.execPath}" --import tsx src/cli.ts train --help | true; exit "\${PIPESTATUS[0]}"`], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
    });
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/);
    assert.equal(r.status, 0, r.stderr);
  });
});
