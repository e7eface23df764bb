/**
 * Faults found by trying ngd-bench as a hostile user would: two `run` processes on one results
 * directory, output paths that cannot be written (checked before any work), timeouts that a timer
 * cannot hold, and flags that only look like numbers. Each is bad input: exit 2, one line, nothing lost.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LOCK_FILE, lockResultsDir, ResultsDirInUseError } from '../src/harness/dirLock.js';
import { runCli } from './helpers/runCli.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ngd-bench-reliability-'));

/** A pid that is certainly not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('one writer per results directory', () => {
  it('a second lock on a directory in use is refused, naming the holder; released, it can be taken again', () => {
    const dir = join(tmp, 'locked');
    const release = lockResultsDir(dir);
    const nested = lockResultsDir(dir); // the same process (a tuned suite's phases) may take it again
    nested();
    assert.ok(existsSync(join(dir, LOCK_FILE)), 'a nested release leaves the outer lock');
    writeFileSync(join(dir, LOCK_FILE), `1 ${hostname()}\n`); // pid 1 is alive and is not us
    assert.throws(
      () => lockResultsDir(dir),
      (e: unknown) => e instanceof ResultsDirInUseError && /in use by another ngd-bench process \(pid 1\)/.test(e.message),
    );
    release(); // not ours any more: left alone
    assert.ok(existsSync(join(dir, LOCK_FILE)));
  });

  it('a stale lock (its process is gone) is taken over', async () => {
    const dir = join(tmp, 'stale');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, LOCK_FILE), `${await deadPid()} ${hostname()}\n`);
    const release = lockResultsDir(dir);
    release();
    assert.ok(!existsSync(join(dir, LOCK_FILE)));
  });

  it('`run` on a directory another live process holds: exit 2, one line, and nothing in it is touched', () => {
    const dir = join(tmp, 'busy');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, LOCK_FILE), `${process.pid} ${hostname()}\n`);
    const r = runCli(['run', join(root, 'suites/smoke.json'), '--out', dir, '--quiet']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^ngd-bench: error: ${dir} is in use by another ngd-bench process \\(pid ${process.pid}\\)`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.deepEqual(readdirSync(dir), [LOCK_FILE]);
  });
});

describe('output paths are checked before any work', () => {
  const train = ['train', '--dataset', 'synthetic', '--backend', 'cpu', '--hidden-widths', '8', '--quiet'];
  const file = join(tmp, 'a-file');
  writeFileSync(file, 'x');
  for (const [what, args, message] of [
    ['train --out a directory', [...train, '--out', tmp], /--out .*: is a directory; give the path of a file to write/],
    [
      'train --out under a file',
      [...train, '--out', join(file, 'r.json')],
      /--out .*: cannot create the folder .* \(a file of that name is in the way\)/,
    ],
    ['train --weights-out a directory', [...train, '--weights-out', tmp], /--weights-out .*: is a directory/],
    ['run --out an existing file', ['run', join(root, 'suites/smoke.json'), '--out', file], /--out .*: is a file, not a results directory/],
    ['--workers 0', [...train, '--workers', '0'], /'0' is not a positive integer/],
    ['report --out a directory', ['report', join(root, 'test/fixtures/report/results'), '--out', tmp], /--out .*: is a directory/],
    [
      'leaderboard --out a directory',
      ['leaderboard', join(root, 'test/fixtures/report/results'), '--out', tmp],
      /--out .*: is a directory/,
    ],
  ] as const) {
    it(`${what}: exit 2, one line`, () => {
      const r = runCli([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      if (args[0] === 'report') assert.ok(!existsSync(`${tmp}.files`), 'a refused report leaves no companion directory');
    });
  }
});

describe('timeouts a timer can hold', () => {
  for (const [format, value] of [
    ['json', '40000'],
    ['yaml', '.inf'],
  ] as const) {
    it(`run.timeoutMinutes ${value} (${format}) is refused at /run/timeoutMinutes`, () => {
      const suite = join(tmp, `timeout.${format}`);
      const body =
        format === 'json'
          ? JSON.stringify({
              name: 't',
              optimizers: [{ name: 'sgd' }],
              batchSizes: [64],
              dataset: { name: 'synthetic' },
              run: { timeoutMinutes: Number(value) },
            })
          : `name: t\noptimizers: [{ name: sgd }]\nbatchSizes: [64]\ndataset: { name: synthetic }\nrun: { timeoutMinutes: ${value} }\n`;
      writeFileSync(suite, body);
      const r = runCli(['validate', suite]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        format === 'json' ? /\/run\/timeoutMinutes: must be <= 35791/ : /\/run\/timeoutMinutes: Infinity is not a finite number/,
      );
    });
  }
});

describe('documents built to exhaust a parser are bad input', () => {
  it('validate on many hostile files at once: each refused on its own line naming the file, exit 2, --json lists them all', () => {
    const dir = join(tmp, 'hostile');
    mkdirSync(dir, { recursive: true });
    let bomb = 'a: &a [x, x, x, x, x, x, x, x, x]\n';
    for (const [n, p] of ['ba', 'cb', 'dc', 'ed', 'fe', 'gf', 'hg', 'ih'])
      bomb += `${n}: &${n} [*${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}]\n`;
    const files: Record<string, [string, RegExp]> = {
      'bomb.yaml': [bomb, /YAML aliases expand beyond the limit of 100/],
      'deep.yaml': [`name: x\na: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`, /nesting too deep to read/],
      'deep.json': [`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, /nesting deeper than 64 levels/],
      'huge.json': [`{"description":"${'a'.repeat(2 << 20)}"}`, /the file is \d+ bytes; the limit is 1048576 bytes \(1 MiB\)/],
      'dup.json': ['{"name":"x","name":"y"}', /duplicate key "name"/],
      'inf.json': [
        '{"name":"x","optimizers":[{"name":"sgd","lr":1e999}],"batchSizes":[64]}',
        /\/optimizers\/0\/lr: Infinity is not a finite number/,
      ],
      'matrix.json': [
        JSON.stringify({
          name: 'x',
          dataset: { name: 'synthetic' },
          optimizers: [{ name: 'sgd' }],
          batchSizes: [64],
          seeds: [...Array(300).keys()],
          sweep: [{ path: 'optimizer.lr', values: [...Array(300).keys()].map((i) => (i + 1) / 1000) }],
        }),
        /the suite expands to 90000 runs; the limit is 10000/,
      ],
    };
    for (const [name, [text]] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const names = Object.keys(files).map((n) => join(dir, n));
    const t0 = performance.now();
    const r = runCli(['validate', ...names]);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, names.length, r.stderr);
    for (const [name, [, message]] of Object.entries(files)) {
      const line = lines.find((l) => l.startsWith(`${join(dir, name)}: `));
      assert.ok(line, `no line for ${name}: ${r.stderr}`);
      assert.match(line, message);
    }
    const json = runCli(['validate', '--json', ...names]);
    assert.equal(json.code, 2);
    const report = JSON.parse(json.stdout) as { file: string; ok: boolean }[];
    assert.equal(report.length, names.length);
    assert.ok(report.every((f) => !f.ok));
    if (process.env.NGD_BENCH_TEST_VERBOSE)
      console.error(`validate on ${names.length} hostile files: ${seconds.toFixed(1)} s, process start included`);
  });
});

describe('launcher variables are bad input, named, before any work', () => {
  const train = [
    'train',
    '--dataset',
    'synthetic',
    '--backend',
    'cpu',
    '--hidden-widths',
    '8',
    '--quiet',
    '--out',
    join(tmp, 'never.json'),
  ];
  for (const [env, message] of [
    [{ RANK: 'one', WORLD_SIZE: '2' }, /RANK="one" is not a non-negative integer/],
    [{ RANK: '2', WORLD_SIZE: '2' }, /RANK=2 must be below WORLD_SIZE=2/],
    [{ NGD_BENCH_COLLECTIVE_TIMEOUT_MS: '5s' }, /NGD_BENCH_COLLECTIVE_TIMEOUT_MS="5s" is not a non-negative integer/],
    [{ NGD_BENCH_BIND_ADDR: 'not an address!' }, /NGD_BENCH_BIND_ADDR="not an address!" is not an IP address or host name/],
  ] as const) {
    it(`${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}: exit 2, one line`, () => {
      const r = runCli([...train], { ...env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(!existsSync(join(tmp, 'never.json')));
    });
  }
});

describe('inputs that would fail every run, and writes that fail', () => {
  it('a dataset.dataDir that does not exist is refused by validate at /dataset/dataDir', () => {
    const suite = join(tmp, 'nodata.json');
    writeFileSync(
      suite,
      JSON.stringify({
        name: 'nodata',
        dataset: { name: 'fashion-mnist', dataDir: join(tmp, 'no-such-dir') },
        optimizers: [{ name: 'sgd' }],
        batchSizes: [64],
      }),
    );
    const r = runCli(['validate', suite]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /\/dataset\/dataDir: no such directory: .*no-such-dir/);
  });

  it('a failed atomic write names the file and the cause, and leaves no temp file', async () => {
    const { writeTextAtomic } = await import('../src/results/writeJsonAtomic.js');
    mkdirSync(join(tmp, 'dir-as-target'), { recursive: true });
    assert.throws(() => writeTextAtomic(join(tmp, 'dir-as-target'), 'x'), /^Error: cannot write .*dir-as-target: /);
    assert.ok(!readdirSync(tmp).some((f) => f.endsWith('.tmp')));
  });
});
