/**
 * `npm run bench`: the CPU performance picture in one run, on one machine, side by side:
 *   1. sgemm GFLOP/s of raw OpenBLAS (the physical limit) and tfjs matMul plain vs BLAS kernels;
 *   2. training-step time per optimizer for mlp and cnn at global batch 128 and 1024, plain vs BLAS;
 *   3. the same SGD steps in PyTorch where python3-torch is installed;
 *   4. a full Fashion-MNIST epoch of mlp + sgd.
 * Prints Markdown tables and writes everything to a JSON file.
 *
 *   npm run bench -- [--full] [--out FILE] [--skip-epoch] [--models mlp,cnn]
 * Without --full, plain-kernel (un-accelerated) training steps are timed only where one step takes
 * seconds, not minutes: the slow rows are listed as skipped. --full times all of them (~1 hour).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { markdownTable } from 'markdown-table';
import { blasStatus, enableBlasKernels } from '../src/compute/accel/index.js';
import { symmetricInverse64 } from '../src/compute/accel/linalg64.js';
import { describeEnvironment } from '../src/compute/backend/environment.js';
import { selectBackend } from '../src/compute/backend/selectBackend.js';
import { resolveTrainConfig } from '../src/config/resolveConfig.js';
import type { OptimizerName } from '../src/config/trainConfig.js';
import { executeRun } from '../src/train/executeRun.js';
import { runMatmulBench } from './matmul.js';
import { runTorchSteps, type TorchResult } from './pytorch.js';
import { timeTrainingStep, type StepCase, type StepModel, type StepTiming } from './trainStep.js';

function parseModels(value: string): StepModel[] {
  const models = value.split(',').map((m) => m.trim());
  const unknown = models.filter((m) => m !== 'mlp' && m !== 'cnn');
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown model ${unknown.join(', ')} (mlp, cnn)`);
  return models as StepModel[];
}

const program = new Command('bench')
  .description('CPU performance: BLAS limit, tfjs matmul, training steps plain vs BLAS vs PyTorch, one Fashion-MNIST epoch')
  .option('--full', 'also time the slow plain-kernel rows (CNN at batch 1024, K-FAC on plain kernels)')
  .option('--out <file>', 'JSON output', 'reports/bench/cpu-latest.json')
  .option('--skip-epoch', 'skip the full-epoch measurement (needs Fashion-MNIST)')
  .option('--models <list>', 'time the training steps of these models only (mlp, cnn)', parseModels, ['mlp', 'cnn'])
  .parse();
const opts = program.opts<{ full?: boolean; out: string; skipEpoch?: boolean; models: StepModel[] }>();

const log = (line = '') => console.log(line);
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

const backend = await selectBackend('cpu-blas');
const environment = describeEnvironment(backend);
log(
  `# ngd-bench CPU benchmark\n\n${environment.cpuModel}, ${environment.cpuCores} cores; ${environment.accelerator}; tfjs ${environment.tfjsCoreVersion}\n`,
);

// 1. matmul
log('## Matrix multiply 1024x1024\n');
const matmul = await runMatmulBench({ size: 1024 });
log(
  markdownTable([
    ['path', 'GFLOP/s', 'ms'],
    [
      'raw OpenBLAS sgemm (limit)',
      matmul.rawSgemm ? matmul.rawSgemm.gflops.toFixed(1) : '-',
      matmul.rawSgemm ? ms(matmul.rawSgemm.ms) : '-',
    ],
    [
      'tfjs matMul, BLAS kernels',
      matmul.tfjsAccelerated ? matmul.tfjsAccelerated.gflops.toFixed(1) : '-',
      matmul.tfjsAccelerated ? ms(matmul.tfjsAccelerated.ms) : '-',
    ],
    ['tfjs matMul, plain kernels', matmul.tfjsPlain.gflops.toFixed(2), ms(matmul.tfjsPlain.ms)],
  ]),
);
log(
  `\nBLAS path: ${((matmul.fastPathEfficiency ?? 0) * 100).toFixed(0)}% of raw sgemm; ${ratio(matmul.speedup ?? 0)}x the plain kernel.\n`,
);

// 2. training steps
const MODELS: StepModel[] = opts.models;
const BATCHES = [128, 1024];
const OPTIMIZERS: OptimizerName[] = ['sgd', 'ngd', 'smoothed-ngd', 'sam-sgd', 'sam-ngd'];
/** Plain rows that take minutes per step (measured: CNN sgd at 128 is ~1-4 min). */
const slowPlain = (c: Omit<StepCase, 'kernels'>) =>
  (c.model === 'cnn' && (c.batchSize > 128 || c.optimizer !== 'sgd')) || (c.optimizer !== 'sgd' && c.batchSize > 128);
