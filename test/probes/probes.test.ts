/** Timing probes: the report validates against its schema and carries every figure it promises. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertValid } from '../../src/config/validate.js';
import { figureOfSamples } from '../../src/probes/figure.js';
import { ProbeReportSchema, type ProbeReport } from '../../src/results/probeReport.js';
import { runCli } from '../helpers/runCli.js';
import { writeTinySuite } from '../fixtures/tinySuite.js';

const dir = mkdtempSync(join(tmpdir(), 'ngd-bench-probe-'));
const SIXTEEN_MIB = 16 * 1024 * 1024;

describe('probe figures', () => {
  it('replayed samples get tinybench statistics: mean, median, p99, rme, count', async () => {
    const f = await figureOfSamples('t', [1, 2, 3, 4, 100]);
    assert.equal(f.samples, 5);
    assert.equal(f.meanMs, 22);
    assert.equal(f.medianMs, 3);
    assert.ok(f.p99Ms > 90 && f.p99Ms <= 100);
    assert.ok(f.rmePercent !== null && f.rmePercent > 0);
    const zeros = await figureOfSamples('z', [0, 0, 0]);
    assert.equal(zeros.meanMs, 0);
  });
});

describe('ngd-bench probe', () => {
  it('reports step phases per optimizer and batch size, and 16 MiB allreduce next to raw loopback TCP; validates', () => {
    const suite = join(dir, 'probe-suite.json');
    writeTinySuite(suite, {
      name: 'probe-test',
      model: { name: 'mlp', hiddenWidths: [16] },
      dataset: { name: 'synthetic', trainSize: 512, testSize: 64 },
      optimizers: [{ name: 'sgd' }, { name: 'ngd' }, { name: 'sam-sgd' }],
      batchSizes: [64, 128],
      workers: [2],
      probes: { iterations: 4, allreduceSizes: [4096, SIXTEEN_MIB], workers: 2 },
    });
    const out = join(dir, 'probes.json');
    const r = runCli(['probe', suite, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as ProbeReport;
    assertValid(ProbeReportSchema, report, 'probe report');
    assert.deepEqual(
      report.stepPhases.map((p) => `${p.optimizerLabel}/${p.batchSize}`),
      ['sgd/64', 'sgd/128', 'ngd/64', 'ngd/128', 'sam-sgd/64', 'sam-sgd/128'],
    );
    for (const p of report.stepPhases) {
      assert.equal(p.step.samples, 4);
      assert.equal(p.phases.forwardBackward.samples, 4);
      assert.equal(p.reference?.samples, 20, 'each probe is bracketed by its calibration reference (10 steps before, 10 after)');
      assert.ok(p.phases.forwardBackward.meanMs > 0);
      assert.equal(p.phases.curvature.meanMs > 0, p.optimizer === 'ngd', 'only K-FAC spends time on curvature');
      assert.equal((p.phases.samAscent?.meanMs ?? 0) > 0, p.optimizer === 'sam-sgd', 'only SAM spends time on its ascent');
    }
    // The SAM ascent gets its own column, since a probe has one.
    assert.match(r.stdout, /\| SAM ascent \|/);
    const big = report.allreduce!.sizes.find((s) => s.bytes === SIXTEEN_MIB)!;
    assert.ok(big.busBandwidth > 0 && report.allreduce!.loopbackTcp.bytesPerSecond > 0);
    // The human table states the ratio to raw TCP.
    assert.match(r.stdout, /bus bw \/ raw TCP/);
    assert.match(r.stdout, new RegExp(`\\| ${SIXTEEN_MIB} `));
  });
});
