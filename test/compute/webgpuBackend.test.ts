/**
 * The webgpu backend on whatever adapter this machine has (lavapipe, Mesa's software Vulkan, off GPU
 * runners): one training step equals cpu-blas, no tensor leaks, `auto` never picks a software adapter,
 * a missing adapter or Vulkan loader is one line and exit 2, and a train run records its adapter.
 * Skipped only when the machine has no Vulkan adapter at all; NGD_BENCH_REQUIRE_WEBGPU=1 (set by .ci/run)
 * turns that skip into a failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selectBackend } from '../../src/compute/backend/selectBackend.js';
import { probeWebgpuAdapter } from '../../src/compute/backend/webgpuProbe.js';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { createOptimizer } from '../../src/optim/createOptimizer.js';
import {
  compareSteps,
  EQUIVALENCE_CASES,
  EQUIVALENCE_ROWS,
  EQUIVALENCE_SHAPE,
  equivalenceBatch,
  equivalenceModel,
  oneStep,
  STEP_TOLERANCE,
  type StepOutcome,
} from '../../src/probes/stepEquivalence.js';
import { readRunResult } from '../../src/results/runResultFile.js';
import { tf } from '../../src/tf.js';
import { PhaseTimer } from '../../src/util/phaseTimer.js';
import { runCli } from '../helpers/runCli.js';

const probe = await probeWebgpuAdapter();
const noAdapter = !probe.ok && (probe.missing === 'loader' || probe.missing === 'adapter');
const skip =
  noAdapter && process.env.NGD_BENCH_REQUIRE_WEBGPU !== '1' ? `no Vulkan adapter on this machine: ${probe.ok ? '' : probe.reason}` : false;

// Every op on the adapter, none forwarded to the CPU: the point is to test the GPU kernels.
process.env.WEBGPU_CPU_FORWARD = 'false';

/** `train` on WebGPU: a 16-unit MLP, 2 steps of batch 32 on 64 synthetic examples. */
const tinyWebgpuRun = (optimizer: string, out: string, extra: string[] = []) => [
  'train',
  '--backend',
  'webgpu',
  '-d',
  'synthetic',
  '-m',
  'mlp',
  '--hidden-widths',
  '16',
  '-o',
  optimizer,
  '-b',
  '32',
  '--steps',
  '2',
  '--train-size',
  '64',
  '--test-size',
  '32',
  '-q',
  '--out',
  out,
  ...extra,
];

