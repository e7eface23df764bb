/**
 * The one seam between the product and the compute backend. `auto` prefers the native TensorFlow
 * bindings (GPU, then CPU), then the BLAS-accelerated tfjs CPU backend, then the plain one. The native
 * packages are optional: they are loaded by name at run time and never listed as dependencies, so
 * `npm ci` works where libtensorflow cannot be downloaded.
 */
import '@tensorflow/tfjs-backend-cpu';
import type { BackendName } from '../../config/trainConfig.js';
import { tf } from '../../tf.js';
import { BadInputError, firstLine } from '../../util/errors.js';

export type ActiveBackend = Exclude<BackendName, 'auto'>;

export interface BackendInfo {
  requested: BackendName;
  active: ActiveBackend;
  /** Version of the package providing the backend. */
  version: string;
  /** BLAS library or GPU, when one is in use. */
  accelerator: string | null;
}

export class BackendUnavailableError extends BadInputError {}

const NATIVE_PACKAGES = { 'tensorflow-gpu': '@tensorflow/tfjs-node-gpu', tensorflow: '@tensorflow/tfjs-node' } as const;

type Attempt = { ok: true; info: Omit<BackendInfo, 'requested'> } | { ok: false; reason: string };

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

async function attempt(kind: ActiveBackend): Promise<Attempt> {
  if (kind === 'tensorflow-gpu' || kind === 'tensorflow') return tryNative(kind);
  return tryCpu(kind === 'cpu-blas');
}

/**
 * Activates the requested backend. An explicit request that cannot be met is an error; `auto` falls
 * through the preference order and says once on `warn` why it ended up slower than it could be.
 */
export async function selectBackend(requested: BackendName, warn: (line: string) => void = (l) => console.error(l)): Promise<BackendInfo> {
  if (requested !== 'auto') {
    const result = await attempt(requested);
    if (!result.ok) throw new BackendUnavailableError(`backend '${requested}' unavailable: ${result.reason}`);
    return { requested, ...result.info };
  }
  const skipped: string[] = [];
  for (const kind of ['tensorflow-gpu', 'tensorflow', 'cpu-blas', 'cpu'] as const) {
    const result = await attempt(kind);
    if (result.ok) {
      // Missing native TF bindings is the normal case off GPU runners; a missing BLAS layer is worth a word.
      const blasMiss = skipped.find((s) => s.startsWith('cpu-blas'));
      if (blasMiss) warn(`ngd-bench: using the plain tfjs CPU backend (~100x slower): ${blasMiss}`);
      return { requested, ...result.info };
    }
    skipped.push(`${kind}: ${result.reason}`);
  }
  throw new BackendUnavailableError(`no backend could be initialized: ${skipped.join('; ')}`);
}
