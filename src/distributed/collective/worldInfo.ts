/**
 * Who am I in the data-parallel world, and where is rank 0? Read from the environment a launcher set:
 * our own (`launchLocalWorld`), Open MPI's mpirun, Slurm's srun or PyTorch's torchrun, in that order.
 * A Slurm batch script (sbatch) outside any srun step is not a rank: a world of one, free to start its own.
 *
 * Token: every connection presents it and a wrong one is refused, which keeps other jobs and stray
 * scanners out of a world. `NGD_BENCH_TOKEN` sets it; under an external launcher without it, a token
 * is derived from the job id, which keeps concurrent jobs apart but is NOT a secret (anyone on the
 * network who can guess the job id can join). For multi-host runs set a random NGD_BENCH_TOKEN and
 * bind (`NGD_BENCH_BIND_ADDR`) to a private interface only; the traffic itself is not encrypted.
 */
import { isIP } from 'node:net';
import { WorldConfigError } from './errors.js';

export { WorldConfigError } from './errors.js';

export type Launcher = 'ngd-bench' | 'mpirun' | 'slurm' | 'torchrun' | 'single';

export interface WorldInfo {
  rank: number;
  worldSize: number;
  /** Where rank 0 listens for the rendezvous. */
  masterAddr: string;
  /** Rank 0's rendezvous port (0 only in a world of one). */
  masterPort: number;
  /** The local address this rank's listeners bind to (loopback unless told otherwise). */
  bindAddr: string;
  /** Shared by all ranks of one world; '' in a world of one. */
  token: string;
  launcher: Launcher;
  /** This rank's index among the ranks on its host: which of the host's GPUs it takes by default. */
  localRank: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const LOOPBACK = '127.0.0.1';
/** RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens. */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

interface ExternalLauncher {
  launcher: 'mpirun' | 'slurm' | 'torchrun';
  rankVar: string;
  sizeVar: string;
  /** Variables identifying the job, joined into a fallback token (all that are set). */
  jobIdVars: readonly string[];
  /**
   * Set only in the processes the launcher started as ranks. Slurm's batch script (sbatch) has
   * SLURM_PROCID=0 and the allocation's SLURM_NTASKS too, but it is no rank: only the tasks of a job
   * step (srun) have SLURM_STEP_ID, and their SLURM_NTASKS is the step's.
   */
  rankOnlyWith?: string;
  /** The launcher's index of this rank on its host. */
  localRankVar: string;
}

const EXTERNAL_LAUNCHERS: readonly ExternalLauncher[] = [
  {
    launcher: 'mpirun',
    rankVar: 'OMPI_COMM_WORLD_RANK',
    sizeVar: 'OMPI_COMM_WORLD_SIZE',
    jobIdVars: ['OMPI_MCA_orte_hnp_uri', 'PMIX_NAMESPACE'],
    localRankVar: 'OMPI_COMM_WORLD_LOCAL_RANK',
  },
  {
    launcher: 'slurm',
    rankVar: 'SLURM_PROCID',
    sizeVar: 'SLURM_NTASKS',
    jobIdVars: ['SLURM_JOB_ID', 'SLURM_STEP_ID'],
    rankOnlyWith: 'SLURM_STEP_ID',
    localRankVar: 'SLURM_LOCALID',
  },
  { launcher: 'torchrun', rankVar: 'RANK', sizeVar: 'WORLD_SIZE', jobIdVars: ['TORCHELASTIC_RUN_ID'], localRankVar: 'LOCAL_RANK' },
];

/** The world this process belongs to; a world of one when no launcher variable is set. */
export function worldFromEnv(env: Env = process.env): WorldInfo {
  const bindAddr = envValue(env, 'NGD_BENCH_BIND_ADDR') ?? LOOPBACK;
  if (isIP(bindAddr) === 0 && !HOSTNAME.test(bindAddr)) {
    throw new WorldConfigError(
      `NGD_BENCH_BIND_ADDR=${JSON.stringify(bindAddr)} is not an IP address or host name (e.g. 0.0.0.0 to listen on every interface)`,
    );
  }
  if (envValue(env, 'NGD_BENCH_RANK') !== undefined || envValue(env, 'NGD_BENCH_WORLD_SIZE') !== undefined) {
    return ownLauncherWorld(env, bindAddr);
  }
  for (const external of EXTERNAL_LAUNCHERS) {
    if (external.rankOnlyWith !== undefined && envValue(env, external.rankOnlyWith) === undefined) continue;
    if (envValue(env, external.rankVar) !== undefined) return externalLauncherWorld(external, env, bindAddr);
  }
  return { rank: 0, worldSize: 1, masterAddr: LOOPBACK, masterPort: 0, bindAddr, token: '', launcher: 'single', localRank: 0 };
}

function ownLauncherWorld(env: Env, bindAddr: string): WorldInfo {
  const { rank, worldSize } = rankAndSize(env, 'NGD_BENCH_RANK', 'NGD_BENCH_WORLD_SIZE');
  const masterAddr = envValue(env, 'NGD_BENCH_MASTER_ADDR') ?? LOOPBACK;
  // launchLocalWorld puts every rank on one host; a hand-made multi-host world says NGD_BENCH_LOCAL_RANK.
  const localRank = localRankOf(env, 'NGD_BENCH_LOCAL_RANK', rank);
  if (worldSize === 1)
    return {
      rank,
      worldSize,
      masterAddr,
      masterPort: 0,
      bindAddr,
      token: envValue(env, 'NGD_BENCH_TOKEN') ?? '',
      launcher: 'ngd-bench',
      localRank,
    };
  const masterPort = requiredPort(env, ['NGD_BENCH_MASTER_PORT']);
  const token = envValue(env, 'NGD_BENCH_TOKEN');
  if (token === undefined) throw new WorldConfigError('NGD_BENCH_TOKEN is not set (NGD_BENCH_WORLD_SIZE > 1 needs a shared token)');
  return { rank, worldSize, masterAddr, masterPort, bindAddr, token, launcher: 'ngd-bench', localRank };
}

/**
 * NGD_BENCH_MASTER_* win over MASTER_*: under torchrun, MASTER_PORT is taken by torchrun's own store,
 * so rank 0 must listen elsewhere.
 */
function externalLauncherWorld(external: ExternalLauncher, env: Env, bindAddr: string): WorldInfo {
  const { rank, worldSize } = rankAndSize(env, external.rankVar, external.sizeVar);
  const masterAddr = envValue(env, 'NGD_BENCH_MASTER_ADDR') ?? envValue(env, 'MASTER_ADDR') ?? LOOPBACK;
  const launcher = external.launcher;
  const localRank = localRankOf(env, external.localRankVar, 0);
  if (worldSize === 1)
    return { rank, worldSize, masterAddr, masterPort: 0, bindAddr, token: envValue(env, 'NGD_BENCH_TOKEN') ?? '', launcher, localRank };
  const masterPort = requiredPort(env, ['NGD_BENCH_MASTER_PORT', 'MASTER_PORT']);
  const token = envValue(env, 'NGD_BENCH_TOKEN') ?? derivedToken(external, env);
  if (token === undefined) {
    throw new WorldConfigError(
      `NGD_BENCH_TOKEN is not set and no job id (${external.jobIdVars.join(', ')}) to derive one from; set NGD_BENCH_TOKEN to the same secret on every rank`,
    );
  }
  return { rank, worldSize, masterAddr, masterPort, bindAddr, token, launcher, localRank };
}

function localRankOf(env: Env, name: string, fallback: number): number {
  return envValue(env, name) === undefined ? fallback : nonNegativeInteger(env, name);
}

function derivedToken(external: ExternalLauncher, env: Env): string | undefined {
  const ids = external.jobIdVars.map((name) => envValue(env, name)).filter((v) => v !== undefined);
  return ids.length === 0 ? undefined : `${external.launcher}:${ids.join(':')}`;
}

function rankAndSize(env: Env, rankVar: string, sizeVar: string): { rank: number; worldSize: number } {
  const rank = nonNegativeInteger(env, rankVar);
  const worldSize = nonNegativeInteger(env, sizeVar);
  if (worldSize < 1) throw new WorldConfigError(`${sizeVar}=${worldSize} must be at least 1`);
  if (rank >= worldSize) throw new WorldConfigError(`${rankVar}=${rank} must be below ${sizeVar}=${worldSize}`);
  return { rank, worldSize };
}

function requiredPort(env: Env, names: readonly string[]): number {
  const name = names.find((n) => envValue(env, n) !== undefined);
  if (name === undefined) {
    throw new WorldConfigError(`${names.join(' or ')} is not set (a world of more than one process needs rank 0's rendezvous port)`);
  }
  const port = nonNegativeInteger(env, name);
  if (port < 1 || port > 65535) throw new WorldConfigError(`${name}=${port} is not a TCP port (1..65535)`);
  return port;
}

function nonNegativeInteger(env: Env, name: string): number {
  const raw = envValue(env, name);
  if (raw === undefined) throw new WorldConfigError(`${name} is not set`);
  if (!/^\d{1,9}$/.test(raw)) throw new WorldConfigError(`${name}=${JSON.stringify(raw)} is not a non-negative integer`);
  return Number(raw);
}

/** The trimmed value, or undefined when unset or blank (a blank variable counts as unset). */
function envValue(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export const DEFAULT_COLLECTIVE_TIMEOUT_MS = 300_000;

/** Per-call timeout of the collectives: NGD_BENCH_COLLECTIVE_TIMEOUT_MS, default 300 s. */
export function collectiveTimeoutFromEnv(env: Env = process.env): number {
  if (envValue(env, 'NGD_BENCH_COLLECTIVE_TIMEOUT_MS') === undefined) return DEFAULT_COLLECTIVE_TIMEOUT_MS;
  const ms = nonNegativeInteger(env, 'NGD_BENCH_COLLECTIVE_TIMEOUT_MS');
  if (ms < 1) throw new WorldConfigError('NGD_BENCH_COLLECTIVE_TIMEOUT_MS=0 must be at least 1');
  return ms;
}
