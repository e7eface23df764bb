/** `ngd-bench verify-backend`: does a backend compute the same training step as a reference backend? */
import { Command, Option } from 'commander';
import { markdownTable } from 'markdown-table';
import { BACKEND_NAMES, type BackendName } from '../config/trainConfig.js';
import type { EquivalenceReport } from '../probes/stepEquivalence.js';
import { writeJsonAtomic } from '../results/writeJsonAtomic.js';
import { EXIT } from '../util/exitCodes.js';
import { assertWritableFile } from './outputPath.js';

const exp = (x: number) => x.toExponential(1);

export function formatEquivalenceReport(report: EquivalenceReport): string {
  const t = report.tolerance;
  return [
    `One training step on ${report.backend} vs ${report.reference}, from the same weights and batch (relative errors; tolerances: loss ${exp(t.loss)}, K-FAC factors ${exp(t.factors)}, update ${exp(t.update)})`,
    markdownTable([
      ['model', 'optimizer', 'loss', 'K-FAC factors', 'update', 'verdict'],
      ...report.cases.map((c) => [
        c.model,
        c.optimizer,
        exp(c.errors.loss),
        c.optimizer === 'sgd' ? '-' : exp(c.errors.factors),
        exp(c.errors.update),
        c.ok ? 'same' : 'DIFFERS',
      ]),
    ]),
    report.ok ? `${report.backend} computes the same steps as ${report.reference}.` : `${report.backend} differs from ${report.reference}.`,
  ].join('\n\n');
}

export function verifyBackendCommand(): Command {
  return new Command('verify-backend')
    .description('Check that a backend computes the same training step as a reference backend (mlp and cnn, sgd and ngd)')
    .addOption(new Option('--backend <name>', 'the backend to check').choices(BACKEND_NAMES).default('webgpu'))
    .addOption(new Option('--reference <name>', 'the backend to compare with').choices(BACKEND_NAMES).default('cpu-blas'))
    .option('--out <file>', 'write the report JSON here (atomically)')
    .option('--json', 'print the report JSON on stdout instead of a table')
    .addHelpText(
      'after',
      `
Examples:
  ngd-bench verify-backend                              # webgpu vs cpu-blas
  ngd-bench verify-backend --reference cpu --json       # where the BLAS addon is not built

One step of a small mlp and cnn with sgd and ngd on each backend, from the same weights and batch: the
loss, the K-FAC factors and the weight update agree within stated relative tolerances, or the backend
differs. On webgpu every op runs on the adapter (WEBGPU_CPU_FORWARD=false unless set). Exit 0 the same,
1 some step differs, 2 a backend is unavailable.`,
    )
    .action(async (flags: { backend: BackendName; reference: BackendName; out?: string; json?: boolean }) => {
      if (flags.out) assertWritableFile(flags.out);
      // The point is the GPU's own kernels: tfjs would otherwise run small ops on the CPU.
      process.env.WEBGPU_CPU_FORWARD ??= 'false';
      const [{ verifyStepEquivalence }, { selectBackend }] = await Promise.all([
        import('../probes/stepEquivalence.js'),
        import('../compute/backend/selectBackend.js'),
      ]);
      const report = await verifyStepEquivalence(flags.backend, flags.reference, (name) =>
        selectBackend(name, (line) => console.error(line)),
      );
      if (flags.out) writeJsonAtomic(flags.out, report);
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatEquivalenceReport(report)}\n`);
      process.exitCode = report.ok ? EXIT.ok : EXIT.runFailed;
    });
}