const steps: StepTiming[] = [];
const skipped: string[] = [];
log('## Training step (28x28x1 input, 10 classes)\n');
for (const model of MODELS) {
  for (const batchSize of BATCHES) {
    for (const optimizer of OPTIMIZERS) {
      for (const kernels of ['blas', 'plain'] as const) {
        const c: StepCase = { model, optimizer, batchSize, kernels };
        if (kernels === 'plain' && !opts.full && slowPlain(c)) {
          skipped.push(`${model}/${optimizer}/b${batchSize}`);
          continue;
        }
        process.stderr.write(`  timing ${model} ${optimizer} b${batchSize} ${kernels}...\n`);
        steps.push(await timeTrainingStep(c, symmetricInverse64));
      }
    }
  }
}
// The same K-FAC step with statistics gathered every 10 steps too (amortized like the inverses).
process.stderr.write('  timing mlp ngd b1024 blas, factors every 10 steps...\n');
const ngdSparse = await timeTrainingStep(
  { model: 'mlp', optimizer: 'ngd', batchSize: 1024, kernels: 'blas', factorUpdateInterval: 10 },
  symmetricInverse64,
);
enableBlasKernels();

// 3. PyTorch
const torch: TorchResult = runTorchSteps(
  MODELS.flatMap((model) => BATCHES.map((batchSize) => ({ model, batchSize, iterations: model === 'cnn' ? 5 : 20 }))),
);
const torchMs = (model: string, batchSize: number) =>
  torch.available ? torch.rows.find((r) => r.model === model && r.batchSize === batchSize)?.meanMs : undefined;

const find = (model: string, optimizer: string, batchSize: number, kernels: string) =>
  steps.find((s) => s.model === model && s.optimizer === optimizer && s.batchSize === batchSize && s.kernels === kernels);
