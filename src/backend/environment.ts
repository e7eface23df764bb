/** The machine a run happened on, recorded in every result file. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Environment } from '../results/runResult.js';
import { tf } from '../tf.js';
import type { BackendInfo } from './selectBackend.js';

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

export function describeEnvironment(backend: BackendInfo): Environment {
  const cpus = os.cpus();
  return {
    backend: backend.active,
    backendRequested: backend.requested,
    backendVersion: backend.version,
    tfjsCoreVersion: tf.version_core,
    accelerator: backend.accelerator,
    // Only webgpu runs carry it, so every other environment stays exactly as before.
    ...(backend.adapter ? { gpuAdapter: backend.adapter } : {}),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCores: Math.max(cpus.length, 1),
    memoryBytes: os.totalmem(),
    gpus: detectGpus(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    nodeVersion: process.version,
    hostname: os.hostname(),
  };
}
