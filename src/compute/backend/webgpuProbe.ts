/**
 * Which WebGPU adapter this machine has, found in a child process: the Vulkan loader and Dawn print
 * their diagnostics straight to stderr (several lines when there is no driver), and a broken driver can
 * crash the process that asks. The child's stderr is kept for the one-line reason instead.
 */
import { execFile } from 'node:child_process';
import { lastMeaningfulLine } from '../../util/lastMeaningfulLine.js';
import { parseSelectableDevices, type VulkanDevice } from './gpuAssignment.js';

export const WEBGPU_PACKAGES = 'webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0';

/** What Dawn says about the adapter it would use. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  driver: string | null;
  isFallbackAdapter: boolean;
}

export type ProbeOutcome =
  /** `devices`: the Vulkan devices Mesa's device-select layer listed; null where the layer is absent. */
  | { ok: true; adapter: AdapterInfo; software: boolean; devices: VulkanDevice[] | null }
  | { ok: false; missing: 'loader' | 'bindings' | 'adapter' | 'probe'; reason: string };

/** How to make Dawn open one adapter: the Vulkan layer's variables and Dawn's `create` flags (gpuAssignment.ts). */
export interface AdapterSettings {
  env: Record<string, string>;
  dawnFlags: string[];
}

const NO_SETTINGS: AdapterSettings = { env: {}, dawnFlags: [] };

const INSTALL_LOADER = "install it with 'apt-get install libvulkan1'";
const INSTALL_DRIVER =
  "install a Vulkan driver: on an NVIDIA machine the driver's Vulkan ICD (in containers the 'graphics' capability; VK_DRIVER_FILES=/usr/share/vulkan/icd.d/nvidia_icd.json), " +
  "or for a software adapter (correctness only) Mesa >= 25 lavapipe: 'apt-get install -t bookworm-backports mesa-vulkan-drivers'";

// Plain JavaScript run by `node --input-type=module -e`; argv[1] is the URL of the `webgpu` package,
// argv[2] Dawn's flags as JSON. Dawn throws when an 'adapter=' flag matches nothing, listing what it has.
const PROBE_SCRIPT = `
const say = (o) => { process.stdout.write(JSON.stringify(o)); process.exit(0); };
if (process.platform === 'linux') {
  try { process.dlopen({ exports: {} }, 'libvulkan.so.1'); }
  catch (e) { if (!/did not self-register/.test(e.message)) say({ missing: 'loader', detail: e.message.split('\\n')[0] }); }
}
let create;
try { ({ create } = await import(process.argv[1])); } catch (e) { say({ missing: 'bindings', detail: e.message.split('\\n')[0] }); }
let adapter;
try { adapter = await create(JSON.parse(process.argv[2])).requestAdapter({ powerPreference: 'high-performance' }); }
catch (e) { say({ missing: 'adapter', detail: e.message.split('\\n').map((l) => l.trim()).filter(Boolean).join(' ') }); }
if (!adapter) say({ missing: 'adapter' });
const i = adapter.info;
say({ adapter: { vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '',
  driver: i.driver ?? null, isFallbackAdapter: Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter) } });
`;

/** The URL of the optional `webgpu` package, or why it cannot be found. */
export function resolveWebgpuPackage(): { url: string } | { error: string } {
  try {
    return { url: import.meta.resolve('webgpu') };
  } catch (error) {
    return { error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}

/** Lavapipe (and any CPU implementation) calls itself 'software' or a fallback adapter. */
export function isSoftwareAdapter(info: AdapterInfo): boolean {
  return info.architecture === 'software' || info.isFallbackAdapter;
}

/** Dawn's Vulkan description is "<driver name>: <driver version>"; that is the driver, where it says. */
export function driverOf(info: AdapterInfo): string | null {
  if (info.driver) return info.driver;
  return /^[^:]+: \S/.test(info.description) ? info.description : null;
}

/** "llvmpipe-llvm-15-0-6-256-bits- (llvmpipe: Mesa 25.0.7 (LLVM 15.0.6); mesa software)". */
export function describeAdapter(info: AdapterInfo): string {
  const details = [info.description, [info.vendor, info.architecture].filter(Boolean).join(' ')].filter(Boolean).join('; ');
  return details ? `${info.device || 'unnamed adapter'} (${details})` : info.device || 'unnamed adapter';
}

/**
 * Asks a child process for the adapter Dawn would pick under `settings`; never throws. The child runs
 * with MESA_VK_DEVICE_SELECT_DEBUG=1, so that Mesa's device-select layer, where installed, lists the
 * host's Vulkan devices on its stderr.
 */
export function probeWebgpuAdapter(settings: AdapterSettings = NO_SETTINGS, timeoutMs = 60_000): Promise<ProbeOutcome> {
  const pkg = resolveWebgpuPackage();
  if ('error' in pkg)
    return Promise.resolve({
      ok: false,
      missing: 'bindings',
      reason: `cannot load the 'webgpu' package (${pkg.error}); install it with 'npm install ${WEBGPU_PACKAGES}'`,
    });
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', PROBE_SCRIPT, pkg.url, JSON.stringify(settings.dawnFlags)],
      {
        timeout: timeoutMs,
        maxBuffer: 1 << 20,
        encoding: 'utf8',
        env: { ...process.env, ...settings.env, MESA_VK_DEVICE_SELECT_DEBUG: '1' },
      },
      (error, stdout, stderr) => {
        const devices = parseSelectableDevices(stderr);
        const said = lastMeaningfulLine(stderr.split('\n').filter((l) => !/^\s*(GPU \d+: |selectable devices:)/.test(l)));
        let answer: { missing?: 'loader' | 'bindings' | 'adapter'; detail?: string; adapter?: AdapterInfo } | null = null;
        try {
          answer = JSON.parse(stdout);
        } catch {
          answer = null;
        }
        if (error || answer === null) {
          const how = error?.killed
            ? `timed out after ${timeoutMs / 1000} s`
            : error
              ? `exited with ${error.code ?? error.signal}`
              : 'said nothing';
          resolve({ ok: false, missing: 'probe', reason: `the WebGPU adapter probe ${how}${said ? `: ${said}` : ''}` });
        } else if (answer.missing === 'loader') {
          resolve({
            ok: false,
            missing: 'loader',
            reason: `the Vulkan loader libvulkan.so.1 cannot be loaded (${answer.detail}); ${INSTALL_LOADER}`,
          });
        } else if (answer.missing === 'bindings') {
          resolve({
            ok: false,
            missing: 'bindings',
            reason: `cannot load the 'webgpu' package (${answer.detail}); install it with 'npm install ${WEBGPU_PACKAGES}'`,
          });
        } else if (answer.missing === 'adapter' || !answer.adapter) {
          const why = /found no drivers/i.test(stderr)
            ? 'the Vulkan loader found no driver'
            : `Dawn found no usable adapter${answer.detail ? ` (${answer.detail})` : said ? ` (${said})` : ''}`;
          resolve({ ok: false, missing: 'adapter', reason: `no WebGPU adapter: ${why}; ${INSTALL_DRIVER}` });
        } else {
          resolve({ ok: true, adapter: answer.adapter, software: isSoftwareAdapter(answer.adapter), devices });
        }
      },
    );
  });
}
