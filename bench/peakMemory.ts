/**
 * Peak resident memory of whole `ngd-bench train` processes: one K-FAC step of a conv network at a
 * batch size, read from the result's timing.peakRssBytes (getrusage of the process that trained, data
 * loading included). A separate process per row, so each peak is its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PeakMemoryRow {
  model: string;
  optimizer: string;
  batchSize: number;
  /** Examples per forward/backward pass, when the batch runs in micro-batches. */
  microBatchSize?: number;
  /** null when the run did not finish; `error` says why. */
  peakRssBytes: number | null;
  error?: string;
}

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

export function measurePeakMemory(model: string, optimizer: string, batchSize: number, microBatchSize?: number): PeakMemoryRow {
  const dir = mkdtempSync(join(tmpdir(), 'ngd-bench-rss-'));
  const out = join(dir, 'result.json');
  try {
    const args = ['--import', 'tsx', cli, 'train', '--model', model, '--dataset', 'fashion-mnist', '--optimizer', optimizer];
    args.push('--batch-size', String(batchSize), '--steps', '1', '--train-size', String(batchSize), '--test-size', '256');
    args.push('--train-eval-size', '256', '--backend', 'cpu-blas', '--quiet', '--out', out);
    if (microBatchSize !== undefined) args.push('--micro-batch-size', String(microBatchSize));
    const row = { model, optimizer, batchSize, ...(microBatchSize !== undefined ? { microBatchSize } : {}) };
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 1_800_000 });
    if (r.status !== 0) {
      return { ...row, peakRssBytes: null, error: r.stderr.trim().split('\n').pop() ?? `exit ${r.status}` };
    }
    const result = JSON.parse(readFileSync(out, 'utf8')) as { timing: { peakRssBytes?: number } };
    return { ...row, peakRssBytes: result.timing.peakRssBytes ?? null };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
