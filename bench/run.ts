/**
 * `npm run bench`: the CPU performance picture in one run, on one machine, side by side:
 *   1. sgemm GFLOP/s of raw OpenBLAS (the physical limit) and tfjs matMul plain vs BLAS kernels;
 *   2. the conv kernels on their own (GFLOP/s, share of sgemm);
 *   3. training-step time per optimizer for mlp, cnn and DeepOBS's 2c2d at global batch 128 and 1024,
 *      plain vs BLAS, with the SGD steps' analytic GFLOP/s; K-FAC at factor interval 1 and at
 *      kfac-pytorch's CNN intervals (factors every 10 steps, inverses every 100);
 *   4. the same SGD steps and the same K-FAC steps in PyTorch where python3-torch is installed, and the
 *      conv networks' SGD steps against PyTorch's again, interleaved round by round (bench/interleaved.ts);
 *   5. peak RSS of whole train processes (K-FAC on the conv networks at batch 1024 and 8192, whole and
 *      in micro-batches);
 *   6. a full Fashion-MNIST epoch of mlp + sgd.
 * Prints Markdown tables and writes everything to a JSON file.
 *
 *   npm run bench -- [--full] [--out FILE] [--skip-epoch] [--skip-memory] [--models mlp,cnn,2c2d]
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
import { type ConvTiming, timeConvKernels } from './convKernels.js';
import { interleavedSgdRatios } from './interleaved.js';
import { kfacFlopRatio, trainStepFlops, usesLowRankGradient } from './flops.js';
import { runMatmulBench } from './matmul.js';
import { measurePeakMemory, type PeakMemoryRow } from './peakMemory.js';
import { runTorchSteps, type TorchResult } from './pytorch.js';
import { runTorchKfacSteps, type TorchKfacCase, type TorchKfacResult } from './pytorchKfac.js';
import { KFAC_INVERSE_INTERVAL, timeTrainingStep, type StepCase, type StepModel, type StepTiming } from './trainStep.js';

const ALL_MODELS: StepModel[] = ['mlp', 'cnn', '2c2d'];

function parseModels(value: string): StepModel[] {
  const models = value.split(',').map((m) => m.trim());
  const unknown = models.filter((m) => !ALL_MODELS.includes(m as StepModel));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown model ${unknown.join(', ')} (${ALL_MODELS.join(', ')})`);
  return models as StepModel[];
}

const program = new Command('bench')
  .description('CPU performance: BLAS limit, tfjs matmul, training steps plain vs BLAS vs PyTorch, one Fashion-MNIST epoch')
  .option('--full', 'also time the slow plain-kernel rows (CNN at batch 1024, K-FAC on plain kernels)')
  .option('--out <file>', 'JSON output', 'reports/bench/cpu-latest.json')
  .option('--skip-epoch', 'skip the full-epoch measurement (needs Fashion-MNIST)')
  .option('--skip-memory', 'skip the peak-RSS train processes (needs Fashion-MNIST)')
  .option('--skip-plain', 'skip every plain-kernel row (they only show the speed-up over tfjs without BLAS)')
  .option('--models <list>', `time the training steps of these models only (${ALL_MODELS.join(', ')})`, parseModels, ALL_MODELS)
  .parse();
const opts = program.opts<{
  full?: boolean;
  out: string;
  skipEpoch?: boolean;
  skipMemory?: boolean;
  skipPlain?: boolean;
  models: StepModel[];
}>();

const log = (line = '') => console.log(line);
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const percent = (x: number) => `${(100 * x).toFixed(0)}%`;

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

// 2. conv kernels
const sgemmGflops = matmul.rawSgemm?.gflops;
const ofSgemm = (gflops: number) => (sgemmGflops ? percent(gflops / sgemmGflops) : '-');
const MODELS: StepModel[] = opts.models;
const BATCHES = [128, 1024];
const convModels = MODELS.filter((m) => m !== 'mlp');
const conv: ConvTiming[] = [];
if (convModels.length > 0) {
  for (const layer of ['conv1', 'conv2'] as const) {
    conv.push(...(await timeConvKernels(layer, 128)), ...(await timeConvKernels(layer, 1024, 3)));
  }
  log('## Conv kernels (the layers of cnn/2c2d, 5x5 same)\n');
  log(
    markdownTable([
      ['layer', 'op', 'batch', 'ms', 'GFLOP/s', 'of sgemm'],
      ...conv.map((c) => [c.layer, c.op, String(c.batchSize), ms(c.meanMs), c.gflops.toFixed(1), ofSgemm(c.gflops)]),
    ]),
  );
  log('');
  log(
    'conv1: 28x28x1 -> 32 filters, the direct loops for few input channels (native/conv_direct.c; its input gradient is never needed). conv2: 14x14x32 -> 64 filters, im2col + sgemm in threaded chunks (native/conv_chunks.c).\n',
  );
}

// 3. training steps
/** The SAM and smoothing rows cost minutes on the conv networks; their overhead is read on the mlp. */
const optimizersOf = (model: StepModel): OptimizerName[] =>
  model === 'mlp' ? ['sgd', 'ngd', 'smoothed-ngd', 'sam-sgd', 'sam-ngd'] : ['sgd', 'ngd'];
