/** `ngd-bench probe SUITE`: timing probes (step phases; allreduce vs raw loopback TCP). */
import { assertWritableFile } from './outputPath.js';
import { Command } from 'commander';
import { markdownTable } from 'markdown-table';
import { assertValid } from '../config/validate.js';
import { probeAllreduce } from '../distributed/collective/allreduceProbe.js';
import { joinWorld } from '../distributed/collective/joinWorld.js';
import { worldFromEnv } from '../distributed/collective/worldInfo.js';
import { ALLREDUCE_WORKER_COMMAND, measureAllreduceAcrossWorkers } from '../probes/allreduceAcrossWorkers.js';
import { ProbeReportSchema, type ProbeReport, shownPhaseColumns } from '../results/probeReport.js';
import { writeJsonAtomic } from '../results/writeJsonAtomic.js';
import { loadSuite } from '../suite/loadSuite.js';
import { parseInteger, parseIntegerList } from './parseFlags.js';

const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1);
const rate = (bytesPerSecond: number) => `${(bytesPerSecond / 1e9).toFixed(2)} GB/s`;

export function formatProbeReport(report: ProbeReport): string {
  const columns = shownPhaseColumns(report.stepPhases);
  const steps = markdownTable([
    ['optimizer', 'batch', 'step ms (median)', 'p99', '±%', 'samples/s', ...columns.map(([, heading]) => heading)],
    ...report.stepPhases.map((p) => [
      p.optimizerLabel,
      String(p.batchSize),
      ms(p.step.medianMs),
      ms(p.step.p99Ms),
      p.step.rmePercent === null ? '-' : p.step.rmePercent.toFixed(1),
      p.samplesPerSecond.toFixed(0),
      ...columns.map(([phase]) => ms(p.phases[phase]?.meanMs ?? 0)),
    ]),
  ]);
  const parts = [
    `Step phases (mean ms per step; ${report.environment.backend} on ${report.environment.gpuAdapter ? report.environment.accelerator : report.environment.cpuModel})`,
    steps,
  ];
  const mm = report.matmul;
  if (mm)
    parts.push(
      `${mm.size}x${mm.size} float32 matMul on ${report.environment.backend}: ${ms(mm.time.medianMs)} ms median, ${mm.gflops.toFixed(1)} GFLOP/s`,
    );
  const ar = report.allreduce;
  if (ar) {
    parts.push(
      `Allreduce between ${ar.workers} local workers (${ar.algorithm}); raw loopback TCP: ${rate(ar.loopbackTcp.bytesPerSecond)}`,
      markdownTable([
        ['bytes', 'median ms', 'p99 ms', '±%', 'algorithm bw', 'bus bw', 'bus bw / raw TCP'],
        ...ar.sizes.map((s) => [
          String(s.bytes),
          ms(s.latency.medianMs),
          ms(s.latency.p99Ms),
          s.latency.rmePercent === null ? '-' : s.latency.rmePercent.toFixed(1),
          rate(s.algorithmBandwidth),
          rate(s.busBandwidth),
          `${((100 * s.busBandwidth) / ar.loopbackTcp.bytesPerSecond).toFixed(0)}%`,
        ]),
      ]),
    );
  }
  return parts.join('\n\n');
}

export function probeCommand(): Command {
  return new Command('probe')
    .description(
      "Timing probes for a suite: each step phase's cost per optimizer and batch size, and allreduce bandwidth vs raw loopback TCP",
    )
    .argument('<suite>', 'suite file (.json or .yaml)')
    .option('--out <file>', 'write the probe report JSON here (atomically)')
    .option('--json', 'print the report JSON on stdout instead of tables')
    .option('--iterations <n>', "timed steps per probe (default: the suite's probes.iterations)", parseInteger)
    .option('--no-allreduce', 'skip the allreduce probes')
    .addHelpText(
      'after',
      `
Examples:
  ngd-bench probe suites/smoke.json
  ngd-bench probe suites/smoke.json --out reports/probes/smoke.json

Which optimizers, batch sizes, message sizes and worker counts are probed comes from the suite's
"probes" section. Each figure reports mean, median, p99, relative margin of error and sample count.`,
    )
    .action(async (file: string, flags: { out?: string; json?: boolean; iterations?: number; allreduce: boolean }) => {
      const suite = loadSuite(file);
      if (flags.out) assertWritableFile(flags.out);
      // The training code loads only when probing starts (see trainCommand).
      const { runProbes } = await import('../probes/runProbes.js');
      const report = await runProbes(suite, {
        iterations: flags.iterations,
        allreduce: flags.allreduce ? measureAllreduceAcrossWorkers : undefined,
        onProgress: (line) => console.error(line),
      });
      assertValid(ProbeReportSchema, report, 'internal error: probe report does not match its schema');
      if (flags.out) writeJsonAtomic(flags.out, report);
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatProbeReport(report)}\n`);
    });
}

/** Hidden: one rank of the allreduce probe (started by `probe`, never by hand). */
export function allreduceProbeWorkerCommand(): Command {
  return new Command(ALLREDUCE_WORKER_COMMAND)
    .description('internal: one rank of the allreduce probe')
    .requiredOption('--sizes <list>', 'message sizes, bytes', parseIntegerList)
    .requiredOption('--iterations <n>', 'timed calls per size', parseInteger)
    .action(async (flags: { sizes: number[]; iterations: number }) => {
      const collective = await joinWorld(worldFromEnv());
      try {
        const result = await probeAllreduce(collective, { sizesBytes: flags.sizes, iterations: flags.iterations });
        if (collective.rank === 0) process.stdout.write(`${JSON.stringify(result)}\n`);
      } finally {
        await collective.close();
      }
    });
}
