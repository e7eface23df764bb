/** Where the runs ran: the distinct machines/backends of a result set, and the dates the results carry. */
import type { Environment } from '../results/runResult.js';
import type { RunView } from './groupRuns.js';

export interface EnvironmentGroup {
  /** null for runs that failed before a backend was chosen. */
  environment: Environment | null;
  runs: number;
  toolVersions: string[];
}

/** Runs grouped by environment (the hostname aside), most runs first. */
export function environments(runs: readonly RunView[]): EnvironmentGroup[] {
  const groups = new Map<string, EnvironmentGroup>();
  for (const run of runs) {
    const env = run.result.environment;
    const key = env === null ? 'null' : JSON.stringify({ ...env, hostname: undefined });
    const g = groups.get(key) ?? { environment: env, runs: 0, toolVersions: [] };
    g.runs++;
    if (!g.toolVersions.includes(run.result.tool.version)) g.toolVersions.push(run.result.tool.version);
    groups.set(key, g);
  }
  for (const g of groups.values()) g.toolVersions.sort();
  return [...groups.entries()].sort(([ka, a], [kb, b]) => b.runs - a.runs || (ka < kb ? -1 : ka > kb ? 1 : 0)).map(([, g]) => g);
}

/** "cpu-blas (openblas 0.3.21) on AMD EPYC, 2 cores, no GPU, linux-x64, node v20.19.0". */
export function describeEnvironment(env: Environment | null): string {
  if (env === null) return 'unknown (the runs failed before a backend was chosen)';
  const backend = env.accelerator ? `${env.backend} (${env.accelerator})` : env.backend;
  const gpus = env.gpus.length === 0 ? 'no GPU' : env.gpus.join(', ');
  return `${backend} on ${env.cpuModel}, ${env.cpuCores} cores, ${gpus}, ${env.platform}, node ${env.nodeVersion}`;
}

/** The earliest start and latest finish among the results (their own timestamps, not "now"). */
export function dateRange(runs: readonly RunView[]): { from: string; to: string } | null {
  if (runs.length === 0) return null;
  const starts = runs.map((r) => r.result.startedAt).sort();
  const ends = runs.map((r) => r.result.finishedAt).sort();
  return { from: starts[0], to: ends[ends.length - 1] };
}
