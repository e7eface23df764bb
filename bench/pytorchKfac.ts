/** The PyTorch K-FAC reference rows: runs bench/torch_kfac.py (the same K-FAC step) where python3-torch is importable. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findTorchPython } from './pytorch.js';

export interface TorchKfacCase {
  model: string;
  batchSize: number;
  iterations: number;
  factorInterval: number;
  inverseInterval: number;
}

export interface TorchKfacRow extends TorchKfacCase {
  meanMs: number;
  medianMs: number;
  samples: number;
}

export type TorchKfacResult =
  | { available: true; torch: string; threads: number; rows: TorchKfacRow[] }
  | { available: false; reason: string };

const script = fileURLToPath(new URL('./torch_kfac.py', import.meta.url));

export function runTorchKfacSteps(cases: TorchKfacCase[]): TorchKfacResult {
  const python = findTorchPython();
  if (!python) return { available: false, reason: 'PyTorch not importable (apt-get install python3-torch to add the PyTorch rows)' };
  const r = spawnSync(python, [script, JSON.stringify(cases)], { encoding: 'utf8', timeout: 3_600_000 });
  if (r.status !== 0) return { available: false, reason: `torch_kfac.py failed: ${r.stderr.trim().split('\n').pop()}` };
  return { available: true, ...(JSON.parse(r.stdout) as Omit<Extract<TorchKfacResult, { available: true }>, 'available'>) };
}
