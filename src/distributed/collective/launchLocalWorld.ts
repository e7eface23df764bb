/**
 * Our own launcher for one host: starts N worker processes that find their rank, the world size, rank
 * 0's port and a fresh random token in the environment (NGD_BENCH_*), and supervises them. The first
 * worker to fail (by time) is the one reported; the others are then stopped (SIGTERM, SIGKILL after a
 * grace period), and their failures, caused by the first, are not reported.
 *
 * Children are started with argument arrays (never a shell), each with its own thread budget so N
 * workers do not oversubscribe the cores. If this process exits or receives SIGINT/SIGTERM, execa's
 * `cleanup` kills the workers. Workers should be started as `node ...` directly: a wrapper (npx, a
 * shell) would be the one that gets the signals, and its own children could outlive it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { formatSeconds } from './deadline.js';
import { findFreePort } from './freePort.js';
import { LOOPBACK } from './worldInfo.js';
import { lastMeaningfulLine } from '../../util/lastMeaningfulLine.js';

export const KILL_GRACE_MS = 3_000;
export const STOPPED_LIMIT_MS = 10_000;
const SUPERVISE_EVERY_MS = 500;

/** The scheduler state of a process ('R', 'S', 'T' stopped, 't' traced, 'Z' ...), or null where /proc cannot tell. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

export interface LocalWorldOptions {
  /** Executable, e.g. process.execPath. */
  command: string;
  /** Arguments, the same for every worker (the rank comes from the environment). */
  args: readonly string[];
  workers: number;
  /** Extra environment for every worker, on top of this process's. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Whole-world wall-clock limit; none by default. */
  timeoutMs?: number;
  /** OPENBLAS_NUM_THREADS and OMP_NUM_THREADS per worker (default: the cores divided among the workers, at least 1). */
  threadsPerWorker?: number;
  /**
   * One GPU per worker: CUDA_VISIBLE_DEVICES = the rank-th device of the inherited CUDA_VISIBLE_DEVICES
   * list, or the rank itself when there is none (default false: the environment decides).
   */
  pinGpus?: boolean;
  /** Grace between SIGTERM and SIGKILL when stopping workers (default 3 s). */
  killGraceMs?: number;
  /**
   * A worker stopped (SIGSTOP, a debugger: state T in /proc) this long fails the world, naming it
   * (default 10 s). Its peers would otherwise wait in a collective for the whole collective timeout and
   * then be the ones blamed.
   */
  stoppedLimitMs?: number;
  /** Each line a worker prints on stdout (default: written to this stdout prefixed with `[rank r] `). */
  onStdoutLine?(rank: number, line: string): void;
  /** Each line a worker prints on stderr (default: written to this stderr prefixed with `[rank r] `). */
  onStderrLine?(rank: number, line: string): void;
}

interface OutcomeBase {
  /** Per rank: the exit code, or null if a signal ended it (or it never started). */
  exitCodes: (number | null)[];
  /** Per rank: the signal that ended it, or null. */
  signals: (string | null)[];
  /** Per rank: the process id (undefined if it could not be started). */
  pids: (number | undefined)[];
  seconds: number;
}

export type LocalWorldOutcome =
  | (OutcomeBase & { ok: true; exitCodes: number[] })
  | (OutcomeBase & {
      ok: false;
      /** The rank that failed first; null when the world timed out. */
      failedRank: number | null;
      /** One line, e.g. "worker rank 1 was killed by SIGKILL" or "worker rank 1 exited with code 4: Error: boom". */
      reason: string;
    });

interface FirstFailure {
  rank: number | null;
  /** Filled in once the failing worker's stderr has been read to the end. */
  describe: () => string;
}

