/**
 * Does a backend compute the same training step as a reference backend? One step of a small mlp and
 * cnn with sgd and ngd, from the same weights and the same batch on both: the loss, the K-FAC factors
 * (ngd) and the weight update, compared relative to the reference's largest magnitude. A GPU backend is
 * checked this way against cpu-blas (or the plain CPU kernels) before its timings mean anything.
 */
import type { BackendName, OptimizerName } from '../config/trainConfig.js';
import { resolveTrainConfig } from '../config/resolveConfig.js';
import { createCnn } from '../models/cnn.js';
import { createMlp } from '../models/mlp.js';
import type { Model } from '../models/model.js';
import { createOptimizer } from '../optim/createOptimizer.js';
import type { NaturalGradientOptimizer } from '../optim/naturalGradient.js';
import { tf } from '../tf.js';
import { PhaseTimer } from '../util/phaseTimer.js';

/**
 * Relative to the largest magnitude of the compared quantity: float32 kernels that sum in another order,
 * and (ngd) K-FAC inverses that amplify the factors' last-bit differences. Observed on lavapipe (Mesa
 * 25.0.7) against cpu-blas: loss <= 6.5e-8, factors <= 2.7e-7, update <= 2.4e-7 (sgd), 1.0e-5 (cnn ngd).
 */
export const STEP_TOLERANCE = { loss: 1e-5, factors: 1e-5, update: 1e-4 } as const;

export type EquivalenceArch = 'mlp' | 'cnn';
export const EQUIVALENCE_CASES: readonly [EquivalenceArch, OptimizerName][] = [
  ['mlp', 'sgd'],
  ['mlp', 'ngd'],
  ['cnn', 'sgd'],
  ['cnn', 'ngd'],
];

export interface StepOutcome {
  loss: number;
  /** Parameter values after the step minus before, per parameter. */
  updates: Float32Array[];
  /** K-FAC factors A and G per layer, ngd only. */
  factors: Float32Array[];
}

// The cnn on 8x8 inputs: every kernel of the 28x28 model (conv, pool, their gradients, K-FAC patches), a fraction of a software adapter's time.
export const EQUIVALENCE_SHAPE: Record<EquivalenceArch, [number, number, number]> = { mlp: [1, 1, 20], cnn: [8, 8, 1] };
export const EQUIVALENCE_ROWS = 8;

/** A fixed batch (a linear congruential generator: the same numbers on every machine). */
export function equivalenceBatch(arch: EquivalenceArch): { x: Float32Array; y: Int32Array } {
  const [h, w, c] = EQUIVALENCE_SHAPE[arch];
  let s = 12345;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return {
    x: Float32Array.from({ length: EQUIVALENCE_ROWS * h * w * c }, () => next() * 2 - 1),
    y: Int32Array.from({ length: EQUIVALENCE_ROWS }, () => Math.floor(next() * 10)),
  };
}

export function equivalenceModel(arch: EquivalenceArch, initial?: Float32Array[]): Model {
  const shape = EQUIVALENCE_SHAPE[arch];
  const model = arch === 'mlp' ? createMlp(shape, 10, [16], 3) : createCnn(shape, 10, 3);
  // The same starting point on both backends, whatever each backend's initializers do.
  if (initial) {
    for (const [i, p] of model.params.entries()) tf.tidy(() => p.assign(tf.tensor(initial[i], p.shape)));
  }
  return model;
}

