/**
 * Is a re-run the same run as a committed one, bit for bit? Pure: two result files in, the fields that
 * differ out. Seeded CPU runs are deterministic (the brief's "seeded runs bit-identical on CPU"), so
 * every recorded number that training produced must be equal with `===`, not within a tolerance.
 * Timings, dates and the host are not compared: they are the machine's, not the run's.
 */
import type { RunResult } from '../results/runResult.js';

export type ReproductionVerdict = 'identical' | 'differs' | 'not comparable';

export interface Reproduction {
  readonly verdict: ReproductionVerdict;
  /** One line per differing field ("final.testAccuracy: 0.8948 committed, 0.8951 re-run"), or why the two cannot be compared. */
  readonly differences: readonly string[];
  /** Numbers compared (fields of `final` and of every epoch, plus status and diverged step). */
  readonly fieldsCompared: number;
  /** A likely cause worth naming when the runs differ (e.g. another CPU model: BLAS picks its kernels by CPU), else null. */
  readonly note: string | null;
  /** Both results name the same CPU model: bit-identity is promised only then on BLAS-backed CPU backends. */
  readonly sameCpu: boolean;
}

const EPOCH_FIELDS = [
  'steps',
  'learningRate',
  'meanBatchLoss',
  'trainLoss',
  'trainAccuracy',
  'testLoss',
  'testAccuracy',
  'validationLoss',
  'validationAccuracy',
] as const;
const FINAL_FIELDS = [
  'trainLoss',
  'trainAccuracy',
  'testLoss',
  'testAccuracy',
  'validationLoss',
  'validationAccuracy',
  'generalizationGap',
] as const;
/** Every number of an evaluation that training produced (its training seconds are the machine's). */
const EVALUATION_FIELDS = [
  'step',
  'epoch',
  'samples',
  'learningRate',
  'trainLoss',
  'trainAccuracy',
  'validationLoss',
  'validationAccuracy',
  'testLoss',
  'testAccuracy',
] as const;
const TARGET_FIELDS = ['metric', 'value', 'reached', 'stepsToTarget', 'samplesToTarget', 'epochsToTarget', 'best', 'bestAtStep'] as const;

const show = (value: unknown) => (value === undefined ? 'absent' : JSON.stringify(value));

/** Why two results are not runs of the same thing on the same backend, or null when they are. */
function incomparable(committed: RunResult, rerun: RunResult): string[] {
  const reasons: string[] = [];
  const hash = (r: RunResult) => r.run?.configHash ?? null;
  if (hash(committed) !== hash(rerun))
    reasons.push(`config hash: ${show(hash(committed))} committed, ${show(hash(rerun))} re-run (a different run)`);
  const backend = (r: RunResult) => r.environment?.backend ?? null;
  if (backend(committed) !== backend(rerun)) {
    reasons.push(
      `backend: ${show(backend(committed))} committed, ${show(backend(rerun))} re-run (bit-identity is promised on the same backend only)`,
    );
  }
  const workers = (r: RunResult) => r.parallel?.workers ?? 1;
  if (workers(committed) !== workers(rerun)) reasons.push(`workers: ${workers(committed)} committed, ${workers(rerun)} re-run`);
  return reasons;
}

/**
 * The CPU as the arithmetic sees it: the model name and the BLAS library with the kernels it picked
 * (e.g. "openblas 0.3.21 (pthread, 2 threads, Zen kernels)"). A virtual machine may report the same
 * model name on different hardware, where OpenBLAS picks other kernels: the kernels decide the bits.
 */
const cpuOf = (r: RunResult) => {
  const model = r.environment?.cpuModel ?? 'unknown';
  const kernels = /\b(\w+) kernels\b/.exec(r.environment?.accelerator ?? '')?.[1];
  return kernels ? `${model} (${kernels} kernels)` : model;
};

export function compareReproduction(committed: RunResult, rerun: RunResult): Reproduction {
  const sameCpu = cpuOf(committed) === cpuOf(rerun);
  if (rerun.status === 'failed') {
    return {
      verdict: 'not comparable',
      differences: [`re-run failed: ${rerun.error ?? 'no reason recorded'}`],
      fieldsCompared: 0,
      note: null,
      sameCpu,
    };
  }
  const reasons = incomparable(committed, rerun);
  if (reasons.length > 0) return { verdict: 'not comparable', differences: reasons, fieldsCompared: 0, note: null, sameCpu };

  const differences: string[] = [];
  let fieldsCompared = 0;
  /** `optional`: a field neither result may record (no validation split, no target) is not a number compared. */
  const same = (path: string, a: unknown, b: unknown, optional = true) => {
    if (optional && a === undefined && b === undefined) return;
    fieldsCompared++;
    if (a !== b) differences.push(`${path}: ${show(a)} committed, ${show(b)} re-run`);
  };

  same('status', committed.status, rerun.status);
  same('divergedAtStep', committed.divergedAtStep, rerun.divergedAtStep, false);
  same('epochs.length', committed.epochs.length, rerun.epochs.length);
  const epochs = Math.min(committed.epochs.length, rerun.epochs.length);
  for (let i = 0; i < epochs; i++) {
    for (const field of EPOCH_FIELDS) same(`epochs[${i}].${field}`, committed.epochs[i][field], rerun.epochs[i][field]);
  }
  // Results written before evaluation curves and targets existed have neither: nothing to compare then.
  if (committed.evaluations !== undefined) {
    same('stopReason', committed.stopReason, rerun.stopReason);
    const rerunEvaluations = rerun.evaluations ?? [];
    same('evaluations.length', committed.evaluations.length, rerunEvaluations.length);
    const n = Math.min(committed.evaluations.length, rerunEvaluations.length);
    for (let i = 0; i < n; i++) {
      for (const field of EVALUATION_FIELDS)
        same(`evaluations[${i}].${field}`, committed.evaluations[i][field], rerunEvaluations[i][field]);
    }
  }
  if (committed.target !== undefined || rerun.target !== undefined) {
    for (const field of TARGET_FIELDS) same(`target.${field}`, committed.target?.[field], rerun.target?.[field]);
  }
  if (committed.final === null || rerun.final === null) {
    same('final', committed.final === null ? null : 'present', rerun.final === null ? null : 'present');
  } else {
    for (const field of FINAL_FIELDS) same(`final.${field}`, committed.final[field], rerun.final[field]);
  }
  if (differences.length === 0) return { verdict: 'identical', differences, fieldsCompared, note: null, sameCpu };
  const note = sameCpu
    ? null
    : `committed on ${cpuOf(committed)}, re-run on ${cpuOf(rerun)}: the BLAS library picks its kernels by CPU, which can change the last bits`;
  return { verdict: 'differs', differences, fieldsCompared, note, sameCpu };
}
