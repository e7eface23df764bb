/**
 * How much memory one training process may use: `--memory-budget <GiB>`, else $NGD_BENCH_MEMORY_BUDGET_GIB,
 * else this host's memory shared by the training processes on it (the ranks ngd-bench launched here, or
 * the launcher's local size: OMPI_COMM_WORLD_LOCAL_SIZE, SLURM_NTASKS_PER_NODE, LOCAL_WORLD_SIZE).
 */
import { totalmem } from 'node:os';
import type { WorldInfo } from '../distributed/collective/worldInfo.js';
import { ValidationError } from '../config/validate.js';

export const MEMORY_BUDGET_ENV = 'NGD_BENCH_MEMORY_BUDGET_GIB';

/** A GiB figure from a flag or the environment; bad input when it is not a positive number. */
export function parseGib(text: string, where: string): number {
  const gib = Number(text);
  if (text.trim() === '' || !Number.isFinite(gib) || gib <= 0) {
    throw new ValidationError(where, [`'${text}' is not a positive number of GiB (e.g. 6 or 0.5)`]);
  }
  return gib;
}

function localProcesses(world: WorldInfo, env: NodeJS.ProcessEnv): number {
  if (world.launcher === 'ngd-bench' || world.launcher === 'single') return world.worldSize;
  for (const name of ['OMPI_COMM_WORLD_LOCAL_SIZE', 'SLURM_NTASKS_PER_NODE', 'LOCAL_WORLD_SIZE']) {
    const n = Number.parseInt(env[name] ?? '', 10);
    if (Number.isInteger(n) && n > 0) return n;
  }
  return 1;
}

export function memoryBudgetBytes(flag: number | undefined, world: WorldInfo, env: NodeJS.ProcessEnv = process.env): number {
  if (flag !== undefined) return flag * 2 ** 30;
  const fromEnv = env[MEMORY_BUDGET_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return parseGib(fromEnv, `$${MEMORY_BUDGET_ENV}`) * 2 ** 30;
  return totalmem() / localProcesses(world, env);
}
