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
import { readRunResult } from '../../src/results/runResultFile.js';
import { readWeightsFile } from '../../src/train/weightsFile.js';
import { runCli } from '../helpers/runCli.js';
import { writeTinySuite } from '../fixtures/tinySuite.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ngd-bench-dp-'));

/** 256 synthetic examples at global batch 64: 4 steps per epoch; 128 more held out as the validation split. */
const tinyRun = (optimizer: string, tag: string, extra: string[] = []) => [
  'train',
  '--dataset',
  'synthetic',
  '--train-size',
  '256',
  '--test-size',
  '64',
  '--validation-size',
  '128',
  '--model',
  'mlp',
  '--hidden-widths',
  '16',
  '--optimizer',
  optimizer,
  '--lr',
  '0.05',
  '--batch-size',
  '64',
  '--epochs',
  '2',
  '--backend',
  'cpu',
  '--seed',
  '3',
  '--quiet',
  '--out',
  join(dir, `${tag}.json`),
  '--weights-out',
  join(dir, `${tag}.weights.json`),
  ...extra,
];

/** Largest |a - b| relative to the largest |a| of each parameter. */
function maxRelativeDifference(tagA: string, tagB: string): number {
  const a = readWeightsFile(join(dir, `${tagA}.weights.json`));
  const b = readWeightsFile(join(dir, `${tagB}.weights.json`));
  assert.deepEqual(
    b.map((p) => p.shape),
    a.map((p) => p.shape),
  );
  let worst = 0;
  a.forEach((p, i) => {
    const scale = Math.max(...p.values.map(Math.abs));
    p.values.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - b[i].values[j]) / scale);
    });
  });
  return worst;
}

// Float32 sums of two half-batch means differ from one full-batch mean in the last bits; 8 steps
// (and, for K-FAC, a float64 inversion of factors built from such sums) keep that below 1e-5 (measured: sgd 8e-8, ngd 5e-7).
const EQUIVALENCE_TOLERANCE = 1e-5;

describe('data parallelism: 2 workers at global batch B equal 1 worker at B', () => {
  for (const optimizer of ['sgd', 'ngd', 'sam-ngd']) {
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
      // Every rank's backend, gathered once before training (and not counted as training communication).
      assert.deepEqual(
        result.environment?.ranks?.map((r) => [r.rank, r.backend, r.accelerator]),
        [0, 1].map((rank) => [rank, result.environment?.backend, result.environment?.accelerator]),
      );
      const diff = maxRelativeDifference(`${optimizer}-w1`, `${optimizer}-w2`);
      assert.ok(diff < EQUIVALENCE_TOLERANCE, `max relative weight difference ${diff}`);
      if (process.env.NGD_BENCH_TEST_VERBOSE) console.error(`${optimizer}: max relative weight difference 1 vs 2 workers: ${diff}`);
      assert.ok(diff > 0 || optimizer === 'sgd', 'a difference of exactly 0 would suggest the workers did not split the batch');
      const single = readRunResult(join(dir, `${optimizer}-w1.json`));
      assert.equal(result.final?.testAccuracy, single.final?.testAccuracy);
      // The validation split is the same examples whatever the worker count (each rank evaluates a share).
      assert.equal(result.dataset?.validationExamples, 128);
      assert.equal(single.dataset?.validationExamples, 128);
      assert.equal(result.final?.validationAccuracy, single.final?.validationAccuracy);
      assert.equal(result.evaluations?.length, single.evaluations?.length);
    });
  }

  it('smoothed-ngd with ghost batches of 16: 2 workers (2 ghost batches each) equal 1 worker (4), the noise drawn per global ghost batch', () => {
    const ghost = ['--noise-ghost-batch', '16'];
    const one = runCli(tinyRun('smoothed-ngd', 'ghost-w1', ghost));
    assert.equal(one.code, 0, one.stderr);
    const two = runCli(tinyRun('smoothed-ngd', 'ghost-w2', [...ghost, '--workers', '2', '--verify-replicas']));
    assert.equal(two.code, 0, two.stderr);
    const diff = maxRelativeDifference('ghost-w1', 'ghost-w2');
    assert.ok(diff < EQUIVALENCE_TOLERANCE, `max relative weight difference ${diff}`);
    const plain = runCli(tinyRun('smoothed-ngd', 'ghost-none'));
    assert.equal(plain.code, 0, plain.stderr);
    assert.ok(maxRelativeDifference('ghost-w1', 'ghost-none') > 1e-4, 'ghost batches draw other noise than one draw per batch');
    const bad = runCli(tinyRun('smoothed-ngd', 'ghost-bad', ['--noise-ghost-batch', '24', '--workers', '2']));
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /ghost batch size 24 does not divide the per-worker batch of 32 \(global batch 64 on 2 workers\)/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  });

  it('smoothed-ngd on 3 workers: replicas stay bit-identical (noise drawn identically on every rank)', () => {
    const r = runCli(tinyRun('smoothed-ngd', 'sngd-w3', ['--workers', '3', '--batch-size', '48', '--verify-replicas']));
    assert.equal(r.code, 0, r.stderr);
    const result = readRunResult(join(dir, 'sngd-w3.json'));
    assert.equal(result.parallel?.replicaChecks, 2 * Math.floor(256 / 48));
    assert.equal(result.parallel?.launcher, 'ngd-bench');
  });

  it('bad input found by the workers (a missing dataset) is one line and exit 2, nothing written', () => {
    const r = runCli([
      'train',
      '--dataset',
      'fashion-mnist',
      '--data-dir',
      join(dir, 'no-such-dir'),
      '--batch-size',
      '64',
      '--workers',
      '2',
      '--backend',
      'cpu',
      '--quiet',
      '--out',
      join(dir, 'no-data.json'),
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^ngd-bench: error: .*no-such-dir/);
    assert.equal(existsSync(join(dir, 'no-data.json')), false);
  });

  it('a global batch that does not split over the workers is bad input (exit 2, nothing written)', () => {
    const r = runCli(tinyRun('sgd', 'odd', ['--workers', '3']));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /does not split evenly over 3 workers/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal(existsSync(join(dir, 'odd.json')), false);
  });
});