/** Plain rows that take minutes per step (measured: CNN sgd at 128 is ~1-4 min). */
const slowPlain = (c: Omit<StepCase, 'kernels'>) =>
  c.model === '2c2d' || (c.model === 'cnn' && (c.batchSize > 128 || c.optimizer !== 'sgd')) || (c.optimizer !== 'sgd' && c.batchSize > 128);
const steps: StepTiming[] = [];
const skipped: string[] = [];
log('## Training step (28x28x1 input, 10 classes)\n');
for (const model of MODELS) {
  for (const batchSize of BATCHES) {
    for (const optimizer of optimizersOf(model)) {
      for (const kernels of ['blas', 'plain'] as const) {
        const c: StepCase = { model, optimizer, batchSize, kernels };
        if (kernels === 'plain' && (opts.skipPlain || (!opts.full && slowPlain(c)))) {
          skipped.push(`${model}/${optimizer}/b${batchSize}`);
          continue;
        }
        process.stderr.write(`  timing ${model} ${optimizer} b${batchSize} ${kernels}...\n`);
        steps.push(await timeTrainingStep(c, symmetricInverse64));
      }
    }
  }
}
/** kfac-pytorch's intervals for CNNs: statistics every 10 steps, inverses every 100 (100 steps measured). */
const SPARSE = { factorUpdateInterval: 10, inverseUpdateInterval: 100 } as const;
const sparseBatch = (model: StepModel) => (model === 'mlp' ? 1024 : 128);
const sparse: StepTiming[] = [];
for (const model of MODELS) {
  process.stderr.write(`  timing ${model} ngd b${sparseBatch(model)} blas, factors every 10 steps, inverses every 100...\n`);
  sparse.push(
    await timeTrainingStep({ model, optimizer: 'ngd', batchSize: sparseBatch(model), kernels: 'blas', ...SPARSE }, symmetricInverse64),
  );
}
/** kfac.lowRankGradient at both intervals, for the models with a dense layer wider than the batch (2c2d at b128). */
const lowRank: StepTiming[] = [];
for (const model of MODELS.filter((m) => usesLowRankGradient(m, sparseBatch(m)))) {
  for (const intervals of [{ factorUpdateInterval: 1, inverseUpdateInterval: KFAC_INVERSE_INTERVAL }, SPARSE]) {
    process.stderr.write(`  timing ${model} ngd b${sparseBatch(model)} blas, low-rank gradient, factors every ${intervals.factorUpdateInterval}...
`);
    const c = { model, optimizer: 'ngd', batchSize: sparseBatch(model), kernels: 'blas', lowRankGradient: true, ...intervals } as const;
    lowRank.push(await timeTrainingStep(c, symmetricInverse64));
  }
}
enableBlasKernels();

