/** The PyTorch reference rows: runs bench/torch_step.py where Debian's python3-torch is importable. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface TorchRow {
  model: string;
  batchSize: number;
  meanMs: number;
  medianMs: number;
  samples: number;
}

export type TorchResult =
  | { available: true; torch: string; threads: number; blas: string; rows: TorchRow[] }
  | { available: false; reason: string };

const script = fileURLToPath(new URL('./torch_step.py', import.meta.url));
// Debian's python3-torch lives with the system interpreter, which a pyenv shim may hide.
const INTERPRETERS = ['/usr/bin/python3', 'python3'];

export function findTorchPython(): string | undefined {
  return INTERPRETERS.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0);
}

export function runTorchSteps(cases: { model: string; batchSize: number; iterations: number }[]): TorchResult {
  const python = findTorchPython();
  if (!python) return { available: false, reason: 'PyTorch not importable (apt-get install python3-torch to add the PyTorch rows)' };
  const r = spawnSync(python, [script, JSON.stringify(cases)], { encoding: 'utf8', timeout: 1_800_000 });
  if (r.status !== 0) return { available: false, reason: `torch_step.py failed: ${r.stderr.trim().split('\n').pop()}` };
  return { available: true, ...(JSON.parse(r.stdout) as Omit<Extract<TorchResult, { available: true }>, 'available'>) };
}
