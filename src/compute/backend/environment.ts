/** The machine a run happened on, recorded in every result file. */
import os from 'node:os';
import type { Environment } from '../../results/runResult.js';
import { tf } from '../../tf.js';
import type { BackendInfo } from './selectBackend.js';
import { detectGpus } from './detectGpus.js';

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
