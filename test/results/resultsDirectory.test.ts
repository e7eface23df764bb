/**
 * One reader of a results directory (src/results/resultsDirectory.ts): check, report, leaderboard and
 * merge agree on what a valid one is. Each hostile directory below was once accepted by some of them
 * (issue 12): a result of another suite, a copied result, one without run identity, an ok run without
 * final metrics, and special files named like results (FIFO, device, symlink loop, directory).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCheck, type CheckIo } from '../../src/check/runCheck.js';
import { mergeResults, MergeError } from '../../src/harness/mergeResults.js';
import { readResultsDirectory, ResultsDirectoryError } from '../../src/results/resultsDirectory.js';
import { tryReadRunResult } from '../../src/results/runResultFile.js';
import { fixtureRuns, makeResult, writeResultsDir } from '../fixtures/check/makeResults.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ngd-bench-resultsdir-'));
let counter = 0;

const [first, second] = fixtureRuns();

/** A valid two-run directory, then `spoil` applied to it. */
function hostileDir(spoil: (dir: string) => void): string {
  const dir = writeResultsDir(join(tmp, `case-${counter++}`), [makeResult(first), makeResult(second)]);
  spoil(dir);
  return dir;
}

const resultPath = (dir: string, id = first.id) => join(dir, `${id}.json`);
const editResult = (dir: string, edit: (value: Record<string, unknown>) => void) => {
  const value = JSON.parse(readFileSync(resultPath(dir), 'utf8')) as Record<string, unknown>;
  edit(value);
  writeFileSync(resultPath(dir), JSON.stringify(value));
};

const CASES: readonly { name: string; spoil: (dir: string) => void; message: RegExp }[] = [
  {
    name: 'a result of another suite',
    spoil: (dir) => editResult(dir, (r) => Object.assign(r.run as object, { suite: 'paper-fashion-mnist' })),
    message: /result of suite 'paper-fashion-mnist' in a results directory of suite 'check-test'/,
  },
  {
    name: 'a copied result (a run counted twice)',
    spoil: (dir) => copyFileSync(resultPath(dir), join(dir, 'copy.json')),
    message: /copy\.json: holds run '.*'; a results directory names each result <run id>\.json/,
  },
  { name: 'a result without run identity', spoil: (dir) => editResult(dir, (r) => delete r.run), message: /result has no run identity/ },
  {
    name: "status 'ok' with final: null",
    spoil: (dir) => editResult(dir, (r) => (r.final = null)),
    message: /status 'ok' without final metrics/,
  },
  {
    name: 'a FIFO named like a result',
    spoil: (dir) => execFileSync('mkfifo', [join(dir, 'fifo.json')]),
    message: /fifo\.json: cannot read result file: a FIFO, not a regular file/,
  },
  {
    name: 'a symlink to a device',
    spoil: (dir) => symlinkSync('/dev/zero', join(dir, 'zero.json')),
    message: /zero\.json: cannot read result file: a device, not a regular file/,
  },
  {
    name: 'a symlink loop',
    spoil: (dir) => {
      symlinkSync(join(dir, 'b.json'), join(dir, 'a.json'));
      symlinkSync(join(dir, 'a.json'), join(dir, 'b.json'));
    },
    message: /a\.json: cannot read result file: a symbolic link loop/,
  },
  {
    name: 'a directory named like a result',
    spoil: (dir) => mkdirSync(join(dir, 'sub.json')),
    message: /sub\.json: cannot read result file: a directory, not a regular file/,
  },
  {
    name: 'a huge number',
    spoil: (dir) => writeFileSync(resultPath(dir), readFileSync(resultPath(dir), 'utf8').replace(/"seed": \d+/, '"seed": 1e999')),
    message: /invalid result file: .*not a finite number/,
  },
];

function quietIo(): CheckIo & { err: () => string } {
  let err = '';
  return {
    stdout: () => {},
    stderr: (text: string) => {
      err += text;
    },
    env: {},
    now: () => new Date(0),
    err: () => err,
  };
}

describe('one reader of a results directory', () => {
  it('a valid directory reads the same for everyone', () => {
    const dir = hostileDir(() => {});
    const read = readResultsDirectory(dir);
    assert.equal(read.suite, 'check-test');
    assert.deepEqual(
      read.runs.map((r) => r.file),
      [first.id, second.id].sort().map((id) => `${id}.json`),
    );
    assert.equal(mergeResults({ dirs: [dir], outDir: join(tmp, `merged-${counter++}`) }).merged, 2);
  });

  for (const c of CASES) {
    it(`${c.name}: refused by the reader, check and merge alike, in one line naming the file`, () => {
      const dir = hostileDir(c.spoil);
      assert.throws(
        () => readResultsDirectory(dir),
        (e: unknown) => e instanceof ResultsDirectoryError && c.message.test(e.message) && !e.message.includes('\n'),
      );
      const io = quietIo();
      assert.equal(runCheck({ resultsDir: dir, baseline: join(dir, 'no-baseline.json'), suite: join(dir, 'none.json') }, io), 2);
      assert.match(io.err(), c.message);
      assert.equal(io.err().trim().split('\n').length, 1);
      const out = join(tmp, `merged-${counter++}`);
      assert.throws(
        () => mergeResults({ dirs: [dir], outDir: out }),
        (e: unknown) => e instanceof MergeError && e.problems.some((p) => c.message.test(p)),
      );
    });
  }

  it("the harness judges a child's result file by the same rules", () => {
    const dir = hostileDir((d) => editResult(d, (r) => (r.final = null)));
    const read = tryReadRunResult(resultPath(dir));
    assert.equal(read.kind, 'invalid');
    assert.equal(tryReadRunResult(join(dir, 'absent.json')).kind, 'missing');
  });

  it('every command that reads results exits 2 on a FIFO in the directory, in one line, without hanging', () => {
    const dir = hostileDir((d) => execFileSync('mkfifo', [join(d, 'fifo.json')]));
    const commands = [
      ['check', dir, '--baseline', join(tmp, 'none.json'), '--suite', join(tmp, 'none.yaml')],
      ['report', dir, '--out', join(tmp, 'fifo-report.md')],
      ['leaderboard', dir],
      ['merge', dir, '--out', join(tmp, 'fifo-merged')],
    ];
    for (const args of commands) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${args[0]} printed one line: ${r.stderr}`);
      assert.match(lines[0], /^ngd-bench: error: .*fifo\.json: cannot read result file: a FIFO, not a regular file$/);
    }
  });
});