const rows: string[][] = [
  ['model', 'batch', 'optimizer', 'BLAS ms/step', 'plain ms/step', 'speed-up', 'vs sgd (BLAS)', 'PyTorch ms/step', 'ours / PyTorch'],
];
for (const model of MODELS) {
  for (const batchSize of BATCHES) {
    for (const optimizer of OPTIMIZERS) {
      const fast = find(model, optimizer, batchSize, 'blas');
      const plain = find(model, optimizer, batchSize, 'plain');
      const sgd = find(model, 'sgd', batchSize, 'blas');
      const pt = optimizer === 'sgd' ? torchMs(model, batchSize) : undefined;
      rows.push([
        model,
        String(batchSize),
        optimizer,
        fast ? ms(fast.meanMs) : '-',
        plain ? ms(plain.meanMs) : 'skipped',
        fast && plain ? `${ratio(plain.meanMs / fast.meanMs)}x` : '-',
        fast && sgd ? `${(fast.meanMs / sgd.meanMs).toFixed(2)}x` : '-',
        pt !== undefined ? ms(pt) : '-',
        pt !== undefined && fast ? `${(fast.meanMs / pt).toFixed(2)}x` : '-',
      ]);
    }
  }
}
log(markdownTable(rows, { align: ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r'] }));
log(`\nK-FAC rows: factors every step (MC Fisher), inverses every 10 steps, mean over 10 steps after one warm-up.`);
log(`With factors (and inverses) every 10 steps, mlp ngd at batch 1024 takes ${ms(ngdSparse.meanMs)} ms/step.`);
if (skipped.length) log(`Plain rows skipped (minutes per step; run with --full): ${skipped.join(', ')}.`);
log(
  torch.available
    ? `PyTorch ${torch.torch}, ${torch.threads} threads, BLAS ${torch.blas}: same models, momentum SGD; it has no K-FAC, so no NGD rows.`
    : `PyTorch rows skipped: ${torch.reason}.`,
);
log('\nPer-phase ms/step (BLAS kernels):\n');
log(
  markdownTable([
    ['model', 'batch', 'optimizer', 'SAM ascent', 'fwd+bwd', 'curvature', 'inversion', 'precondition', 'update'],
    ...steps
      .filter((s) => s.kernels === 'blas')
      .map((s) => [
        s.model,
        String(s.batchSize),
        s.optimizer,
        ...['samAscent', 'forwardBackward', 'curvature', 'inversion', 'preconditioning', 'update'].map((p) =>
          ms(1000 * (s.phasesPerStep[p] ?? 0)),
        ),
      ]),
  ]),
);

// 4. a full epoch
const epoch: { batchSize: number; trainSeconds: number; testAccuracy: number }[] = [];
if (!opts.skipEpoch) {
  log('\n## One epoch of mlp + sgd on Fashion-MNIST (60,000 images)\n');
  for (const batchSize of BATCHES) {
    const result = await executeRun(
      resolveTrainConfig({ model: { name: 'mlp' }, optimizer: { name: 'sgd', lr: 0.05 }, batchSize, epochs: 1, backend: 'cpu-blas' }),
    );
    epoch.push({ batchSize, trainSeconds: result.timing.trainSeconds, testAccuracy: result.final?.testAccuracy ?? NaN });
  }
  log(
    markdownTable([
      ['batch', 'train seconds (excl. evaluation)', 'test accuracy'],
      ...epoch.map((e) => [String(e.batchSize), e.trainSeconds.toFixed(2), `${(100 * e.testAccuracy).toFixed(2)}%`]),
    ]),
  );
}

// Targets from the CPU-speed issue, checked on this run's numbers.
const t = (name: string, ok: boolean | undefined, detail: string) =>
  log(`- ${ok === undefined ? 'n/a ' : ok ? 'MET ' : 'MISS'} ${name}: ${detail}`);
log('\n## Targets\n');
t(
  'BLAS matmul >= 70% of raw sgemm',
  matmul.fastPathEfficiency !== null ? matmul.fastPathEfficiency >= 0.7 : undefined,
  `${((matmul.fastPathEfficiency ?? 0) * 100).toFixed(0)}%`,
);
for (const [model, batch] of [
  ['mlp', 1024],
  ['cnn', 128],
] as const) {
  const f = find(model, 'sgd', batch, 'blas');
  const p = find(model, 'sgd', batch, 'plain');
  t(
    `${model} + sgd step at batch ${batch} >= 30x plain`,
    f && p ? p.meanMs / f.meanMs >= 30 : undefined,
    f && p ? `${ratio(p.meanMs / f.meanMs)}x` : 'not measured',
  );
}
const ngd = find('mlp', 'ngd', 1024, 'blas');
const sgd = find('mlp', 'sgd', 1024, 'blas');
t(
  'mlp ngd step <= 2x sgd step at batch 1024 (factors every step)',
  ngd && sgd ? ngd.meanMs <= 2 * sgd.meanMs : undefined,
  ngd && sgd ? `${(ngd.meanMs / sgd.meanMs).toFixed(2)}x` : '-',
);
t(
  'mlp ngd step <= 2x sgd step at batch 1024 (factors every 10 steps)',
  sgd ? ngdSparse.meanMs <= 2 * sgd.meanMs : undefined,
  sgd ? `${(ngdSparse.meanMs / sgd.meanMs).toFixed(2)}x` : '-',
);
const e128 = epoch.find((e) => e.batchSize === 128);
t(
  'full mlp + sgd epoch < 5 s',
  e128 ? e128.trainSeconds < 5 : undefined,
  e128 ? `${e128.trainSeconds.toFixed(2)} s at batch 128` : 'skipped',
);
if (torch.available) {
  const worst = Math.max(...MODELS.flatMap((m) => BATCHES.map((b) => (find(m, 'sgd', b, 'blas')?.meanMs ?? NaN) / (torchMs(m, b) ?? NaN))));
  t('every sgd step within 1.5x of PyTorch', worst <= 1.5, `worst ${worst.toFixed(2)}x`);
}

mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(
  opts.out,
  `${JSON.stringify({ date: new Date().toISOString(), environment, blas: blasStatus(), matmul, steps, ngdFactorsEvery10: ngdSparse, skippedPlain: skipped, torch, epoch }, null, 2)}\n`,
);
log(`\nJSON: ${opts.out}`);
