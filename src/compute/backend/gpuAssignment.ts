/**
 * Which GPU a rank of a data-parallel run takes. Ranks on one host take the host's GPUs in PCI-bus
 * order (nvidia-smi's and CUDA_DEVICE_ORDER=PCI_BUS_ID's order): local rank r the r-th.
 * NGD_BENCH_GPU_DEVICES gives one entry per local rank instead, comma-separated: an index in that
 * order, a PCI bus id ('0000:65:00.0') or a piece of the adapter's name ('A100').
 *
 * Dawn chooses an adapter only by name, which cannot tell eight identical GPUs apart, so a GPU is
 * pinned by its bus through Mesa's Vulkan device-select layer (shipped in Debian's mesa-vulkan-drivers;
 * a loader layer, so it works over NVIDIA's driver too): DRI_PRIME=pci-<domain>_<bus>_<dev>_<fn> picks
 * the device and MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE=1 hides the others. The same layer lists
 * the devices (MESA_VK_DEVICE_SELECT_DEBUG=1), which is how a selection is checked before it is used:
 * the layer falls back to its default device, silently, when a bus id matches nothing.
 */
import { BadInputError } from '../../util/errors.js';

/** One line of the device-select layer's list: `  GPU 1: 10de:2335 "NVIDIA H200" discrete GPU 0000:65:00.0`. */
export interface VulkanDevice {
  /** Position in the Vulkan loader's enumeration. */
  index: number;
  vendorId: string;
  deviceId: string;
  name: string;
  /** 'discrete GPU', 'integrated GPU', 'virtual GPU', 'CPU' or 'other'. */
  type: string;
  /** '0000:65:00.0'; null where the driver has no VK_EXT_pci_bus_info (lavapipe). */
  pciBusId: string | null;
}

export type GpuChoice =
  /** Leave the choice to Dawn: one GPU (or none) on the host, or local rank 0 where the layer is absent. */
  { by: 'default'; detail: string } | { by: 'pci'; device: VulkanDevice; detail: string } | { by: 'name'; name: string; detail: string };

export class GpuSelectionError extends BadInputError {}

export const GPU_DEVICES_VAR = 'NGD_BENCH_GPU_DEVICES';
const INSTALL_LAYER = "Mesa's Vulkan device-select layer ('apt-get install mesa-vulkan-drivers')";

const DEVICE_LINE =
  /^\s*GPU (\d+): ([0-9a-f]+):([0-9a-f]+) "(.*)" (discrete GPU|integrated GPU|virtual GPU|CPU|other)(?: ([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]))?\s*$/i;

/** The devices the layer listed on stderr under MESA_VK_DEVICE_SELECT_DEBUG=1; null when it said nothing (not installed). */
export function parseSelectableDevices(stderr: string): VulkanDevice[] | null {
  const lines = stderr.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'selectable devices:');
  if (start < 0) return null;
  const devices: VulkanDevice[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = DEVICE_LINE.exec(line);
    if (!m) break;
    devices.push({
      index: Number(m[1]),
      vendorId: m[2].toLowerCase(),
      deviceId: m[3].toLowerCase(),
      name: m[4],
      type: m[5],
      pciBusId: m[6]?.toLowerCase() ?? null,
    });
  }
  return devices;
}

/** The host's GPUs a rank can be pinned to, in PCI-bus order: CPU implementations and bus-less devices are not. */
export function pinnableGpus(devices: readonly VulkanDevice[]): VulkanDevice[] {
  return devices
    .filter((d): d is VulkanDevice & { pciBusId: string } => d.type !== 'CPU' && d.pciBusId !== null)
    .sort((a, b) => a.pciBusId.localeCompare(b.pciBusId));
}

/** "0: NVIDIA H200 (0000:65:00.0), 1: …". */
function listed(gpus: readonly VulkanDevice[]): string {
  return gpus.length === 0 ? 'none' : gpus.map((g, i) => `${i}: ${g.name} (${g.pciBusId})`).join(', ');
}

