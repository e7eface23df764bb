/** One cell of a suite's run matrix: what the harness launches and what `--resume` matches on. */
import type { TrainConfig } from '../config/trainConfig.js';

export type SweepValue = number | string | boolean | null;

export interface PlannedRun {
  /** Stable and filesystem-safe: `${name}-${configHash.slice(0, 10)}`. */
  readonly id: string;
  /** Readable: optimizer label, batch size, workers, seed and any swept values, e.g. `ngd-b1024-w2-s0-damping=0.01`. */
  readonly name: string;
  /** sha256 (hex) of the canonical JSON (sorted keys) of `{ config, workers }`. */
  readonly configHash: string;
  /** The suite's `name`. */
  readonly suite: string;
  /** The optimizer entry's label (defaults to the optimizer name; two entries may share a name). */
  readonly optimizerLabel: string;
  /** Fully resolved (defaults filled) training config; `batchSize` is the global batch. */
  readonly config: TrainConfig;
  /** Data-parallel worker processes (GPUs on GPU runners). */
  readonly workers: number;
  /** The values of the swept hyper-parameters for this cell, keyed by their config path (e.g. `optimizer.kfac.damping`). */
  readonly sweep: Readonly<Record<string, SweepValue>>;
  /** A tuned suite's final run: the values tuning selected for its cell, keyed by config path. */
  readonly tuned?: Readonly<Record<string, SweepValue>>;
  /** Per-run wall-clock limit for the harness, seconds. */
  readonly timeoutSeconds: number;
  /** Retries for infrastructure failures (never for divergence). */
  readonly retries: number;
}