/** Parent pid of every process, from /proc. */
function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked
    }
  }
  return parents;
}

/** The worker ranks (processes with NGD_BENCH_RANK) among the descendants of `pid`. */
function workersOf(pid: number): { pid: number; rank: number }[] {
  const parents = parentPids();
  const isDescendant = (p: number): boolean => {
    for (let q = parents.get(p); q !== undefined && q > 1; q = parents.get(q)) if (q === pid) return true;
    return false;
  };
  const found: { pid: number; rank: number }[] = [];
  for (const p of parents.keys()) {
    if (!isDescendant(p)) continue;
    try {
      const rank = readFileSync(`/proc/${p}/environ`, 'utf8')
        .split('\0')
        .find((v) => v.startsWith('NGD_BENCH_RANK='));
      if (rank) found.push({ pid: p, rank: Number(rank.split('=')[1]) });
    } catch {
      // ended meanwhile
    }
  }
  return found;
}

/** Waits until `pid` has `count` worker descendants, lets them train a while, and sends rank 1 `signal` (default SIGKILL). */
async function killRank1(
  pid: number,
  count = 2,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<{ workers: { pid: number; rank: number }[]; killedAt: number }> {
  let workers: { pid: number; rank: number }[] = [];
  for (let i = 0; i < 600 && workers.length < count; i++) {
    await new Promise((r) => setTimeout(r, 100));
    workers = workersOf(pid);
  }
  assert.equal(workers.length, count, `${count} workers started`);
  await new Promise((r) => setTimeout(r, 4000)); // let training start
  process.kill(workers.find((w) => w.rank === 1)!.pid, signal);
  return { workers, killedAt: Date.now() };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A 2-worker sgd run long enough to be interrupted, launched from source; its stderr is collected. */
function startLongTwoWorkerRun(out: string) {
  const args = [
    '--import',
    'tsx',
    'src/cli.ts',
    'train',
    '--dataset',
    'synthetic',
    '--train-size',
    '2048',
    '--model',
    'mlp',
    '--optimizer',
    'sgd',
    '--batch-size',
    '16',
    '--epochs',
    '50',
    '--backend',
    'cpu',
    '--workers',
    '2',
    '--quiet',
    '--out',
    out,
  ];
  const launcher = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  launcher.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
  return { launcher, exited, stderr: () => stderr };
}

describe('faults', () => {
  it('killing one worker mid-run ends the run as failed within 30 s, naming the rank, with no process left', async () => {
    const out = join(dir, 'killed.json');
    const { launcher, exited, stderr: stderrOf } = startLongTwoWorkerRun(out);
    const { workers, killedAt } = await killRank1(launcher.pid!);
    const code = await exited;
    const stderr = stderrOf();
    const seconds = (Date.now() - killedAt) / 1000;
    assert.ok(seconds < 30, `ended ${seconds} s after the kill`);
    if (process.env.NGD_BENCH_TEST_VERBOSE) console.error(`run ended ${seconds} s after rank 1 was killed`);
    assert.equal(code, 4, stderr);
    assert.match(stderr, /rank 1/);
    const result = readRunResult(out);
    assert.equal(result.status, 'failed');
    assert.equal(result.failureKind, 'infrastructure');
    assert.match(result.error ?? '', /rank 1/);
    for (const w of workers) assert.equal(alive(w.pid), false, `worker rank ${w.rank} (pid ${w.pid}) is gone`);
  });

  it('a stopped (SIGSTOP, not dead) worker ends the run within 30 s, naming the stopped rank, not the healthy one', async () => {
    const out = join(dir, 'stopped.json');
    const { launcher, exited, stderr: stderrOf } = startLongTwoWorkerRun(out);
    const { workers, killedAt } = await killRank1(launcher.pid!, 2, 'SIGSTOP');
    const code = await exited;
    const stderr = stderrOf();
    const seconds = (Date.now() - killedAt) / 1000;
    assert.ok(seconds < 30, `ended ${seconds} s after rank 1 was stopped`);
    if (process.env.NGD_BENCH_TEST_VERBOSE) console.error(`run ended ${seconds} s after rank 1 was stopped`);
    assert.equal(code, 4, stderr);
    const result = readRunResult(out);
    assert.equal(result.failureKind, 'infrastructure');
    assert.match(result.error ?? '', /worker rank 1 was stopped/);
    assert.doesNotMatch(result.error ?? '', /rank 0/);
    for (const w of workers) assert.equal(alive(w.pid), false, `worker rank ${w.rank} (pid ${w.pid}) is gone`);
  });

  it('in a suite, the killed run is recorded as failed and the next run proceeds', async () => {
    const suiteFile = join(dir, 'kill-suite.json');
    const outDir = join(dir, 'kill-suite-out');
    writeTinySuite(suiteFile, {
      name: 'kill-test',
      model: { name: 'mlp', hiddenWidths: [16] },
      dataset: { name: 'synthetic', trainSize: 2048, testSize: 64 },
      batchSizes: [16],
      workers: [2],
      sweep: [{ path: 'epochs', values: [50, 1] }],
      run: { retries: 0 },
    });
    const harness = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', suiteFile, '--out', outDir], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    harness.stdout.on('data', (d) => (output += d));
    harness.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => harness.on('exit', (code) => resolve(code)));
    const { workers } = await killRank1(harness.pid!);
    assert.equal(await exited, 1, output); // 1: a run failed
    const results = readdirSync(outDir)
      .filter((f) => f.endsWith('.json') && f !== 'manifest.json')
      .map((f) => readRunResult(join(outDir, f)));
    const killed = results.find((r) => r.config.epochs === 50)!;
    const next = results.find((r) => r.config.epochs === 1)!;
    assert.equal(killed.status, 'failed');
    assert.equal(killed.failureKind, 'infrastructure');
    assert.match(killed.error ?? '', /rank 1/);
    assert.equal(next.status, 'ok');
    for (const w of workers) assert.equal(alive(w.pid), false, `worker rank ${w.rank} (pid ${w.pid}) is gone`);
  });
});

describe('external launchers: each process is one rank, the world comes from the environment', () => {
  const freePort = async () => {
    const { createServer } = await import('node:net');
    return new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
  };

  it('torchrun-style RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT: two hand-started ranks train together', async () => {
    const port = await freePort();
    const out = join(dir, 'torchrun.json');
    const ranks = [0, 1].map(
      (rank) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...tinyRun('ngd', 'torchrun', ['--verify-replicas'])], {
            cwd: root,
            env: {
              ...process.env,
              RANK: String(rank),
              WORLD_SIZE: '2',
              MASTER_ADDR: '127.0.0.1',
              MASTER_PORT: String(port),
              NGD_BENCH_TOKEN: 'test-token',
            },
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let stderr = '';
          child.stderr.on('data', (d) => (stderr += d));
          child.on('exit', (code) => resolve({ code, stderr }));
        }),
    );
    for (const r of await Promise.all(ranks)) assert.equal(r.code, 0, r.stderr);
    const result = readRunResult(out);
    assert.equal(result.parallel?.launcher, 'torchrun');
    assert.equal(result.parallel?.replicaChecks, 8);
    // Same world, same numbers as our own launcher's 2-worker run.
    const ours = readRunResult(join(dir, 'ngd-w2.json'));
    assert.equal(result.final?.testAccuracy, ours.final?.testAccuracy);
  });

  const mpirun = ['/usr/bin/mpirun', '/usr/local/bin/mpirun'].find(existsSync);
  it('mpirun -n 2 (Open MPI): ranks from OMPI_COMM_WORLD_RANK / SIZE', {
    skip: mpirun ? false : 'Open MPI not installed (scripts/setup-debian.sh installs it)',
  }, async () => {
    const port = await freePort();
    const args = [
      '--allow-run-as-root',
      '--oversubscribe',
      '-n',
      '2',
      '-x',
      'MASTER_ADDR=127.0.0.1',
      '-x',
      `MASTER_PORT=${port}`,
      '-x',
      'NGD_BENCH_TOKEN=mpi-token',
    ];
    const child = spawn(
      mpirun!,
      [...args, process.execPath, '--import', 'tsx', 'src/cli.ts', ...tinyRun('sgd', 'mpirun', ['--verify-replicas'])],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stderr);
    const result = readRunResult(join(dir, 'mpirun.json'));
    assert.equal(result.parallel?.launcher, 'mpirun');
    assert.equal(result.parallel?.replicaChecks, 8);
  });
});