/** A bus id as nvidia-smi prints it ('00000000:65:00.0') or as lspci does ('65:00.0'), made '0000:65:00.0'. */
function normalizePciBusId(text: string): string | null {
  const m = /^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(text);
  if (!m) return null;
  const domain = (m[1] ?? '0000').slice(-4);
  return `${domain}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
}

export interface GpuChoiceInput {
  localRank: number;
  /** The device-select layer's list, null where the layer is absent. */
  devices: readonly VulkanDevice[] | null;
  /** How many GPUs nvidia-smi sees (0 without it): tells a multi-GPU host apart where the layer is absent. */
  nvidiaGpus: number;
  /** NGD_BENCH_GPU_DEVICES, if set. */
  devicesVar: string | undefined;
}

/** The GPU this rank takes; bad input (a list too short, an index or bus id this host lacks) throws. */
export function chooseGpu({ localRank, devices, nvidiaGpus, devicesVar }: GpuChoiceInput): GpuChoice {
  const gpus = devices === null ? null : pinnableGpus(devices);
  const entries = devicesVar?.trim() ? devicesVar.split(',').map((e) => e.trim()) : null;
  if (entries !== null) {
    const entry = entries[localRank];
    if (entry === undefined || entry === '')
      throw new GpuSelectionError(
        `${GPU_DEVICES_VAR}=${devicesVar} has no entry for local rank ${localRank}: give one per rank on this host, e.g. ${GPU_DEVICES_VAR}=0,1`,
      );
    const source = `${GPU_DEVICES_VAR} entry ${localRank}`;
    const byIndex = /^\d+$/.test(entry) ? Number(entry) : null;
    const busId = byIndex === null ? normalizePciBusId(entry) : null;
    if (byIndex === null && busId === null)
      return { by: 'name', name: entry, detail: `local rank ${localRank}: adapter named like '${entry}' (${source})` };
    if (gpus === null)
      throw new GpuSelectionError(
        `${source} '${entry}' picks a GPU by index or PCI bus, which needs ${INSTALL_LAYER}: it is not installed`,
      );
    const device = byIndex !== null ? gpus[byIndex] : gpus.find((g) => g.pciBusId === busId);
    if (device === undefined)
      throw new GpuSelectionError(`${source} '${entry}' is not a GPU of this host; its GPUs in PCI-bus order: ${listed(gpus)}`);
    return { by: 'pci', device, detail: `local rank ${localRank}: ${device.name} at PCI ${device.pciBusId} (${source})` };
  }
  if (gpus === null) {
    if (nvidiaGpus > 1 && localRank > 0)
      throw new GpuSelectionError(
        `local rank ${localRank} of a host with ${nvidiaGpus} GPUs would share GPU 0: pinning ranks to GPUs needs ${INSTALL_LAYER}, or set ${GPU_DEVICES_VAR} to names that tell the GPUs apart`,
      );
    return { by: 'default', detail: `local rank ${localRank}: the adapter Dawn prefers` };
  }
  if (gpus.length <= 1) return { by: 'default', detail: `local rank ${localRank}: the adapter Dawn prefers (${gpus.length} pinnable GPU)` };
  const device = gpus[localRank % gpus.length];
  const shared = localRank >= gpus.length ? `, shared: ${gpus.length} GPUs for more local ranks` : '';
  return {
    by: 'pci',
    device,
    detail: `local rank ${localRank}: GPU ${localRank % gpus.length} of ${gpus.length}, ${device.name} at PCI ${device.pciBusId}${shared}`,
  };
}

/** What makes Dawn open the chosen adapter: environment variables for the Vulkan layer, flags for Dawn's `create`. */
export function choiceSettings(choice: GpuChoice): { env: Record<string, string>; dawnFlags: string[] } {
  if (choice.by === 'name') return { env: {}, dawnFlags: [`adapter=${choice.name}`] };
  if (choice.by === 'default') return { env: {}, dawnFlags: [] };
  const [domain, bus, rest] = (choice.device.pciBusId ?? '').split(':');
  const [dev, fn] = rest.split('.');
  return {
    env: { DRI_PRIME: `pci-${domain}_${bus}_${dev}_${fn}`, MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: '1' },
    dawnFlags: [],
  };
}
