/**
 * Allreduce over TCP on this host, next to the raw TCP loopback throughput measured in the same run.
 * Run: npx tsx bench/allreduce.ts [--workers 2] [--sizes-kib 4,64,1024,16384] [--chunk-kib 1024] [--out FILE]
 *
 * Starts `--workers` local processes through launchLocalWorld, each running this file with --worker:
 * they join the world and run the allreduce probe (fixed iteration counts on every rank); rank 0
 * prints its results as one JSON line.
 *
 * The comparison uses BUS bandwidth, 2(N-1)/N * bytes / time: the bytes each rank pushes through its
 * ring link per second, the quantity one TCP stream's throughput bounds. (At N = 2 it equals the
 * algorithm bandwidth, bytes / time.) Two references, measured just before: one stream in one
 * direction (the headline), and both directions at once, which is what each rank of a 2-rank ring
 * does: on a small machine the two directions share the cores, so the duplex figure is the tighter
 * ceiling. Loopback on a shared machine is noisy: compare figures from the same run only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable } from 'markdown-table';
import {
  joinWorld,
  launchLocalWorld,
  measureLoopbackThroughput,
  probeAllreduce,
  worldFromEnv,
  type AllreduceProbeResult,
  type LoopbackThroughputResult,
} from '../src/distributed/collective/index.js';

const RESULT_PREFIX = 'ALLREDUCE_PROBE ';
const REFERENCE_BYTES = 16 * 1024 * 1024;

const { values } = parseArgs({
  options: {
    worker: { type: 'boolean', default: false },
    workers: { type: 'string', default: '2' },
    'sizes-kib': { type: 'string', default: '4,16,64,256,1024,4096,16384,65536' },
    'chunk-kib': { type: 'string', default: '1024' },
    out: { type: 'string' },
  },
});
const sizesBytes = values['sizes-kib'].split(',').map((kib) => Number(kib) * 1024);
const chunkBytes = Number(values['chunk-kib']) * 1024;

if (values.worker) {
  const collective = await joinWorld(worldFromEnv(), { chunkBytes, timeoutMs: 60_000 });
  const result = await probeAllreduce(collective, { sizesBytes });
  if (collective.rank === 0) console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
  await collective.close();
} else {
  await main(Number(values.workers));
}

async function main(workers: number): Promise<void> {
  const log = (line = '') => console.log(line);
  log(`# Allreduce over TCP, ${workers} local workers, chunk ${chunkBytes / 1024} KiB`);
  log('');
  const loopback: LoopbackThroughputResult = await measureLoopbackThroughput();
  const duplex: LoopbackThroughputResult = await measureLoopbackThroughput({ duplex: true });
  log(`raw TCP loopback between two processes, 256 MiB in 1 MiB writes, median of ${loopback.samples.length}:`);
  log(`  one direction:   ${gbps(loopback.bytesPerSecond)} GB/s (${loopback.samples.map(gbps).join(', ')})`);
  log(`  both directions: ${gbps(duplex.bytesPerSecond)} GB/s each way (${duplex.samples.map(gbps).join(', ')})`);
  log('');

  let probe: AllreduceProbeResult | null = null;
  const self = fileURLToPath(import.meta.url);
  const outcome = await launchLocalWorld({
    command: process.execPath,
    args: [...process.execArgv, self, '--worker', '--sizes-kib', values['sizes-kib'], '--chunk-kib', values['chunk-kib']],
    workers,
    timeoutMs: 600_000,
    onStdoutLine: (rank, line) => {
      if (rank === 0 && line.startsWith(RESULT_PREFIX)) probe = JSON.parse(line.slice(RESULT_PREFIX.length)) as AllreduceProbeResult;
      else log(`[rank ${rank}] ${line}`);
    },
    onStderrLine: (rank, line) => process.stderr.write(`[rank ${rank}] ${line}\n`),
  });
  if (!outcome.ok) throw new Error(`allreduce workers failed: ${outcome.reason}`);
  const result = probe as AllreduceProbeResult | null;
  if (!result) throw new Error('rank 0 printed no probe result');

  log(
    markdownTable(
      [
        ['size', 'calls', 'mean ms', 'p50 ms', 'p99 ms', 'rme %', 'algbw GB/s', 'busbw GB/s', 'busbw / raw TCP', 'busbw / duplex TCP'],
        ...result.sizes.map((s) => [
          kib(s.bytes),
          String(s.samples),
          ms(s.meanMs),
          ms(s.p50Ms),
          ms(s.p99Ms),
          Number.isNaN(s.rme) ? '-' : s.rme.toFixed(1),
          gbps(s.algorithmBandwidth),
          gbps(s.busBandwidth),
          percent(s.busBandwidth, loopback.bytesPerSecond),
          percent(s.busBandwidth, duplex.bytesPerSecond),
        ]),
      ],
      { align: ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'] },
    ),
  );
  const reference = result.sizes.find((s) => s.bytes === REFERENCE_BYTES);
  if (reference) {
    log('');
    log(
      `16 MiB allreduce: bus bandwidth ${gbps(reference.busBandwidth)} GB/s = ${percent(reference.busBandwidth, loopback.bytesPerSecond)} of one-direction loopback TCP ` +
        `(${gbps(loopback.bytesPerSecond)} GB/s; target >= 50%), ${percent(reference.busBandwidth, duplex.bytesPerSecond)} of duplex (${gbps(duplex.bytesPerSecond)} GB/s each way)`,
    );
  }
  if (values.out) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify({ workers, chunkBytes, loopback, duplexLoopback: duplex, allreduce: result }, null, 2)}\n`);
    log(`wrote ${values.out}`);
  }
}

function gbps(bytesPerSecond: number): string {
  return (bytesPerSecond / 1e9).toFixed(2);
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(0)}%`;
}

function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3);
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}
