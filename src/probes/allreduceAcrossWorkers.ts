/**
 * Allreduce probes need real worker processes: start N ranks of `ngd-bench allreduce-probe-worker`
 * on this host, collect rank 0's figures, and measure raw loopback TCP in the same run as the
 * reference. (No tfjs here: bytes and processes only.)
 */
import { launchLocalWorld } from '../collective/launchLocalWorld.js';
import { measureLoopbackThroughput } from '../collective/loopbackThroughput.js';
import type { AllreduceProbeResult } from '../collective/allreduceProbe.js';
import type { LatencySummary } from '../collective/latencyStats.js';
import type { Figure } from './figure.js';
import type { ProbeReport } from './probeReport.js';

/** The name of the hidden command each worker runs. */
export const ALLREDUCE_WORKER_COMMAND = 'allreduce-probe-worker';

export function figureOfSummary(s: LatencySummary): Figure {
  return { meanMs: s.meanMs, medianMs: s.p50Ms, p99Ms: s.p99Ms, rmePercent: Number.isFinite(s.rme) ? s.rme : null, samples: s.samples };
}

export async function measureAllreduceAcrossWorkers(
  workers: number,
  sizes: readonly number[],
  iterations: number,
): Promise<NonNullable<ProbeReport['allreduce']>> {
  let rank0Output = '';
  const outcome = await launchLocalWorld({
    command: process.execPath,
    args: [...process.execArgv, process.argv[1], ALLREDUCE_WORKER_COMMAND, '--sizes', sizes.join(','), '--iterations', String(iterations)],
    workers,
    onStdoutLine: (rank, line) => {
      if (rank === 0) rank0Output += line;
    },
    onStderrLine: (rank, line) => process.stderr.write(`[rank ${rank}] ${line}\n`),
  });
  if (!outcome.ok) throw new Error(`allreduce probe failed: ${outcome.reason}`);
  const probe = JSON.parse(rank0Output) as AllreduceProbeResult;
  const largest = Math.max(...sizes);
  const tcp = await measureLoopbackThroughput({ totalBytes: Math.max(largest * 8, 64 * 1024 * 1024) });
  const transferMs = tcp.samples.map((bps) => (1000 * tcp.totalBytes) / bps);
  const sorted = [...transferMs].sort((a, b) => a - b);
  return {
    workers,
    algorithm: 'ring',
    sizes: probe.sizes.map((s) => ({ bytes: s.bytes, latency: figureOfSummary(s), algorithmBandwidth: s.algorithmBandwidth, busBandwidth: s.busBandwidth })),
    loopbackTcp: {
      bytes: tcp.totalBytes,
      bytesPerSecond: tcp.bytesPerSecond,
      transfer: {
        meanMs: transferMs.reduce((a, b) => a + b, 0) / transferMs.length,
        medianMs: sorted[Math.floor(sorted.length / 2)],
        p99Ms: sorted[sorted.length - 1],
        rmePercent: null,
        samples: transferMs.length,
      },
    },
  };
}
