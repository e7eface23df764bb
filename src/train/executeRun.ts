/**
 * A whole run as a result document: backend, data, training, environment. Bad input (dataset,
 * impossible config, unavailable backend) throws before training starts; a failure during training
 * becomes a result with status 'failed'.
 */
import { describeEnvironment } from '../compute/backend/environment.js';
import { type BackendInfo, selectBackend } from '../compute/backend/selectBackend.js';
import type { TrainConfig } from '../config/trainConfig.js';
import type { Dataset } from '../data/index.js';
import type { SpdInverse } from '../optim/kfac/dampedInverse.js';
import type { ReplicaGroup } from '../optim/replicaGroup.js';
import type { Parallel, RankBackend, RunResult } from '../results/runResult.js';
import { TOOL_VERSION } from '../version.js';
import { evaluationSplits, prepareData } from './prepareData.js';
import { stepsPerEpoch } from '../config/batchSplits.js';
import { runTraining, type TrainingHooks, type TrainingOptions } from './runTraining.js';

/** This process's place in a data-parallel run. */
export interface DistributedContext {
  replicas: ReplicaGroup;
  /** This rank's index among the ranks on its host (its GPU, on a GPU backend). */
  localRank: number;
  /** Every rank's `text`, by rank: how rank 0 learns what the others ran on. Not counted as communication. */
  gatherText(text: string): Promise<string[]>;
  launcher: Parallel['launcher'];
  threadsPerWorker: number;
  algorithm: string;
  verifyReplicas: boolean;
  /** Time spent in, and payload bytes passed to, collectives so far. */
  communication(): { seconds: number; payloadBytes: number };
}

export interface ExecuteOptions {
  hooks?: TrainingHooks;
  warn?: (line: string) => void;
  distributed?: DistributedContext;
  /** Sees the trained parameters (e.g. to save them) of a run that finished ok. */
  onTrained?: TrainingOptions['onTrained'];
  /** Refuse (ImpossibleConfigError, before the first step) a batch whose training pass would not fit. */
  memoryBudgetBytes?: number;
}

/** The fastest float64 SPD inverse the active backend offers (LAPACK on cpu-blas), else the JS Cholesky. */
export async function fastSpdInverse(active: string): Promise<SpdInverse | undefined> {
  if (active !== 'cpu-blas') return undefined;
  const { symmetricInverse64 } = await import('../compute/accel/linalg64.js');
  return symmetricInverse64;
}

/**
 * What every rank ran on, gathered once before training. Ranks on different backends (auto finding a
 * GPU on one host and not another) cannot keep bit-identical replicas: worth a line, and on record.
 */
async function rankBackends(distributed: DistributedContext, backend: BackendInfo, warn?: (line: string) => void): Promise<RankBackend[]> {
  const own: RankBackend = {
    rank: distributed.replicas.rank,
    backend: backend.active,
    accelerator: backend.accelerator,
    ...(backend.adapter ? { gpuAdapter: backend.adapter } : {}),
  };
  const ranks = (await distributed.gatherText(JSON.stringify(own))).map((text) => JSON.parse(text) as RankBackend);
  const kinds = new Set(ranks.map((r) => r.backend));
  if (kinds.size > 1) warn?.(`ngd-bench: ranks run on different backends (${ranks.map((r) => `rank ${r.rank}: ${r.backend}`).join(', ')})`);
  return ranks;
}

export async function executeRun(config: TrainConfig, options: ExecuteOptions = {}): Promise<RunResult> {
  const startedAt = new Date();
  // Data first: bad input should fail before any backend work or warning.
  const dataset: Dataset = await prepareData(config);
  const { distributed } = options;
  const workers = distributed?.replicas.worldSize ?? 1;
  stepsPerEpoch(dataset.train.count, config.batchSize, workers); // an impossible batch size fails before any backend work
  const splits = evaluationSplits(config, dataset);
  const backend = await selectBackend(config.backend, options.warn, distributed?.localRank);
  const environment = describeEnvironment(backend);
  if (distributed && workers > 1) environment.ranks = await rankBackends(distributed, backend, options.warn);
  const base = {
    schemaVersion: 1 as const,
    tool: { name: 'ngd-bench' as const, version: TOOL_VERSION },
    config,
    dataset: {
      source: dataset.source,
      trainExamples: dataset.train.count,
      testExamples: dataset.test.count,
      ...(dataset.validation ? { validationExamples: dataset.validation.count } : {}),
      ...(splits.train !== dataset.train ? { trainEvalExamples: splits.train.count } : {}),
      inputShape: [...dataset.inputShape],
      numClasses: dataset.numClasses,
    },
    environment,
    startedAt: startedAt.toISOString(),
  };
  const spdInverse = await fastSpdInverse(backend.active);
  const outcome = await runTraining(config, dataset, {
    hooks: options.hooks,
    spdInverse,
    replicas: distributed?.replicas,
    verifyReplicas: distributed?.verifyReplicas,
    evaluationSplits: splits,
    onTrained: options.onTrained,
    memoryBudgetBytes: options.memoryBudgetBytes,
  });
  const samples = outcome.steps * config.batchSize;
  const parallel = (d: DistributedContext): Parallel => {
    const comm = d.communication();
    return {
      workers,
      launcher: d.launcher,
      perWorkerBatchSize: config.batchSize / workers,
      threadsPerWorker: d.threadsPerWorker,
      allreduce: d.algorithm,
      communicationSeconds: comm.seconds,
      bytesAllreducedPerStep: outcome.steps > 0 ? Math.round(comm.payloadBytes / outcome.steps) : 0,
      replicaChecks: outcome.replicaChecks,
    };
  };
  return {
    ...base,
    status: outcome.status,
    ...(outcome.divergedAtStep !== undefined ? { divergedAtStep: outcome.divergedAtStep } : {}),
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    ...(outcome.failureKind !== undefined ? { failureKind: outcome.failureKind } : {}),
    ...(distributed ? { parallel: parallel(distributed) } : {}),
    epochs: outcome.epochs,
    evaluations: outcome.evaluations,
    ...(outcome.stopReason !== undefined ? { stopReason: outcome.stopReason } : {}),
    ...(outcome.target !== undefined ? { target: outcome.target } : {}),
    final: outcome.final,
    optimizerDiagnostics: outcome.optimizerDiagnostics,
    timing: {
      phases: outcome.phases,
      totalSeconds: (Date.now() - startedAt.getTime()) / 1000,
      trainSeconds: outcome.trainSeconds,
      steps: outcome.steps,
      samplesPerSecond: outcome.trainSeconds > 0 ? samples / outcome.trainSeconds : 0,
      peakRssBytes: process.resourceUsage().maxRSS * 1024, // getrusage's ru_maxrss is in KiB on Linux
    },
    finishedAt: new Date().toISOString(),
  };
}
