/**
 * The WebGPU backend: Dawn's Node bindings (the `webgpu` package) under `@tensorflow/tfjs-backend-webgpu`,
 * both optional and loaded by name at run time. On Linux Dawn runs on Vulkan: the NVIDIA driver's ICD on
 * a GPU machine, Mesa's lavapipe (a software adapter, for correctness only) elsewhere.
 */
import { readFileSync } from 'node:fs';
import type { GpuAdapter } from '../../results/runResult.js';
import { tf } from '../../tf.js';
import { firstLine } from '../../util/errors.js';
import { detectGpus } from './detectGpus.js';
import { choiceSettings, chooseGpu, GPU_DEVICES_VAR } from './gpuAssignment.js';
import {
  type AdapterInfo,
  describeAdapter,
  driverOf,
  isSoftwareAdapter,
  probeWebgpuAdapter,
  resolveWebgpuPackage,
  WEBGPU_PACKAGES,
} from './webgpuProbe.js';

export type WebgpuAttempt =
  | { ok: true; version: string; accelerator: string; adapter: GpuAdapter }
  | { ok: false; reason: string /** worth a line on stderr when `auto` passes it by */; notable: boolean };

interface GpuLike {
  requestAdapter(options?: object): Promise<{ info: AdapterInfo } | null>;
}

const TFJS_WEBGPU = '@tensorflow/tfjs-backend-webgpu';

function packageVersion(url: string): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('./package.json', url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** tfjs-backend-webgpu registers itself only if `navigator.gpu` exists when it is imported. */
function exposeGpu(gpu: GpuLike): void {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav !== undefined) {
    try {
      Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
      if (nav.gpu === gpu) return;
    } catch {
      // Node >= 21's navigator may refuse new properties: replace it below.
    }
  }
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

/** `WEBGPU_CPU_FORWARD=false` in the environment keeps tfjs from running small ops on the CPU. */
function applyEnvFlags(): void {
  const forward = process.env.WEBGPU_CPU_FORWARD;
  if (forward === 'false' || forward === 'true') tf.env().set('WEBGPU_CPU_FORWARD', forward === 'true');
}

function softwareRefused(adapter: AdapterInfo): WebgpuAttempt {
  return {
    ok: false,
    reason: `only a software adapter, ${describeAdapter(adapter)}, which auto never uses ('--backend webgpu' runs on it, for correctness checks only)`,
    notable: true,
  };
}

/**
 * Activates tfjs's webgpu backend on this rank's adapter (gpuAssignment.ts: local rank r takes the
 * host's r-th GPU). `allowSoftware` is false under `auto`: a software adapter is for correctness checks
 * someone asked for, never a silent choice. A selection the host cannot meet (NGD_BENCH_GPU_DEVICES
 * naming a GPU it lacks) throws GpuSelectionError, bad input.
 */
export async function tryWebgpu(allowSoftware: boolean, localRank = 0): Promise<WebgpuAttempt> {
  const preferred = await probeWebgpuAdapter();
  if (!preferred.ok) return { ok: false, reason: preferred.reason, notable: preferred.missing === 'probe' };
  if (preferred.software && !allowSoftware) return softwareRefused(preferred.adapter);
  const choice = chooseGpu({
    localRank,
    devices: preferred.devices,
    // nvidia-smi is asked only where the layer cannot say how many GPUs there are.
    nvidiaGpus: preferred.devices === null ? detectGpus().length : 0,
    devicesVar: process.env[GPU_DEVICES_VAR],
  });
  const settings = choiceSettings(choice);
  // A rank pinned to another adapter than Dawn's preferred one: that adapter must exist and qualify too.
  if (choice.by !== 'default') {
    const chosen = await probeWebgpuAdapter(settings);
    if (!chosen.ok) return { ok: false, reason: `${choice.detail}: ${chosen.reason}`, notable: true };
    if (chosen.software && !allowSoftware) return softwareRefused(chosen.adapter);
  }
  const pkg = resolveWebgpuPackage();
  if ('error' in pkg) return { ok: false, reason: `cannot load the 'webgpu' package (${pkg.error})`, notable: true };
  try {
    const { create, globals } = (await import(pkg.url)) as { create: (options: string[]) => GpuLike; globals: Record<string, unknown> };
    // GPUBufferUsage, GPUMapMode, ...: tfjs reads them as globals.
    for (const [name, value] of Object.entries(globals))
      if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    // The device-select layer reads its variables when Dawn enumerates devices, in this process.
    for (const [name, value] of Object.entries(settings.env)) process.env[name] = value;
    const gpu = create(settings.dawnFlags);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { ok: false, reason: 'Dawn found an adapter in the probe but none in this process', notable: true };
    const info = adapter.info;
    const software = isSoftwareAdapter(info);
    if (software && !allowSoftware) return softwareRefused(info);
    // tfjs asks navigator.gpu for an adapter itself: hand it exactly the one recorded here. The wrapper
    // keeps the Dawn instance reachable: collected under a live device, it crashes the process at exit.
    exposeGpu({ instance: gpu, requestAdapter: async () => adapter } as GpuLike);
    // A literal specifier, imported only here: a bundler (scripts/gpu-check.sh) can carry the package in a
    // chunk of its own that still loads only now, after navigator.gpu is set.
    const mod = (await import('@tensorflow/tfjs-backend-webgpu')) as { version_webgpu?: string };
    if (tf.findBackendFactory('webgpu') === null)
      return { ok: false, reason: `${TFJS_WEBGPU} did not register its backend`, notable: true };
    applyEnvFlags();
    tf.env().set('PROD', true);
    if (!(await tf.setBackend('webgpu')))
      return { ok: false, reason: `${TFJS_WEBGPU} loaded but its 'webgpu' backend failed to initialize`, notable: true };
    await tf.ready();
    const record: GpuAdapter = {
      api: 'webgpu',
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
      driver: driverOf(info),
      software,
      bindings: `webgpu ${packageVersion(pkg.url)} (Dawn)`,
      selection: choice.detail,
      ...(choice.by === 'pci' && choice.device.pciBusId ? { pciBusId: choice.device.pciBusId } : {}),
    };
    const accelerator = `${software ? 'software WebGPU adapter' : 'WebGPU'}: ${describeAdapter(info)}`;
    return { ok: true, version: mod.version_webgpu ?? tf.version_core, accelerator, adapter: record };
  } catch (error) {
    return {
      ok: false,
      reason: `cannot start WebGPU (${firstLine(error)}); install it with 'npm install ${WEBGPU_PACKAGES}'`,
      notable: true,
    };
  }
}
