/** The machine's GPUs as nvidia-smi names them: no tensor code, so the launcher can ask before loading any. */
import { execFileSync } from 'node:child_process';

/** GPU names from nvidia-smi, if there is one; empty otherwise (never fails the run). */
export function detectGpus(): string[] {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      timeout: 3000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out
      .toString()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}
