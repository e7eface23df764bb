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
    assert.throws(() => lockResultsDir(dir), (e: unknown) => e instanceof ResultsDirInUseError && /in use by another ngd-bench process \(pid 1\)/.test(e.message));
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
    ['train --out under a file', [...train, '--out', join(file, 'r.json')], /--out .*: cannot create the folder .* \(a file of that name is in the way\)/],
    ['train --weights-out a directory', [...train, '--weights-out', tmp], /--weights-out .*: is a directory/],
    ['run --out an existing file', ['run', join(root, 'suites/smoke.json'), '--out', file], /--out .*: is a file, not a results directory/],
    ['--workers 0', [...train, '--workers', '0'], /'0' is not a positive integer/],
  ] as const) {
    it(`${what}: exit 2, one line`, () => {
      const r = runCli([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }
});

describe('timeouts a timer can hold', () => {
  for (const [format, value] of [['json', '40000'], ['yaml', '.inf']] as const) {
    it(`run.timeoutMinutes ${value} (${format}) is refused at /run/timeoutMinutes`, () => {
      const suite = join(tmp, `timeout.${format}`);
      const body =
        format === 'json'
          ? JSON.stringify({ name: 't', optimizers: [{ name: 'sgd' }], batchSizes: [64], dataset: { name: 'synthetic' }, run: { timeoutMinutes: Number(value) } })
          : `name: t\noptimizers: [{ name: sgd }]\nbatchSizes: [64]\ndataset: { name: synthetic }\nrun: { timeoutMinutes: ${value} }\n`;
      writeFileSync(suite, body);
      const r = runCli(['validate', suite]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /\/run\/timeoutMinutes: must be <= 35791/);
    });
  }
});
