/**
 * Which GPU a rank takes: the device-select layer's list parsed, local rank r on the r-th GPU in PCI-bus
 * order, NGD_BENCH_GPU_DEVICES entries (index, bus id, name), and every selection a host cannot meet
 * refused with the host's GPUs listed. The layer's lines are in the format Mesa 25's
 * device_select_layer.c prints; the lavapipe line is what it printed on this machine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  choiceSettings,
  chooseGpu,
  GpuSelectionError,
  parseSelectableDevices,
  pinnableGpus,
  type VulkanDevice,
} from '../../src/compute/backend/gpuAssignment.js';

// Enumerated out of bus order on purpose: the order ranks take GPUs in is the bus order, not Vulkan's.
const TWO_H200 = `selectable devices:
  GPU 0: 10de:2335 "NVIDIA H200" discrete GPU 0000:b3:00.0
  GPU 1: 10de:2335 "NVIDIA H200" discrete GPU 0000:65:00.0
  GPU 2: 10005:0 "llvmpipe (LLVM 15.0.6, 256 bits)" CPU
selectable devices:
  GPU 0: 10de:2335 "NVIDIA H200" discrete GPU 0000:b3:00.0
Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced
`;
const LAVAPIPE_ONLY = `selectable devices:
  GPU 0: 10005:0 "llvmpipe (LLVM 15.0.6, 256 bits)" CPU
`;

const devices = parseSelectableDevices(TWO_H200) as VulkanDevice[];

describe('parseSelectableDevices', () => {
  it('reads the first list: index, ids, name, type and bus (none for lavapipe)', () => {
    assert.deepEqual(devices, [
      { index: 0, vendorId: '10de', deviceId: '2335', name: 'NVIDIA H200', type: 'discrete GPU', pciBusId: '0000:b3:00.0' },
      { index: 1, vendorId: '10de', deviceId: '2335', name: 'NVIDIA H200', type: 'discrete GPU', pciBusId: '0000:65:00.0' },
      { index: 2, vendorId: '10005', deviceId: '0', name: 'llvmpipe (LLVM 15.0.6, 256 bits)', type: 'CPU', pciBusId: null },
    ]);
  });

  it('is null where the layer said nothing (not installed), empty where it listed nothing', () => {
    assert.equal(parseSelectableDevices('Warning: something else\n'), null);
    assert.deepEqual(parseSelectableDevices('selectable devices:\n'), []);
  });

  it('pins only GPUs with a bus, in bus order', () => {
    assert.deepEqual(
      pinnableGpus(devices).map((d) => d.pciBusId),
      ['0000:65:00.0', '0000:b3:00.0'],
    );
    assert.deepEqual(pinnableGpus(parseSelectableDevices(LAVAPIPE_ONLY) ?? []), []);
  });
});

describe('chooseGpu', () => {
  const base = { devices, nvidiaGpus: 0, devicesVar: undefined };

  it('gives local rank r the r-th GPU in bus order, pinned by bus; more ranks than GPUs share, and say so', () => {
    const zero = chooseGpu({ ...base, localRank: 0 });
    const one = chooseGpu({ ...base, localRank: 1 });
    assert.equal(zero.by === 'pci' && zero.device.pciBusId, '0000:65:00.0');
    assert.equal(one.by === 'pci' && one.device.pciBusId, '0000:b3:00.0');
    assert.equal(one.detail, 'local rank 1: GPU 1 of 2, NVIDIA H200 at PCI 0000:b3:00.0');
    const two = chooseGpu({ ...base, localRank: 2 });
    assert.equal(two.by === 'pci' && two.device.pciBusId, '0000:65:00.0');
    assert.match(two.detail, /shared: 2 GPUs for more local ranks/);
  });

  it('leaves the choice to Dawn with one GPU or none (lavapipe only), and for rank 0 without the layer', () => {
    assert.equal(chooseGpu({ ...base, devices: parseSelectableDevices(LAVAPIPE_ONLY), localRank: 1 }).by, 'default');
    assert.equal(chooseGpu({ ...base, devices: [devices[0]], localRank: 1 }).by, 'default');
    assert.equal(chooseGpu({ ...base, devices: null, nvidiaGpus: 8, localRank: 0 }).by, 'default');
    assert.equal(chooseGpu({ ...base, devices: null, nvidiaGpus: 1, localRank: 3 }).by, 'default');
  });

  it('refuses rank > 0 on a multi-GPU host without the layer: it would share GPU 0 silently', () => {
    assert.throws(
      () => chooseGpu({ ...base, devices: null, nvidiaGpus: 8, localRank: 1 }),
      (e: Error) =>
        e instanceof GpuSelectionError &&
        /^local rank 1 of a host with 8 GPUs would share GPU 0: .*apt-get install mesa-vulkan-drivers.*NGD_BENCH_GPU_DEVICES/.test(
          e.message,
        ),
    );
  });

  it('reads NGD_BENCH_GPU_DEVICES: an index in bus order, a bus id as nvidia-smi or lspci print it, or a name', () => {
    const byIndex = chooseGpu({ ...base, localRank: 1, devicesVar: '1,0' });
    assert.equal(byIndex.by === 'pci' && byIndex.device.pciBusId, '0000:65:00.0');
    assert.match(byIndex.detail, /\(NGD_BENCH_GPU_DEVICES entry 1\)$/);
    const smi = chooseGpu({ ...base, localRank: 0, devicesVar: '00000000:B3:00.0' });
    assert.equal(smi.by === 'pci' && smi.device.pciBusId, '0000:b3:00.0');
    const lspci = chooseGpu({ ...base, localRank: 0, devicesVar: '65:00.0' });
    assert.equal(lspci.by === 'pci' && lspci.device.pciBusId, '0000:65:00.0');
    assert.deepEqual(chooseGpu({ ...base, devices: null, localRank: 1, devicesVar: 'A100, H200' }), {
      by: 'name',
      name: 'H200',
      detail: "local rank 1: adapter named like 'H200' (NGD_BENCH_GPU_DEVICES entry 1)",
    });
  });

  it('refuses entries the host cannot meet, listing its GPUs', () => {
    const refused = (devicesVar: string, localRank = 0, devs: VulkanDevice[] | null = devices) =>
      assert.throws(() => chooseGpu({ ...base, devices: devs, localRank, devicesVar }), GpuSelectionError);
    refused('0', 1);
    refused('0,,1', 1);
    refused('2');
    refused('0000:01:00.0');
    refused('0', 0, null);
    assert.throws(
      () => chooseGpu({ ...base, localRank: 0, devicesVar: '5' }),
      /^GpuSelectionError: NGD_BENCH_GPU_DEVICES entry 0 '5' is not a GPU of this host; its GPUs in PCI-bus order: 0: NVIDIA H200 \(0000:65:00\.0\), 1: NVIDIA H200 \(0000:b3:00\.0\)$/,
    );
    assert.throws(
      () => chooseGpu({ ...base, localRank: 2, devicesVar: '0,1' }),
      /NGD_BENCH_GPU_DEVICES=0,1 has no entry for local rank 2: give one per rank on this host/,
    );
  });
});

describe('choiceSettings', () => {
  it("pins a bus with the layer's DRI_PRIME tag and hides the other devices; a name goes to Dawn's 'adapter=' flag", () => {
    const one = chooseGpu({ devices, nvidiaGpus: 0, devicesVar: undefined, localRank: 1 });
    assert.deepEqual(choiceSettings(one), {
      env: { DRI_PRIME: 'pci-0000_b3_00_0', MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: '1' },
      dawnFlags: [],
    });
    assert.deepEqual(choiceSettings({ by: 'name', name: 'H200', detail: '' }), { env: {}, dawnFlags: ['adapter=H200'] });
    assert.deepEqual(choiceSettings({ by: 'default', detail: '' }), { env: {}, dawnFlags: [] });
  });
});