/** One step on the active backend; `initial` weights if given, else the model's own (returned as `initial`). */
export async function oneStep(
  arch: EquivalenceArch,
  optimizer: OptimizerName,
  initial?: Float32Array[],
): Promise<{ outcome: StepOutcome; initial: Float32Array[] }> {
  const model = equivalenceModel(arch, initial);
  const before = await Promise.all(model.params.map((p) => p.data() as Promise<Float32Array>));
  const opt = createOptimizer(resolveTrainConfig({ optimizer: { name: optimizer } }).optimizer, model, 5);
  const data = equivalenceBatch(arch);
  const x = tf.tensor4d(data.x, [EQUIVALENCE_ROWS, ...EQUIVALENCE_SHAPE[arch]]);
  const y = tf.tensor1d(data.y, 'int32');
  const loss = await opt.step({ x, y }, { step: 0, lr: 0.1, progress: 0, timer: new PhaseTimer() });
  const after = await Promise.all(model.params.map((p) => p.data() as Promise<Float32Array>));
  const factors: Float32Array[] = [];
  if (optimizer === 'ngd') {
    for (const layer of model.kfacLayers) {
      const f = (opt as NaturalGradientOptimizer).preconditioner.factorsOf(layer.name);
      if (f) factors.push((await f.a.data()) as Float32Array, (await f.g.data()) as Float32Array);
    }
  }
  opt.dispose();
  tf.dispose([x, y, ...model.params]);
  return { outcome: { loss, updates: after.map((a, i) => a.map((v, j) => v - before[i][j])), factors }, initial: before };
}

/** max |a - b| / max |b| over all arrays together. */
export function relativeError(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let diff = 0;
  let scale = 0;
  b.forEach((bi, i) => {
    bi.forEach((v, j) => {
      diff = Math.max(diff, Math.abs(a[i][j] - v));
      scale = Math.max(scale, Math.abs(v));
    });
  });
  return scale === 0 ? diff : diff / scale;
}

export interface CaseErrors {
  loss: number;
  factors: number;
  update: number;
}

/** The relative errors of `outcome` against `reference`, and whether each is within STEP_TOLERANCE. */
export function compareSteps(outcome: StepOutcome, reference: StepOutcome): { errors: CaseErrors; within: boolean; moved: boolean } {
  const errors: CaseErrors = {
    loss: Math.abs(outcome.loss - reference.loss) / Math.abs(reference.loss),
    factors: reference.factors.length > 0 ? relativeError(outcome.factors, reference.factors) : 0,
    update: relativeError(outcome.updates, reference.updates),
  };
  const within = (Object.keys(errors) as (keyof CaseErrors)[]).every((k) => errors[k] <= STEP_TOLERANCE[k]);
  return { errors, within, moved: outcome.updates.some((u) => u.some((v) => v !== 0)) };
}

export interface EquivalenceCase {
  model: EquivalenceArch;
  optimizer: OptimizerName;
  errors: CaseErrors;
  /** Every error within its tolerance, and the step changed some weight. */
  ok: boolean;
}

export interface EquivalenceReport {
  backend: string;
  reference: string;
  tolerance: typeof STEP_TOLERANCE;
  cases: EquivalenceCase[];
  ok: boolean;
}

/**
 * Every case on `reference`, then on `backend`, from the reference's initial weights. `activate`
 * switches the process's backend (selectBackend: passed in, so that this module loads no backend).
 */
export async function verifyStepEquivalence(
  backend: BackendName,
  reference: BackendName,
  activate: (name: BackendName) => Promise<{ active: string }>,
): Promise<EquivalenceReport> {
  const referenceActive = (await activate(reference)).active;
  const references = [];
  for (const [arch, optimizer] of EQUIVALENCE_CASES) references.push(await oneStep(arch, optimizer));
  const backendActive = (await activate(backend)).active;
  const cases: EquivalenceCase[] = [];
  for (const [i, [arch, optimizer]] of EQUIVALENCE_CASES.entries()) {
    const { outcome } = await oneStep(arch, optimizer, references[i].initial);
    const { errors, within, moved } = compareSteps(outcome, references[i].outcome);
    cases.push({ model: arch, optimizer, errors, ok: within && moved });
  }
  return {
    backend: backendActive,
    reference: referenceActive,
    tolerance: STEP_TOLERANCE,
    cases,
    ok: cases.every((c) => c.ok),
  };
}
