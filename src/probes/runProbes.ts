/**
 * A suite's timing probes: per optimizer and batch size the cost of each step phase, and, with two or
 * more workers, allreduce latency and bandwidth next to raw loopback TCP (measured in the same run).
 */
import { describeEnvironment } from '../compute/backend/environment.js';
import { resolveTrainConfig } from '../config/resolveConfig.js';
import { selectBackend } from '../compute/backend/selectBackend.js';
import type { Suite } from '../suite/suiteSchema.js';
import { runConfig } from '../suite/expandSuite.js';
import { probeSettings } from '../suite/probes.js';
import { prepareData } from '../train/prepareData.js';
import { fastSpdInverse } from '../train/executeRun.js';
import { stepsPerEpoch } from '../config/batchSplits.js';
import { TOOL_VERSION } from '../version.js';
import type { ProbeReport, StepPhaseProbe } from '../results/probeReport.js';
import { figureOfSamples } from './figure.js';
import { probeMatmul } from './matmulProbe.js';
import { probeStepPhases } from './stepPhaseProbe.js';

export interface ProbeOptions {
  /** Timed steps per cell (default: the suite's probes.iterations). */
  iterations?: number;
  /** Measures the collectives between local worker processes; returns null when there is one worker. */
  allreduce?: (workers: number, sizes: readonly number[], iterations: number) => Promise<ProbeReport['allreduce']>;
  onProgress?(line: string): void;
}

/** Untimed steps first: step 0 builds K-FAC factors and inverses, and lets caches warm. */
const WARMUP_STEPS = 2;

/**
 * The calibration workload timed before every probe: an SGD step of a fixed small mlp on fixed
 * synthetic data, on the same backend. Load from other processes slows it about as much as the probe
 * beside it, so `check` compares step / reference rather than raw milliseconds.
 */
const REFERENCE = {
  workload: 'sgd step, mlp 64-256-256-10, batch 256, synthetic data',
  config: resolveTrainConfig({
    dataset: { name: 'synthetic', trainSize: 512, testSize: 64 },
    model: { name: 'mlp', hiddenWidths: [256, 256] },
    optimizer: { name: 'sgd' },
    batchSize: 256,
    seed: 0,
  }),
  iterations: 10,
};

export async function runProbes(suite: Suite, options: ProbeOptions = {}): Promise<ProbeReport> {
  const settings = probeSettings(suite);
  const iterations = options.iterations ?? settings.iterations;
  const first = runConfig(suite, { optimizerLabel: settings.optimizers[0], batchSize: settings.batchSizes[0], seed: suite.seeds[0] });
  const dataset = await prepareData(first);
  const backend = await selectBackend(first.backend, (line) => options.onProgress?.(line));
  const spdInverse = await fastSpdInverse(backend.active);
  const referenceData = await prepareData(REFERENCE.config);
  const referenceSamples = async () =>
    (await probeStepPhases(REFERENCE.config, referenceData, { iterations: REFERENCE.iterations, warmup: WARMUP_STEPS })).stepSamplesMs;
  const stepPhases: StepPhaseProbe[] = [];
  for (const optimizerLabel of settings.optimizers) {
    for (const batchSize of settings.batchSizes) {
      const config = runConfig(suite, { optimizerLabel, batchSize, seed: suite.seeds[0] });
      stepsPerEpoch(dataset.train.count, batchSize); // a batch larger than the data is an ImpossibleConfigError, not an endless loop
      options.onProgress?.(`probe ${optimizerLabel} b${batchSize}: ${iterations} steps`);
      // The reference brackets the probe (before and after, pooled), so a load change mid-probe shows in both.
      const before = await referenceSamples();
      const { stepSamplesMs: _, ...figures } = await probeStepPhases(config, dataset, { iterations, warmup: WARMUP_STEPS, spdInverse });
      const after = await referenceSamples();
      const reference = { ...(await figureOfSamples('reference', [...before, ...after])), workload: REFERENCE.workload };
      stepPhases.push({ optimizerLabel, optimizer: config.optimizer.name, model: config.model.name, batchSize, ...figures, reference });
    }
  }
  if (settings.matmulSize !== null)
    options.onProgress?.(`probe matmul ${settings.matmulSize}x${settings.matmulSize}: ${iterations} multiplies`);
  const matmul = settings.matmulSize === null ? null : await probeMatmul(settings.matmulSize, iterations);
  const allreduce =
    settings.workers >= 2 && options.allreduce ? await options.allreduce(settings.workers, settings.allreduceSizes, iterations) : null;
  return {
    schemaVersion: 1,
    kind: 'ngd-bench-probes',
    suite: suite.name,
    toolVersion: TOOL_VERSION,
    environment: describeEnvironment(backend),
    createdAt: new Date().toISOString(),
    stepPhases,
    ...(matmul ? { matmul } : {}),
    allreduce,
  };
}