export async function launchLocalWorld(options: LocalWorldOptions): Promise<LocalWorldOutcome> {
  const { workers } = options;
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers ${workers} must be a positive integer`);
  const threads = options.threadsPerWorker ?? Math.max(1, Math.floor(availableParallelism() / workers));
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threadsPerWorker ${threads} must be a positive integer`);
  const gpus = options.pinGpus ? gpuPerRank(workers, options.env?.CUDA_VISIBLE_DEVICES ?? process.env.CUDA_VISIBLE_DEVICES) : null;
  const graceMs = options.killGraceMs ?? KILL_GRACE_MS;
  const port = await findFreePort(LOOPBACK);
  const token = randomBytes(32).toString('hex');
  const started = performance.now();

  const lastStderrLines: string[][] = Array.from({ length: workers }, () => []);
  const exitCodes: (number | null)[] = Array(workers).fill(null);
  const signals: (string | null)[] = Array(workers).fill(null);
  let failure: FirstFailure | null = null;

  const subprocesses: ResultPromise[] = [];
  const finished: Promise<unknown>[] = [];
  const stopAll = () => {
    for (const subprocess of subprocesses) if (subprocess.exitCode === null && subprocess.signalCode === null) subprocess.kill('SIGTERM');
  };
  const recordFailure = (first: FirstFailure) => {
    if (failure) return;
    failure = first;
    stopAll();
  };

  for (let rank = 0; rank < workers; rank++) {
    const subprocess = execa(options.command, [...options.args], {
      cwd: options.cwd,
      env: {
        ...options.env,
        NGD_BENCH_RANK: String(rank),
        NGD_BENCH_WORLD_SIZE: String(workers),
        NGD_BENCH_MASTER_ADDR: LOOPBACK,
        NGD_BENCH_MASTER_PORT: String(port),
        NGD_BENCH_TOKEN: token,
        OPENBLAS_NUM_THREADS: String(threads),
        OMP_NUM_THREADS: String(threads),
        ...(gpus ? { CUDA_VISIBLE_DEVICES: gpus[rank] } : {}),
      },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
      forceKillAfterDelay: graceMs,
    });
    subprocesses.push(subprocess);
    // A worker that cannot be started never emits 'exit'; its result says why, at once.
    finished.push(
      subprocess.then((result) => {
        if (result.exitCode === undefined && result.signal === undefined) {
          recordFailure({
            rank,
            describe: () => `worker rank ${rank} could not be started: ${result.originalMessage ?? result.shortMessage ?? 'unknown error'}`,
          });
        }
      }),
    );
    forwardLines(subprocess.stdout, (line) => (options.onStdoutLine ?? prefixed(process.stdout))(rank, line));
    forwardLines(subprocess.stderr, (line) => {
      rememberLine(lastStderrLines[rank], line);
      (options.onStderrLine ?? prefixed(process.stderr))(rank, line);
    });
    // 'exit' orders failures by when they happened; the result (below) waits for output to drain.
    subprocess.once('exit', (code, signal) => {
      exitCodes[rank] = code;
      signals[rank] = signal;
      if (signal !== null) recordFailure({ rank, describe: () => `worker rank ${rank} was killed by ${signal}` });
      else if (code !== 0) {
        recordFailure({
          rank,
          describe: () => `worker rank ${rank} exited with code ${code}${suffix(lastMeaningfulLine(lastStderrLines[rank]))}`,
        });
      }
    });
  }

  // Supervision: a stopped worker is found within stoppedLimitMs (plus one poll) and killed with its peers.
  const stoppedLimitMs = options.stoppedLimitMs ?? STOPPED_LIMIT_MS;
  const stoppedSince: (number | null)[] = Array(workers).fill(null);
  const supervisor = setInterval(() => {
    subprocesses.forEach((subprocess, rank) => {
      if (subprocess.pid === undefined || subprocess.exitCode !== null || subprocess.signalCode !== null) return;
      const state = processState(subprocess.pid);
      if (state !== 'T' && state !== 't') {
        stoppedSince[rank] = null;
        return;
      }
      const now = performance.now();
      stoppedSince[rank] ??= now;
      if (now - stoppedSince[rank] < stoppedLimitMs) return;
      recordFailure({
        rank,
        describe: () => `worker rank ${rank} was stopped (not running) for ${formatSeconds(stoppedLimitMs)}; the run was ended`,
      });
      subprocess.kill('SIGKILL'); // a stopped process cannot act on SIGTERM
    });
  }, SUPERVISE_EVERY_MS);
  supervisor.unref();

  let timer: NodeJS.Timeout | undefined;
  if (options.timeoutMs !== undefined) {
    timer = setTimeout(
      () => recordFailure({ rank: null, describe: () => `timed out after ${formatSeconds(options.timeoutMs!)}` }),
      options.timeoutMs,
    );
  }
  await Promise.all(finished); // every worker exited and its output was read to the end
  clearTimeout(timer);
  clearInterval(supervisor);

  const base: OutcomeBase = { exitCodes, signals, pids: subprocesses.map((s) => s.pid), seconds: (performance.now() - started) / 1000 };
  const first = failure as FirstFailure | null;
  if (first) return { ...base, ok: false, failedRank: first.rank, reason: first.describe() };
  return { ...base, ok: true, exitCodes: exitCodes.map((code) => code ?? 0) };
}

/** The device each rank gets: from the visible list when there is one (it must be long enough), else 0..N-1. */
function gpuPerRank(workers: number, visible: string | undefined): string[] {
  const devices = visible
    ?.split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  if (!devices || devices.length === 0) return Array.from({ length: workers }, (_, rank) => String(rank));
  if (devices.length < workers)
    throw new RangeError(`pinGpus: ${workers} workers, but CUDA_VISIBLE_DEVICES lists ${devices.length} device(s)`);
  return devices.slice(0, workers);
}

function forwardLines(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}

function prefixed(out: NodeJS.WriteStream): (rank: number, line: string) => void {
  return (rank, line) => out.write(`[rank ${rank}] ${line}\n`);
}

const REMEMBERED_LINES = 20;

function rememberLine(lines: string[], line: string): void {
  lines.push(line);
  if (lines.length > REMEMBERED_LINES) lines.shift();
}

function suffix(line: string | null): string {
  return line === null ? '' : `: ${line}`;
}