describe('webgpu backend', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ngd-webgpu-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds an adapter (NGD_BENCH_REQUIRE_WEBGPU=1 makes a missing one a failure, not a skip)', () => {
    assert.ok(probe.ok, probe.ok ? '' : probe.reason);
  });

  it("reads the host's Vulkan devices from Mesa's device-select layer (installed with mesa-vulkan-drivers)", () => {
    assert.ok(probe.ok);
    assert.ok(probe.devices !== null, 'the device-select layer listed nothing: is mesa-vulkan-drivers installed?');
    const dawnSays = probe.adapter.description.split(':')[0]; // 'llvmpipe' of 'llvmpipe: Mesa 25.0.7 ...'
    assert.ok(
      probe.devices.some((d) => d.name.startsWith(dawnSays)),
      `the layer's list ${JSON.stringify(probe.devices)} misses Dawn's adapter ${dawnSays}`,
    );
  });

  describe('one training step equals cpu-blas (WEBGPU_CPU_FORWARD=false)', () => {
    const cases = EQUIVALENCE_CASES;
    const reference = new Map<string, { outcome: StepOutcome; initial: Float32Array[] }>();
    before(async () => {
      await selectBackend('cpu-blas');
      for (const [arch, opt] of cases) reference.set(`${arch}/${opt}`, await oneStep(arch, opt));
      const gpu = await selectBackend('webgpu');
      assert.equal(gpu.active, 'webgpu');
      assert.equal(tf.env().getBool('WEBGPU_CPU_FORWARD'), false);
    });
    after(() => selectBackend('cpu-blas'));

    for (const [arch, opt] of cases) {
      it(`${arch} ${opt}: loss, ${opt === 'ngd' ? 'K-FAC factors, ' : ''}weight update`, async () => {
        const ref = reference.get(`${arch}/${opt}`)!;
        const { outcome } = await oneStep(arch, opt, ref.initial);
        const { errors, moved } = compareSteps(outcome, ref.outcome);
        console.log(`# ${arch} ${opt} relative errors vs cpu-blas: ${JSON.stringify(errors)}`);
        for (const key of ['loss', 'factors', 'update'] as const) {
          assert.ok(errors[key] <= STEP_TOLERANCE[key], `${key}: relative error ${errors[key]} > ${STEP_TOLERANCE[key]}`);
        }
        if (opt === 'ngd') assert.ok(ref.outcome.factors.length > 0, 'no K-FAC factors compared');
        assert.ok(moved, 'the step changed no weight');
      });
    }

    it('leaks no tensor: a second and third step hold the same number of tensors', async () => {
      const model = equivalenceModel('cnn');
      const opt = createOptimizer(resolveTrainConfig({ optimizer: { name: 'ngd' } }).optimizer, model, 5);
      const data = equivalenceBatch('cnn');
      const timer = new PhaseTimer();
      const counts: number[] = [];
      for (let step = 0; step < 3; step++) {
        const x = tf.tensor4d(data.x, [EQUIVALENCE_ROWS, ...EQUIVALENCE_SHAPE.cnn]);
        const y = tf.tensor1d(data.y, 'int32');
        await opt.step({ x, y }, { step, lr: 0.05, progress: 0, timer });
        tf.dispose([x, y]);
        counts.push(tf.memory().numTensors);
      }
      opt.dispose();
      tf.dispose([...model.params]);
      assert.equal(counts[2], counts[1], `tensors after steps 1..3: ${counts.join(', ')}`);
    });
  });

  it('verify-backend: webgpu computes the same steps as cpu-blas (JSON, exit 0); an unknown backend is exit 2', () => {
    const r = runCli(['verify-backend', '--backend', 'webgpu', '--reference', 'cpu-blas', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { backend: string; reference: string; ok: boolean; cases: { ok: boolean }[] };
    assert.deepEqual([report.backend, report.reference, report.ok, report.cases.length], ['webgpu', 'cpu-blas', true, 4]);
    const bad = runCli(['verify-backend', '--backend', 'cuda']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /argument 'cuda' is invalid/);
  });

  it('auto never picks a software adapter, and says so once; a hardware adapter it prefers', async () => {
    const lines: string[] = [];
    const info = await selectBackend('auto', (l) => lines.push(l));
    if (probe.ok && probe.software) {
      assert.notEqual(info.active, 'webgpu');
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0], /software adapter/);
      assert.equal(info.adapter, undefined);
    } else {
      assert.equal(info.active, 'webgpu');
      assert.equal(info.adapter?.software, false);
    }
  });

  it('train --backend webgpu finishes a smoke run and its result names the adapter (software here: never a GPU)', () => {
    const out = join(dir, 'run.json');
    const r = runCli(tinyWebgpuRun('ngd', out), { WEBGPU_CPU_FORWARD: 'false' });
    assert.equal(r.code, 0, r.stderr);
    const result = readRunResult(out);
    assert.equal(result.status, 'ok');
    const env = result.environment!;
    assert.equal(env.backend, 'webgpu');
    assert.equal(env.backendRequested, 'webgpu');
    assert.match(env.backendVersion, /^\d+\.\d+\.\d+/);
    const adapter = env.gpuAdapter!;
    assert.equal(adapter.api, 'webgpu');
    assert.match(adapter.bindings, /^webgpu \d+\.\d+\.\d+ \(Dawn\)$/);
    if (probe.ok) {
      assert.equal(adapter.device, probe.adapter.device);
      assert.equal(adapter.software, probe.software);
    }
    if (adapter.software) {
      assert.equal(adapter.architecture, 'software');
      assert.match(env.accelerator ?? '', /^software WebGPU adapter: /);
    }
  });

  it('smoothed-ngd on 2 workers, 2 steps: each rank on its own WebGPU device, replicas bit-identical, every rank recorded', () => {
    const out = join(dir, 'webgpu-w2.json');
    const r = runCli(tinyWebgpuRun('smoothed-ngd', out, ['--workers', '2', '--verify-replicas']), { WEBGPU_CPU_FORWARD: 'false' });
    assert.equal(r.code, 0, r.stderr);
    const result = readRunResult(out);
    assert.equal(result.status, 'ok');
    assert.equal(result.parallel?.workers, 2);
    assert.equal(result.parallel?.replicaChecks, 2);
    assert.equal(result.environment?.backend, 'webgpu');
    assert.equal(result.environment?.gpuAdapter?.api, 'webgpu');
    const ranks = result.environment?.ranks ?? [];
    assert.deepEqual(
      ranks.map((rank) => [rank.rank, rank.backend]),
      [
        [0, 'webgpu'],
        [1, 'webgpu'],
      ],
    );
    assert.deepEqual(ranks[0].gpuAdapter, result.environment?.gpuAdapter);
    // No GPU to pin here (lavapipe has no PCI bus): each rank takes the adapter Dawn prefers, and says so.
    assert.match(ranks[1].gpuAdapter?.selection ?? '', /^local rank 1: /);
  });

  it('NGD_BENCH_GPU_DEVICES picks each rank its adapter by name and records it; one it cannot meet is one line, exit 2', () => {
    const out = join(dir, 'webgpu-named.json');
    const r = runCli(tinyWebgpuRun('sgd', out, ['--workers', '2']), { NGD_BENCH_GPU_DEVICES: 'llvmpipe,llvmpipe' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      readRunResult(out).environment?.ranks?.map((rank) => rank.gpuAdapter?.selection),
      [
        "local rank 0: adapter named like 'llvmpipe' (NGD_BENCH_GPU_DEVICES entry 0)",
        "local rank 1: adapter named like 'llvmpipe' (NGD_BENCH_GPU_DEVICES entry 1)",
      ],
    );
    for (const [devicesVar, message] of [
      [
        'no-such-gpu',
        /^ngd-bench: error: backend 'webgpu' unavailable: local rank 0: adapter named like 'no-such-gpu' .*Available adapters: .*llvmpipe/,
      ],
      ['3', /^ngd-bench: error: NGD_BENCH_GPU_DEVICES entry 0 '3' is not a GPU of this host; its GPUs in PCI-bus order: none$/],
    ] as const) {
      const refused = join(dir, `refused-${devicesVar}.json`);
      const bad = runCli(tinyWebgpuRun('sgd', refused), { NGD_BENCH_GPU_DEVICES: devicesVar });
      assert.equal(bad.code, 2, bad.stderr);
      const lines = bad.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, bad.stderr);
      assert.match(lines[0], message);
      assert.equal(existsSync(refused), false);
    }
  });

  it('no adapter (no Vulkan driver): one line naming what is missing and how to install it, exit 2, nothing written', () => {
    const out = join(dir, 'none.json');
    const r = runCli(['train', '--backend', 'webgpu', '-d', 'synthetic', '--steps', '1', '--out', out, '-q'], {
      VK_DRIVER_FILES: join(dir, 'no-such-icd.json'),
      VK_ICD_FILENAMES: join(dir, 'no-such-icd.json'),
    });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^ngd-bench: error: backend 'webgpu' unavailable: no WebGPU adapter: the Vulkan loader found no driver; install a Vulkan driver/,
    );
    assert.match(lines[0], /mesa-vulkan-drivers/);
    assert.equal(existsSync(out), false);
  });

  it('no Vulkan loader (libvulkan.so.1 unloadable): one line naming it and its package, exit 2, nothing written', (t) => {
    // A private mount namespace where the loader is an empty file: the real failure, on this machine only.
    const lib = spawnSync('sh', ['-c', "ldconfig -p | awk '/libvulkan.so.1 .*x86-64/ && !found {print $NF; found = 1}'"], {
      encoding: 'utf8',
    }).stdout.trim();
    const canUnshare = lib !== '' && spawnSync('unshare', ['--mount', '--map-root-user', 'true']).status === 0;
    if (!canUnshare) {
      t.skip(lib === '' ? 'libvulkan.so.1 not found by ldconfig' : 'cannot make a mount namespace (unshare refused) to hide the loader');
      return;
    }
    const empty = join(dir, 'empty.so');
    writeFileSync(empty, '');
    const out = join(dir, 'noloader.json');
    const r = spawnSync(
      'unshare',
      [
        '--mount',
        '--map-root-user',
        'sh',
        '-c',
        `mount --bind "${empty}" "$(readlink -f "${lib}")" && exec "${process.execPath}" --import tsx src/cli.ts train --backend webgpu -d synthetic --steps 1 -q --out "${out}"`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /backend 'webgpu' unavailable: the Vulkan loader libvulkan\.so\.1 cannot be loaded \(.+\); install it with 'apt-get install libvulkan1'/,
    );
    assert.equal(existsSync(out), false);
  });
});
