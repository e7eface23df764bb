/**
 * scripts/gpu-check.sh, as it would travel to a GPU machine: packed here into a folder under 64 MiB, then
 * run from that folder alone (a bare environment: no PATH to this checkout, no node_modules) on the
 * adapter this machine has (lavapipe, allowed by GPU_CHECK_ALLOW_SOFTWARE=1) with a tiny probe suite.
 * Skipped where there is no Vulkan adapter, unless NGD_BENCH_REQUIRE_WEBGPU=1 (set by .ci/run).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { probeWebgpuAdapter } from '../src/compute/backend/webgpuProbe.js';
import type { ProbeReport } from '../src/results/probeReport.js';
import type { EquivalenceReport } from '../src/probes/stepEquivalence.js';
import { writeTinySuite } from './fixtures/tinySuite.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const probe = await probeWebgpuAdapter();
const skip = !probe.ok && process.env.NGD_BENCH_REQUIRE_WEBGPU !== '1' ? `no Vulkan adapter on this machine: ${probe.reason}` : false;

describe('scripts/gpu-check.sh', { skip }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ngd-gpu-check-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('packs a folder under 64 MiB that runs the equivalence check and probes on its own', { timeout: 900_000 }, () => {
    const pack = join(tmp, 'pack');
    const packed = spawnSync('bash', [join(root, 'scripts/gpu-check.sh'), 'pack', pack], { cwd: root, encoding: 'utf8', timeout: 600_000 });
    assert.equal(packed.status, 0, packed.stderr);
    const mib = Number(/\((\d+) MiB of 64\)/.exec(packed.stdout)?.[1]);
    assert.ok(mib > 0 && mib < 64, packed.stdout);

    const suite = join(tmp, 'tiny-probes.json');
    writeTinySuite(suite, {
      name: 'gpu-check-tiny',
      model: { name: 'mlp', hiddenWidths: [16] },
      dataset: { name: 'fashion-mnist', trainSize: 256, testSize: 64 },
      backend: 'webgpu',
      optimizers: [
        { name: 'sgd', lr: 0.1 },
        { name: 'ngd', lr: 0.01 },
      ],
      batchSizes: [32],
      workers: [1],
      probes: { iterations: 2, matmulSize: 64 },
    });
    const out = join(tmp, 'out');
    const bare = { PATH: '/usr/bin:/bin', HOME: tmp, GPU_CHECK_ALLOW_SOFTWARE: '1' };
    const ran = spawnSync('bash', [join(pack, 'gpu-check.sh'), 'run', out, suite], {
      cwd: tmp,
      env: bare,
      encoding: 'utf8',
      timeout: 600_000,
    });
    assert.equal(ran.status, 0, ran.stderr);
    assert.match(ran.stderr, /gpu-check: adapter .* \(software: true\)/);

    const equivalence = JSON.parse(readFileSync(join(out, 'equivalence.json'), 'utf8')) as EquivalenceReport;
    assert.deepEqual([equivalence.backend, equivalence.reference, equivalence.ok], ['webgpu', 'cpu', true]);
    assert.equal(equivalence.cases.length, 4);
    const probes = JSON.parse(readFileSync(join(out, 'tiny-probes.json'), 'utf8')) as ProbeReport;
    assert.equal(probes.environment.backend, 'webgpu');
    assert.equal(probes.environment.gpuAdapter?.software, true);
    assert.deepEqual(
      probes.stepPhases.map((p) => [p.optimizer, p.batchSize]),
      [
        ['sgd', 32],
        ['ngd', 32],
      ],
    );
    assert.equal(probes.matmul?.size, 64);
    assert.ok((probes.matmul?.gflops ?? 0) > 0);
    const gpu = JSON.parse(readFileSync(join(out, 'gpu.json'), 'utf8')) as { gpu: string | null };
    assert.ok('fp32PeakTflops' in gpu);
  });

  it('refuses a software adapter unless allowed, and a folder that is not a pack: one line, exit 2', () => {
    const pack = join(tmp, 'pack');
    const refused = spawnSync('bash', [join(pack, 'gpu-check.sh'), 'run', join(tmp, 'out2')], {
      env: { PATH: '/usr/bin:/bin', HOME: tmp },
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr.trimEnd().split('\n').at(-1) ?? '', /^gpu-check: only a software adapter \(.*\): no GPU driver reached/);
    const notPack = spawnSync('bash', [join(root, 'scripts/gpu-check.sh'), 'run', join(tmp, 'out3')], { encoding: 'utf8' });
    assert.equal(notPack.status, 2);
    assert.match(notPack.stderr, /^gpu-check: .* is not a packed gpu-check folder/);
  });
});
