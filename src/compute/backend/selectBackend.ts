/**
 * The one seam between the product and the compute backend. `auto` prefers a hardware WebGPU adapter,
 * then the native TensorFlow bindings (GPU, then CPU), then the BLAS-accelerated tfjs CPU backend, then
 * the plain one. The GPU packages are optional: they are loaded by name at run time and never imported
 * statically, so `npm ci` and every CPU path work where they are missing or cannot run.
 */
import '@tensorflow/tfjs-backend-cpu';
import type { BackendName } from '../../config/trainConfig.js';
import type { GpuAdapter } from '../../results/runResult.js';
import { tf } from '../../tf.js';
import { BadInputError, firstLine } from '../../util/errors.js';
import { tryWebgpu } from './webgpu.js';

export type ActiveBackend = Exclude<BackendName, 'auto'>;

export interface BackendInfo {
  requested: BackendName;
  active: ActiveBackend;
  /** Version of the package providing the backend. */
  version: string;
  /** BLAS library or GPU, when one is in use. */
  accelerator: string | null;
  /** The WebGPU adapter, for `webgpu` only. */
  adapter?: GpuAdapter;
}

export class BackendUnavailableError extends BadInputError {}

const NATIVE_PACKAGES = { 'tensorflow-gpu': '@tensorflow/tfjs-node-gpu', tensorflow: '@tensorflow/tfjs-node' } as const;

type Attempt = { ok: true; info: Omit<BackendInfo, 'requested'> } | { ok: false; reason: string; notable?: boolean };

async function tryNative(kind: 'tensorflow-gpu' | 'tensorflow'): Promise<Attempt> {
  const pkg = NATIVE_PACKAGES[kind];
  try {
    // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
    const specifier: string = pkg;
    const mod = (await import(specifier)) as { version?: Record<string, string> };
    if (!(await tf.setBackend('tensorflow')))
      return { ok: false, reason: `${pkg} loaded but its 'tensorflow' backend failed to initialize` };
    const version = mod.version?.['tfjs-node'] ?? tf.version_core;
    return { ok: true, info: { active: kind, version, accelerator: kind === 'tensorflow-gpu' ? 'CUDA' : 'libtensorflow' } };
  } catch (error) {
    const message = firstLine(error);
    return { ok: false, reason: `cannot load ${pkg} (${message}); install it with 'npm install ${pkg}@${tf.version_core}'` };
  }
}

type AccelModule = typeof import('../accel/index.js');

/** The BLAS layer is loaded lazily: a broken or missing addon must never stop the plain CPU path. */
async function loadAccel(): Promise<AccelModule | string> {
  try {
    return await import('../accel/index.js');
  } catch (error) {
    return `the BLAS acceleration module failed to load (${firstLine(error)})`;
  }
}

async function tryCpu(accelerated: boolean): Promise<Attempt> {
  await tf.setBackend('cpu');
  const accel = await loadAccel();
  // A previous selection in this process may have registered the BLAS kernels: plain means plain.
  if (!accelerated && typeof accel !== 'string') accel.disableBlasKernels();
  // The CPU backend's "install tfjs-node" banner is noise here: the seam reports what ran instead.
  tf.env().set('PROD', true);
  if (!accelerated) return { ok: true, info: { active: 'cpu', version: tf.version_core, accelerator: null } };
  if (typeof accel === 'string') return { ok: false, reason: accel };
  const status = accel.enableBlasKernels();
  if (!status.enabled) return { ok: false, reason: status.reason };
  return { ok: true, info: { active: 'cpu-blas', version: tf.version_core, accelerator: status.library } };
}

async function attemptWebgpu(explicit: boolean, localRank: number): Promise<Attempt> {
  const result = await tryWebgpu(explicit, localRank);
  if (!result.ok) return result;
  return { ok: true, info: { active: 'webgpu', version: result.version, accelerator: result.accelerator, adapter: result.adapter } };
}

async function attempt(kind: ActiveBackend, explicit: boolean, localRank: number): Promise<Attempt> {
  if (kind === 'webgpu') return attemptWebgpu(explicit, localRank);
  if (kind === 'tensorflow-gpu' || kind === 'tensorflow') return tryNative(kind);
  return tryCpu(kind === 'cpu-blas');
}

/**
 * Activates the requested backend. An explicit request that cannot be met is an error; `auto` falls
 * through the preference order and says once on `warn` why it ended up slower than it could be.
 */
export async function selectBackend(
  requested: BackendName,
  warn: (line: string) => void = (l) => console.error(l),
  /** This process's index among the ranks on its host: which GPU it takes (gpuAssignment.ts). */
  localRank = 0,
): Promise<BackendInfo> {
  if (requested !== 'auto') {
    const result = await attempt(requested, true, localRank);
    if (!result.ok) throw new BackendUnavailableError(`backend '${requested}' unavailable: ${result.reason}`);
    return { requested, ...result.info };
  }
  const skipped: string[] = [];
  const notable: string[] = [];
  for (const kind of ['webgpu', 'tensorflow-gpu', 'tensorflow', 'cpu-blas', 'cpu'] as const) {
    const result = await attempt(kind, false, localRank);
    if (result.ok) {
      // No GPU and no native TF bindings is the normal case off GPU runners; a software-only WebGPU
      // adapter passed by, a GPU that failed to start or a missing BLAS layer is worth one line.
      if (notable.length > 0) {
        const lead =
          result.info.active === 'cpu' ? 'using the plain tfjs CPU backend (~100x slower)' : `backend auto chose ${result.info.active}`;
        warn(`ngd-bench: ${lead}: ${notable.join('; ')}`);
      }
      return { requested, ...result.info };
    }
    skipped.push(`${kind}: ${result.reason}`);
    if (result.notable || kind === 'cpu-blas') notable.push(`${kind}: ${result.reason}`);
  }
  throw new BackendUnavailableError(`no backend could be initialized: ${skipped.join('; ')}`);
}
