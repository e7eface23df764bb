/**
 * Allreduce probes need real worker processes: start N ranks of `ngd-bench allreduce-probe-worker`
 * on this host, collect rank 0's figures, and measure raw loopback TCP in the same run as the
 * reference. (No tfjs here: bytes and processes only.)
 */
import { launchLocalWorld } from '../distributed/collective/launchLocalWorld.js';
import { measureLoopbackThroughput } from '../distributed/collective/loopbackThroughput.js';
import type { AllreduceProbeResult } from '../distributed/collective/allreduceProbe.js';
import { figureOfSamples } from './figure.js';
import type { ProbeReport } from '../results/probeReport.js';

/** The name of the hidden command each worker runs. */
export const ALLREDUCE_WORKER_COMMAND = 'allreduce-probe-worker';

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
  // Every figure through the same (tinybench) statistics as the step probes.
  const sizeFigures = [];
  for (const s of probe.sizes) {
    const latency = await figureOfSamples(`allreduce ${s.bytes} B`, s.samplesMs);
    sizeFigures.push({ bytes: s.bytes, latency, algorithmBandwidth: s.algorithmBandwidth, busBandwidth: s.busBandwidth });
  }
  const transfer = await figureOfSamples(
    'loopback TCP',
    tcp.samples.map((bps) => (1000 * tcp.totalBytes) / bps),
  );
  return {
    workers,
    algorithm: 'ring',
    sizes: sizeFigures,
    loopbackTcp: { bytes: tcp.totalBytes, bytesPerSecond: tcp.bytesPerSecond, transfer },
  };
}
