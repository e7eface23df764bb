/**
 * One launch of one child process, and making sure nothing of it is left afterwards.
 *
 * The child is started in its own process group (`detached`), so that
 *  - a Ctrl-C at the terminal reaches only the harness, which then stops the child deliberately;
 *  - the child's own children (the workers of a multi-process run) can be signalled as a group.
 * Stopping (timeout or cancel): SIGTERM to the whole group (execa's cancelSignal sends it to the
 * child itself), then execa's forceKillAfterDelay sends SIGKILL to the child if it has not exited after
 * `killGraceMs`. Whenever the child exits, for whatever reason, anything still in its group is killed
 * with SIGKILL, and so is the group if the harness process itself exits while a child is running.
 */
import { execa } from 'execa';
import type { ChildCommand } from './childCommand.js';
import { LineSplitter } from './stderrTail.js';
import { firstLine } from '../util/errors.js';

export interface ChildExit {
  /** Exit code, or null if killed by a signal or never started. */
  readonly exitCode: number | null;
  /** The signal that ended the child, if one did. */
  readonly signal: string | null;
  /** Why the child could not be started (ENOENT, EACCES...), else null. */
  readonly spawnError: string | null;
  /** The harness stopped it at the run's time limit. */
  readonly timedOut: boolean;
  /** The harness stopped it because the suite was interrupted. */
  readonly canceled: boolean;
  readonly seconds: number;
  readonly pid: number | null;
}

export interface LaunchOptions {
  readonly command: ChildCommand;
  readonly timeoutSeconds: number;
  /** Aborting stops the child (SIGTERM to its group, SIGKILL after killGraceMs). */
  readonly signal?: AbortSignal;
  readonly killGraceMs: number;
  /** Every stderr line, as it arrives. */
  readonly onLine: (line: string) => void;
  readonly onSpawn?: (pid: number) => void;
}

/** Sends `signal` to the process group led by `pid`; false if the group no longer exists. */
export function signalProcessGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, signal);
    return true;
  } catch {
    return false;
  }
}

export async function launchChild(options: LaunchOptions): Promise<ChildExit> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  if (options.signal?.aborted) {
    return { exitCode: null, signal: null, spawnError: null, timedOut: false, canceled: true, seconds: 0, pid: null };
  }

  const stop = new AbortController();
  let timedOut = false;
  let canceled = false;
  const onAbort = () => {
    canceled = true;
    stop.abort();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => {
      timedOut = true;
      stop.abort();
    },
    Math.max(1, Math.round(options.timeoutSeconds * 1000)),
  );
  let pid: number | undefined;
  const killGroup = () => {
    if (pid !== undefined) signalProcessGroup(pid, 'SIGKILL');
  };
  process.on('exit', killGroup);
  const splitter = new LineSplitter(options.onLine);

  try {
    const { command } = options;
    const subprocess = execa(command.file, [...command.args], {
      cwd: command.cwd,
      env: command.env,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      detached: true,
      cancelSignal: stop.signal,
      killSignal: 'SIGTERM',
      forceKillAfterDelay: options.killGraceMs,
    });
    pid = subprocess.pid;
    if (pid !== undefined) {
      options.onSpawn?.(pid);
      stop.signal.addEventListener('abort', () => signalProcessGroup(pid!, 'SIGTERM'), { once: true });
      // Whatever the child leaves behind dies with it (this also closes the stderr pipe that a
      // leftover grandchild might hold open, which would otherwise keep us waiting).
      subprocess.once('exit', killGroup);
    }
    subprocess.stderr?.setEncoding('utf8');
    subprocess.stderr?.on('data', (chunk: string) => splitter.write(chunk));
    const r = await subprocess;
    splitter.end();
    killGroup();
    const exitCode = typeof r.exitCode === 'number' ? r.exitCode : null;
    const signal = r.signal ?? null;
    const spawnError =
      exitCode === null && signal === null && !timedOut && !canceled
        ? (r.originalMessage ?? r.shortMessage ?? r.message ?? 'unknown error').split('\n')[0]
        : null;
    return { exitCode, signal, spawnError, timedOut, canceled, seconds: seconds(), pid: pid ?? null };
  } catch (error) {
    killGroup();
    return {
      exitCode: null,
      signal: null,
      spawnError: firstLine(error),
      timedOut,
      canceled,
      seconds: seconds(),
      pid: pid ?? null,
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    process.off('exit', killGroup);
  }
}
