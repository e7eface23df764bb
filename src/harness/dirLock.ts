/**
 * One writer per results directory: `run` (and `reproduce`) hold `DIR/.lock` while they launch runs,
 * so two processes started on the same --out cannot both write the same run's pending and result files.
 * The lock names its holder (pid and host); a lock whose process is gone is stale and taken over. A
 * process that already holds the lock may take it again (a tuned suite's phases nest).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BadInputError } from '../util/errors.js';

export const LOCK_FILE = '.lock';

export class ResultsDirInUseError extends BadInputError {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock of `dir` (creating `dir`); returns the release. Throws ResultsDirInUseError if another live process holds it. */
export function lockResultsDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const me = `${process.pid} ${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${me}\n`, { flag: 'wx' });
      const release = () => {
        try {
          if (readFileSync(file, 'utf8').trim() === me) rmSync(file, { force: true });
        } catch {
          // already gone
        }
        process.off('exit', release);
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = '';
    try {
      holder = readFileSync(file, 'utf8').trim();
    } catch {
      continue; // released between our two calls: try again
    }
    if (holder === me) return () => {}; // nested: the outer holder releases
    const [pidText, host] = holder.split(' ');
    const pid = Number(pidText);
    if (host === hostname() && Number.isInteger(pid) && pid > 0 && !alive(pid)) {
      rmSync(file, { force: true }); // stale: its process is gone
      continue;
    }
    throw new ResultsDirInUseError(
      `${dir} is in use by another ngd-bench process (pid ${pidText}${host && host !== hostname() ? ` on ${host}` : ''}); wait for it, or use another --out (remove ${file} only if that process is gone)`,
    );
  }
  throw new ResultsDirInUseError(`${dir}: could not take ${LOCK_FILE}`);
}

/** Runs `work` holding the lock of `dir`, released however `work` ends. */
export async function withResultsDirLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const release = lockResultsDir(dir);
  try {
    return await work();
  } finally {
    release();
  }
}
