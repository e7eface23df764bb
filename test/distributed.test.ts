/**
 * Data-parallel training across real processes over TCP: N workers at global batch B against one
 * worker at B, bit-identical replicas, and a worker killed mid-run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readRunResult } from '../src/results/readRunResult.js';
import { readWeightsFile } from '../src/train/weightsFile.js';
import { runCli } from './helpers/runCli.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ngd-bench-dp-'));

/** 256 synthetic examples at global batch 64: 4 steps per epoch. */
const tinyRun = (optimizer: string, tag: string, extra: string[] = []) => [
  'train',
  '--dataset', 'synthetic', '--train-size', '256', '--test-size', '64',
  '--model', 'mlp', '--hidden-widths', '16',
  '--optimizer', optimizer, '--lr', '0.05', '--batch-size', '64', '--epochs', '2',
  '--backend', 'cpu', '--seed', '3', '--quiet',
  '--out', join(dir, `${tag}.json`), '--weights-out', join(dir, `${tag}.weights.json`),
  ...extra,
];

/** Largest |a - b| relative to the largest |a| of each parameter. */
function maxRelativeDifference(tagA: string, tagB: string): number {
  const a = readWeightsFile(join(dir, `${tagA}.weights.json`));
  const b = readWeightsFile(join(dir, `${tagB}.weights.json`));
  assert.deepEqual(b.map((p) => p.shape), a.map((p) => p.shape));
  let worst = 0;
  a.forEach((p, i) => {
    const scale = Math.max(...p.values.map(Math.abs));
    p.values.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i].values[j]) / scale)));
  });
  return worst;
}

// Float32 sums of two half-batch means differ from one full-batch mean in the last bits; 8 steps
// (and, for K-FAC, a float64 inversion of factors built from such sums) keep that below 1e-5 (measured: sgd 8e-8, ngd 5e-7).
const EQUIVALENCE_TOLERANCE = 1e-5;

describe('data parallelism: 2 workers at global batch B equal 1 worker at B', () => {
  for (const optimizer of ['sgd', 'ngd']) {
    it(`${optimizer}: weights after 8 steps agree within ${EQUIVALENCE_TOLERANCE} (relative), and every step the replicas were identical`, () => {
      const one = runCli(tinyRun(optimizer, `${optimizer}-w1`));
      assert.equal(one.code, 0, one.stderr);
      const two = runCli(tinyRun(optimizer, `${optimizer}-w2`, ['--workers', '2', '--verify-replicas']));
      assert.equal(two.code, 0, two.stderr);
      const result = readRunResult(join(dir, `${optimizer}-w2.json`));
      assert.equal(result.parallel?.workers, 2);
      assert.equal(result.parallel?.perWorkerBatchSize, 32);
      assert.equal(result.parallel?.replicaChecks, 8);
      assert.ok((result.parallel?.bytesAllreducedPerStep ?? 0) > 0);
      const diff = maxRelativeDifference(`${optimizer}-w1`, `${optimizer}-w2`);
      assert.ok(diff < EQUIVALENCE_TOLERANCE, `max relative weight difference ${diff}`);
      if (process.env.NGD_BENCH_TEST_VERBOSE) console.error(`${optimizer}: max relative weight difference 1 vs 2 workers: ${diff}`);
      assert.ok(diff > 0 || optimizer === 'sgd', 'a difference of exactly 0 would suggest the workers did not split the batch');
      const single = readRunResult(join(dir, `${optimizer}-w1.json`));
      assert.equal(result.final?.testAccuracy, single.final?.testAccuracy);
    });
  }

  it('smoothed-ngd on 3 workers: replicas stay bit-identical (noise drawn identically on every rank)', () => {
    const r = runCli(tinyRun('smoothed-ngd', 'sngd-w3', ['--workers', '3', '--batch-size', '48', '--verify-replicas']));
    assert.equal(r.code, 0, r.stderr);
    const result = readRunResult(join(dir, 'sngd-w3.json'));
    assert.equal(result.parallel?.replicaChecks, 2 * Math.floor(256 / 48));
    assert.equal(result.parallel?.launcher, 'ngd-bench');
  });

  it('a global batch that does not split over the workers is bad input (exit 2, nothing written)', () => {
    const r = runCli(tinyRun('sgd', 'odd', ['--workers', '3']));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /does not split evenly over 3 workers/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal(existsSync(join(dir, 'odd.json')), false);
  });
});

/** Pids of the processes whose parent is `pid`, with their NGD_BENCH_RANK. */
function workersOf(pid: number): { pid: number; rank: number }[] {
  const found: { pid: number; rank: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const rank = env.find((v) => v.startsWith('NGD_BENCH_RANK='));
      if (rank) found.push({ pid: Number(entry), rank: Number(rank.split('=')[1]) });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('faults', () => {
  it('killing one worker mid-run ends the run as failed within 30 s, naming the rank, with no process left', async () => {
    const out = join(dir, 'killed.json');
    const args = [
      '--import', 'tsx', 'src/cli.ts', 'train', '--dataset', 'synthetic', '--train-size', '2048', '--model', 'mlp',
      '--optimizer', 'sgd', '--batch-size', '16', '--epochs', '50', '--backend', 'cpu', '--workers', '2', '--quiet', '--out', out,
    ];
    const launcher = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    launcher.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
    let workers: { pid: number; rank: number }[] = [];
    for (let i = 0; i < 300 && workers.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      workers = workersOf(launcher.pid!);
    }
    assert.equal(workers.length, 2, 'two workers started');
    await new Promise((r) => setTimeout(r, 4000)); // let training start
    const victim = workers.find((w) => w.rank === 1)!;
    const killedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    const code = await exited;
    const seconds = (Date.now() - killedAt) / 1000;
    assert.ok(seconds < 30, `ended ${seconds} s after the kill`);
    assert.equal(code, 4, stderr);
    assert.match(stderr, /rank 1/);
    const result = readRunResult(out);
    assert.equal(result.status, 'failed');
    assert.equal(result.failureKind, 'infrastructure');
    assert.match(result.error ?? '', /rank 1/);
    for (const w of workers) assert.equal(alive(w.pid), false, `worker rank ${w.rank} (pid ${w.pid}) is gone`);
  });
});
