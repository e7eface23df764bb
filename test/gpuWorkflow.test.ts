/**
 * The GPU workflow's steps (.github/workflows/gpu-bench.yml calls scripts/gpu-bench/*.sh) run end to end
 * here on the CPU backend with a tiny suite: two shards (the first with its probes), merge, report,
 * check against a baseline (missing first: exit 1; then written with --update: exit 0), leaderboard. A
 * step that breaks fails here, not on a GPU runner.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers/runCli.js';
import { writeTinySuite } from './fixtures/tinySuite.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ngd-bench-gpu-flow-'));
const env = {
  ...process.env,
  NGD_BENCH_CLI: `${process.execPath} --import tsx ${join(root, 'src/cli.ts')}`,
  NGD_BENCH_BASELINE: join(tmp, 'baseline.json'),
};

function step(script: string, args: string[]) {
  const r = spawnSync('bash', [join(root, 'scripts/gpu-bench', script), ...args], { cwd: root, env, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the gpu-bench workflow steps, on CPU', () => {
  it('shards with probes, merge, report, check (missing baseline, then passing), leaderboard', { timeout: 900_000 }, () => {
    const suiteFile = join(tmp, 'gpu-flow.json');
    writeTinySuite(suiteFile, {
      name: 'gpu-flow',
      dataset: { name: 'synthetic', trainSize: 512, testSize: 128 },
      optimizers: [
        { name: 'sgd', lr: 0.05 },
        { name: 'ngd', lr: 0.01 },
      ],
      batchSizes: [64, 128],
      seeds: [0],
      tolerances: { accuracyDropPoints: 5, timeRatio: 100, minTimingSamples: 3 },
      probes: { batchSizes: [64], iterations: 3 },
    });
    const outRoot = join(tmp, 'gpu-results');
    for (const shard of ['1', '2']) {
      const r = step('shard.sh', [suiteFile, shard, '2', outRoot]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const shardDirs = ['1', '2'].map((i) => join(outRoot, `gpu-flow-shard-${i}`));
    assert.ok(existsSync(join(shardDirs[0], 'probes.json')), 'shard 1 records the probes');
    assert.ok(!existsSync(join(shardDirs[1], 'probes.json')));

    const reports = join(tmp, 'reports');
    const first = step('merge-check.sh', ['gpu-flow', outRoot, reports, ...shardDirs]);
    assert.equal(first.code, 1, `no baseline yet: the check must fail\n${first.stdout}${first.stderr}`);
    const merged = join(outRoot, 'gpu-flow');
    // Only run results, the manifest and the probes: the check's own outputs go beside, not inside.
    assert.deepEqual(readdirSync(merged).filter((f) => f.endsWith('.json') && f !== 'manifest.json' && f !== 'probes.json').length, 4);
    assert.ok(existsSync(join(merged, 'probes.json')), "merge keeps the shards' probes");
    const report = readFileSync(join(reports, 'gpu-flow-gpu.md'), 'utf8');
    assert.match(report, /## Step phases \(probes\)/);
    assert.match(report, /## Test accuracy/);

    const update = runCli(['check', merged, '--update', '--suite', suiteFile, '--baseline', join(tmp, 'baseline.json')]);
    assert.equal(update.code, 0, update.stdout + update.stderr);
    const second = step('merge-check.sh', ['gpu-flow', outRoot, reports, ...shardDirs]);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /PASS/);
    const checks = join(outRoot, 'gpu-flow-check');
    assert.ok(existsSync(join(checks, 'junit.xml')));
    assert.ok(readdirSync(checks).some((f) => f.startsWith('benchmark')));
    assert.ok(!readdirSync(merged).some((f) => f.startsWith('benchmark')));

    const board = join(tmp, 'leaderboard.md');
    const lb = step('leaderboard.sh', [board, merged]);
    assert.equal(lb.code, 0, lb.stdout + lb.stderr);
    assert.match(readFileSync(board, 'utf8'), /sgd|ngd/);

    const usage = step('shard.sh', []);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^usage: shard.sh/);
  });
});
