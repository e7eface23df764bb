/**
 * The result of a run that failed before it could report for itself (a worker lost, a child killed,
 * a timeout): no data, no environment, no metrics, but the config, the reason and what it printed.
 */
import type { TrainConfig } from '../config/trainConfig.js';
import { TOOL_VERSION } from '../version.js';
import type { RunResult } from './runResult.js';

export interface FailureFacts {
  config: TrainConfig;
  /** One line: why it failed. */
  error: string;
  failureKind: 'run' | 'infrastructure';
  startedAt: Date;
  finishedAt?: Date;
  stderrTail?: string;
}

export function failedRunResult(facts: FailureFacts): RunResult {
  const finishedAt = facts.finishedAt ?? new Date();
  return {
    schemaVersion: 1,
    tool: { name: 'ngd-bench', version: TOOL_VERSION },
    config: structuredClone(facts.config),
    status: 'failed',
    error: facts.error,
    failureKind: facts.failureKind,
    ...(facts.stderrTail !== undefined ? { stderrTail: facts.stderrTail } : {}),
    dataset: null,
    epochs: [],
    final: null,
    optimizerDiagnostics: {},
    timing: {
      phases: { forwardBackward: 0, curvature: 0, inversion: 0, preconditioning: 0, update: 0, evaluation: 0 },
      totalSeconds: Math.max(0, (finishedAt.getTime() - facts.startedAt.getTime()) / 1000),
      trainSeconds: 0,
      steps: 0,
      samplesPerSecond: 0,
    },
    environment: null,
    startedAt: facts.startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
  };
}