// 4. PyTorch
process.stderr.write('  timing PyTorch sgd and K-FAC steps...\n');
const torch: TorchResult = runTorchSteps(
  MODELS.flatMap((model) => BATCHES.map((batchSize) => ({ model, batchSize, iterations: model === 'mlp' ? 20 : 5 }))),
);
const torchMs = (model: string, batchSize: number) =>
  torch.available ? torch.rows.find((r) => r.model === model && r.batchSize === batchSize)?.meanMs : undefined;
const kfacCases: TorchKfacCase[] = MODELS.flatMap((model) => [
  { model, batchSize: sparseBatch(model), iterations: 10, factorInterval: 1, inverseInterval: 10 },
  { model, batchSize: sparseBatch(model), iterations: 100, factorInterval: 10, inverseInterval: 100 },
]);
const torchKfac: TorchKfacResult = runTorchKfacSteps(kfacCases);

const find = (model: string, optimizer: string, batchSize: number, kernels: string) =>
  steps.find((s) => s.model === model && s.optimizer === optimizer && s.batchSize === batchSize && s.kernels === kernels);
const rows: string[][] = [
  [
    'model',
    'batch',
    'optimizer',
    'BLAS ms/step',
    'plain ms/step',
    'speed-up',
    'vs sgd (BLAS)',
    'GFLOP/s (of sgemm)',
    'PyTorch ms/step',
    'ours / PyTorch',
  ],
];
for (const model of MODELS) {
  for (const batchSize of BATCHES) {
    for (const optimizer of optimizersOf(model)) {
      const fast = find(model, optimizer, batchSize, 'blas');
      const plain = find(model, optimizer, batchSize, 'plain');
      const sgd = find(model, 'sgd', batchSize, 'blas');
      const pt = optimizer === 'sgd' ? torchMs(model, batchSize) : undefined;
      const gflops = optimizer === 'sgd' && fast ? trainStepFlops(model, batchSize) / (fast.meanMs * 1e6) : undefined;
      rows.push([
        model,
        String(batchSize),
        optimizer,
        fast ? ms(fast.meanMs) : '-',
        plain ? ms(plain.meanMs) : 'skipped',
        fast && plain ? `${ratio(plain.meanMs / fast.meanMs)}x` : '-',
        fast && sgd ? `${(fast.meanMs / sgd.meanMs).toFixed(2)}x` : '-',
        gflops !== undefined ? `${gflops.toFixed(1)} (${ofSgemm(gflops)})` : '-',
        pt !== undefined ? ms(pt) : '-',
        pt !== undefined && fast ? `${(fast.meanMs / pt).toFixed(2)}x` : '-',
      ]);
    }
  }
}
log(markdownTable(rows, { align: ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'] }));
log(`\nK-FAC rows: factors every step (MC Fisher), inverses every 10 steps, mean over 10 steps after one warm-up.`);
log('GFLOP/s: analytic FLOPs of the conv and dense layers (forward, weight and input gradients) per second of the step.');
if (skipped.length) log(`Plain rows skipped (minutes per step; run with --full): ${skipped.join(', ')}.`);
log(
  torch.available
    ? `PyTorch ${torch.torch}, ${torch.threads} threads, BLAS ${torch.blas}: same models, momentum SGD.`
    : `PyTorch rows skipped: ${torch.reason}.`,
);

// 4b. the conv networks' SGD step against PyTorch's, interleaved round by round
const INTERLEAVED_ROUNDS = 3;
const interleaved =
  torch.available && convModels.length > 0
    ? await interleavedSgdRatios(
        convModels.flatMap((model) => BATCHES.map((batchSize) => ({ model, batchSize }))),
        INTERLEAVED_ROUNDS,
        (line) => process.stderr.write(line),
      )
    : undefined;
if (interleaved) {
  log(`\n## SGD step vs PyTorch, interleaved (${INTERLEAVED_ROUNDS} rounds: ours, then PyTorch's, each a fresh measurement)\n`);
  if ('unavailable' in interleaved) {
    log(`Skipped: ${interleaved.unavailable}.`);
  } else {
    log(
      markdownTable(
        [
          [
            'model',
            'batch',
            ...Array.from({ length: INTERLEAVED_ROUNDS }, (_, i) => `round ${i + 1}: ours / PyTorch ms`),
            'median ours / PyTorch',
          ],
          ...interleaved.map((r) => [
            r.model,
            String(r.batchSize),
            ...r.rounds.map((x) => `${ms(x.oursMs)} / ${ms(x.torchMs)} = ${x.ratio.toFixed(2)}x`),
            `${r.medianRatio.toFixed(2)}x`,
          ]),
        ],
        { align: ['l', 'r', ...Array.from({ length: INTERLEAVED_ROUNDS }, () => 'r' as const), 'r'] },
      ),
    );
    log('\nThe median of the rounds is the figure to quote: load on this shared machine moves both sides of a round together.');
  }
}

log('\n## K-FAC step: factor intervals, and the same step in PyTorch (bench/torch_kfac.py)\n');
const kfacTorchMs = (model: string, batchSize: number, factorInterval: number) =>
  torchKfac.available
    ? torchKfac.rows.find((r) => r.model === model && r.batchSize === batchSize && r.factorInterval === factorInterval)?.meanMs
    : undefined;
interface KfacRow {
  model: StepModel;
  batchSize: number;
  factors: number;
  inverses: number;
  lowRank: boolean;
  ngd?: StepTiming;
}
const kfacRows: KfacRow[] = MODELS.flatMap((model) => [
  { model, batchSize: sparseBatch(model), factors: 1, inverses: 10, lowRank: false, ngd: find(model, 'ngd', sparseBatch(model), 'blas') },
  { model, batchSize: sparseBatch(model), factors: 10, inverses: 100, lowRank: false, ngd: sparse.find((s) => s.model === model) },
  ...lowRank
    .filter((s) => s.model === model)
    .map((s) => ({
      model,
      batchSize: s.batchSize,
      factors: s.factorUpdateInterval ?? 1,
      inverses: s.inverseUpdateInterval ?? KFAC_INVERSE_INTERVAL,
      lowRank: true,
      ngd: s,
    })),
]);
const kfacRowFlopRatio = (r: KfacRow) => kfacFlopRatio(r.model, r.batchSize, r.factors, r.inverses, r.lowRank);
log(
  markdownTable(
    [
      [
        'model',
        'batch',
        'factors every',
        'inverses every',
        'low-rank gradient',
        'ngd ms/step',
        'ngd / sgd',
        'ngd / sgd in FLOPs',
        'PyTorch K-FAC ms/step',
        'ours / PyTorch',
      ],
      ...kfacRows.map((r) => {
        const sgd = find(r.model, 'sgd', r.batchSize, 'blas');
        const pt = kfacTorchMs(r.model, r.batchSize, r.factors);
        return [
          r.model,
          String(r.batchSize),
          String(r.factors),
          String(r.inverses),
          r.lowRank ? 'yes' : 'no',
          r.ngd ? ms(r.ngd.meanMs) : '-',
          r.ngd && sgd ? `${(r.ngd.meanMs / sgd.meanMs).toFixed(2)}x` : '-',
          `${kfacRowFlopRatio(r).toFixed(2)}x`,
          pt !== undefined ? ms(pt) : '-',
          pt !== undefined && r.ngd ? `${(r.ngd.meanMs / pt).toFixed(2)}x` : '-',
        ];
      }),
    ],
    { align: ['l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r'] },
  ),
);
log(
  torchKfac.available
    ? `\nPyTorch K-FAC: the same factors (MC Fisher, EMA 0.95), damping 1e-3 with the pi-correction, float64 Cholesky inverses, KL-clipping 1e-3, momentum 0.9; its MC output gradients come from the saved pre-activations (no second forward), as ours do on the mlp.`
    : `\nPyTorch K-FAC rows skipped: ${torchKfac.reason}.`,
);
log(
  "\nngd / sgd in FLOPs: (SGD step + K-FAC factors, MC pass, inverses and preconditioning, amortized over the intervals) / SGD step, counted analytically (bench/flops.ts): the time ratio if both steps ran at the same FLOP rate (K-FAC's large products run faster than the SGD step's small ones, so the measured ratio can be lower).",
);
log('\nPer-phase ms/step (BLAS kernels):\n');
log(
  markdownTable([
    ['model', 'batch', 'optimizer', 'factors every', 'SAM ascent', 'fwd+bwd', 'curvature', 'inversion', 'precondition', 'update'],
    ...[...steps.filter((s) => s.kernels === 'blas'), ...sparse, ...lowRank].map((s) => [
      s.model,
      String(s.batchSize),
      s.lowRankGradient ? `${s.optimizer} (low-rank)` : s.optimizer,
      s.optimizer.includes('ngd') ? String(s.factorUpdateInterval ?? 1) : '-',
      ...['samAscent', 'forwardBackward', 'curvature', 'inversion', 'preconditioning', 'update'].map((p) =>
        ms(1000 * (s.phasesPerStep[p] ?? 0)),
      ),
    ]),
  ]),
);

// 5. peak memory
const memory: PeakMemoryRow[] = [];
if (!opts.skipMemory && convModels.length > 0) {
  log('\n## Peak RSS of a train process (one ngd step, K-FAC factors and inverses included)\n');
  // Whole batches, then the largest in micro-batches of 1024 (the memory issue's "at any batch size").
  for (const model of convModels) {
    for (const [batchSize, micro] of [[1024], [8192], [8192, 1024]] as [number, number?][]) {
      process.stderr.write(`  peak RSS of ${model} ngd b${batchSize}${micro ? ` in micro-batches of ${micro}` : ''}...\n`);
      memory.push(measurePeakMemory(model, 'ngd', batchSize, micro));
    }
  }
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
  log(
    markdownTable([
      ['model', 'optimizer', 'batch', 'micro-batch', 'peak RSS'],
      ...memory.map((m) => [
        m.model,
        m.optimizer,
        String(m.batchSize),
        m.microBatchSize !== undefined ? String(m.microBatchSize) : 'whole',
        m.peakRssBytes !== null ? gib(m.peakRssBytes) : `failed: ${m.error}`,
      ]),
    ]),
  );
}

// 6. a full epoch
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
  if (!MODELS.includes(model)) continue;
  t(
    `${model} + sgd step at batch ${batch} >= 30x plain`,
    f && p ? p.meanMs / f.meanMs >= 30 : undefined,
    f && p ? `${ratio(p.meanMs / f.meanMs)}x` : 'not measured',
  );
}
const KFAC_TARGETS: Record<StepModel, { dense: number; sparse: number }> = {
  mlp: { dense: 2, sparse: 1.3 },
  cnn: { dense: 3, sparse: 1.3 },
  '2c2d': { dense: 3, sparse: 1.3 },
};
for (const r of kfacRows) {
  const sgd = find(r.model, 'sgd', r.batchSize, 'blas');
  const limit = r.factors === 1 ? KFAC_TARGETS[r.model].dense : KFAC_TARGETS[r.model].sparse;
  t(
    `${r.model} ngd step <= ${limit}x sgd at batch ${r.batchSize} (factors every ${r.factors}, inverses every ${r.inverses}${r.lowRank ? ', low-rank gradient' : ''})`,
    r.ngd && sgd ? r.ngd.meanMs <= limit * sgd.meanMs : undefined,
    `${r.ngd && sgd ? `${(r.ngd.meanMs / sgd.meanMs).toFixed(2)}x` : '-'} (in FLOPs ${kfacRowFlopRatio(r).toFixed(2)}x)`,
  );
  const pt = kfacTorchMs(r.model, r.batchSize, r.factors);
  t(
    `${r.model} ngd step within 1.5x of PyTorch K-FAC (factors every ${r.factors}${r.lowRank ? ', low-rank gradient' : ''})`,
    pt !== undefined && r.ngd ? r.ngd.meanMs <= 1.5 * pt : undefined,
    pt !== undefined && r.ngd ? `${(r.ngd.meanMs / pt).toFixed(2)}x` : 'not measured',
  );
}
for (const model of convModels) {
  for (const batch of BATCHES) {
    const f = find(model, 'sgd', batch, 'blas');
    // The interleaved rounds' median where they ran (the figure that survives load), else the one pass.
    const rounds =
      interleaved && !('unavailable' in interleaved) ? interleaved.find((r) => r.model === model && r.batchSize === batch) : undefined;
    const pt = torchMs(model, batch);
    const vsTorch = rounds ? rounds.medianRatio : f && pt !== undefined ? f.meanMs / pt : undefined;
    t(
      `${model} sgd step within 1.2x of PyTorch at batch ${batch}${rounds ? ` (median of ${rounds.rounds.length} interleaved rounds)` : ''}`,
      vsTorch !== undefined ? vsTorch <= 1.2 : undefined,
      vsTorch !== undefined
        ? `${vsTorch.toFixed(2)}x${rounds ? ` (rounds ${rounds.rounds.map((x) => x.ratio.toFixed(2)).join(', ')}; the single pass above: ${f && pt !== undefined ? (f.meanMs / pt).toFixed(2) : '-'}x)` : ''}`
        : 'not measured',
    );
    const share = f && sgemmGflops ? trainStepFlops(model, batch) / (f.meanMs * 1e6) / sgemmGflops : undefined;
    t(
      `${model} sgd step >= 60% of sgemm at batch ${batch}`,
      share !== undefined ? share >= 0.6 : undefined,
      share !== undefined ? percent(share) : '-',
    );
  }
}
for (const m of memory) {
  t(
    `${m.model} ngd peak RSS < 6 GiB at batch ${m.batchSize}${m.microBatchSize !== undefined ? ` (micro-batches of ${m.microBatchSize})` : ''}`,
    m.peakRssBytes !== null ? m.peakRssBytes < 6 * 2 ** 30 : undefined,
    m.peakRssBytes !== null ? `${(m.peakRssBytes / 2 ** 30).toFixed(2)} GiB` : (m.error ?? '-'),
  );
}
const e128 = epoch.find((e) => e.batchSize === 128);
t(
  'full mlp + sgd epoch < 5 s',
  e128 ? e128.trainSeconds < 5 : undefined,
  e128 ? `${e128.trainSeconds.toFixed(2)} s at batch 128` : 'skipped',
);
if (torch.available && MODELS.includes('mlp')) {
  const worst = Math.max(...BATCHES.map((b) => (find('mlp', 'sgd', b, 'blas')?.meanMs ?? NaN) / (torchMs('mlp', b) ?? NaN)));
  t('mlp sgd steps within 1.5x of PyTorch', worst <= 1.5, `worst ${worst.toFixed(2)}x`);
}

mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(
  opts.out,
  `${JSON.stringify({ date: new Date().toISOString(), environment, blas: blasStatus(), matmul, conv, steps, kfacSparse: sparse, kfacLowRank: lowRank, skippedPlain: skipped, torch, interleaved, torchKfac, memory, epoch }, null, 2)}\n`,
);
log(`\nJSON: ${opts.out}`);
