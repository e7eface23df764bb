/**
 * Sharpness-aware minimization (issue 14): ρ = 0 is the base optimizer bit for bit; the ascent step has
 * norm ρ (ASAM: ρ in the |w|-scaled norm); on a quadratic the gradient taken at the perturbed point is the
 * analytic one there; the weights come back bit-exactly; and the configs that are refused.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { createMlp } from '../../src/models/mlp.js';
import { createOptimizer } from '../../src/optim/createOptimizer.js';
import { samAscent, SharpnessAwarePerturbation } from '../../src/optim/sharpnessAware.js';
import { PhaseTimer } from '../../src/util/phaseTimer.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

before(usePlainCpu);

const read = (t: tf.Tensor) => Float64Array.from(t.dataSync());
const norm = (xs: readonly ArrayLike<number>[]) => Math.sqrt(xs.reduce((s, x) => s + Array.from(x).reduce((a, v) => a + v * v, 0), 0));

/** Weights after `steps` steps of `optimizer` on a tiny MLP (MC Fisher for ngd: the sampled labels follow the pass). */
async function train(
  optimizer: Record<string, unknown>,
  steps = 3,
): Promise<{ weights: Float32Array[]; losses: number[]; timer: PhaseTimer }> {
  const model = createMlp([1, 1, 6], 3, [5], 2);
  const opt = createOptimizer(resolveTrainConfig({ optimizer }).optimizer, model, 9);
  const timer = new PhaseTimer();
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const x = tf.randomNormal([16, 1, 1, 6], 0, 1, 'float32', 40 + step);
    const y = tf.randomUniform([16], 0, 3, 'int32', 50 + step);
    losses.push(await opt.step({ x, y }, { step, lr: 0.05, progress: step / steps, timer }));
    tf.dispose([x, y]);
  }
  const weights = model.params.map((p) => Float32Array.from(p.dataSync()));
  opt.dispose();
  model.dispose();
  return { weights, losses, timer };
}

describe('sharpness-aware optimizers', () => {
  for (const [sam, base, kfac] of [
    ['sam-sgd', 'sgd', {}],
    ['sam-ngd', 'ngd', { kfac: { inverseUpdateInterval: 2 } }],
  ] as const) {
    it(`${sam} with ρ = 0 is ${base}, bit for bit (weights and losses over 3 steps)`, async () => {
      const a = await train({ name: sam, sam: { rho: 0 }, ...kfac });
      const b = await train({ name: base, ...kfac });
      assert.deepEqual(a.weights, b.weights);
      assert.deepEqual(a.losses, b.losses);
      assert.ok(a.timer.snapshot().samAscent > 0, 'the ascent is timed as its own phase');
      assert.equal(b.timer.snapshot().samAscent, 0);
    });

    it(`${sam} with ρ > 0 takes another step than ${base}, and reports the loss at w`, async () => {
      const a = await train({ name: sam, sam: { rho: 0.5 }, ...kfac }, 1);
      const b = await train({ name: base, ...kfac }, 1);
      assert.notDeepEqual(a.weights, b.weights);
      assert.equal(a.losses[0], b.losses[0]);
    });
  }

  it('does not leak tensors over steps', async () => {
    await train({ name: 'sam-ngd' }, 1);
    const before = tf.memory().numTensors;
    await train({ name: 'sam-ngd', sam: { adaptive: true } }, 3);
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('the ascent step', () => {
  const params = [tf.tensor2d([0.5, -1, 2, 0], [2, 2]), tf.tensor1d([0.1, -0.3])];
  const grads = [tf.tensor2d([0.3, 0.2, -0.1, 0.4], [2, 2]), tf.tensor1d([-0.2, 0.05])];

  it('SAM: ε = ρ g / ‖g‖, so ‖ε‖ = ρ', () => {
    const eps = samAscent(params, grads, { rho: 0.07, adaptive: false, eta: 0.01 });
    assert.ok(Math.abs(norm(eps.map(read)) - 0.07) < 1e-7);
    const g = grads.map(read);
    const gNorm = norm(g);
    eps.forEach((e, i) => {
      for (const [j, v] of read(e).entries()) assert.ok(Math.abs(v - (0.07 * g[i][j]) / gNorm) < 1e-8);
    });
    tf.dispose(eps);
  });

  it('ASAM: ε = ρ T² g / ‖T g‖ with T = |w| + η, so ‖ε / T‖ = ρ', () => {
    const config = { rho: 0.5, adaptive: true, eta: 0.01 };
    const eps = samAscent(params, grads, config);
    const scaled = eps.map((e, i) => Float64Array.from(read(e), (v, j) => v / (Math.abs(read(params[i])[j]) + config.eta)));
    assert.ok(Math.abs(norm(scaled) - 0.5) < 1e-6, `‖ε / T‖ = ${norm(scaled)}`);
    tf.dispose(eps);
  });

  it('a zero gradient gives ε = 0, not NaN', () => {
    const zeros = grads.map((g) => tf.zerosLike(g));
    const eps = samAscent(params, zeros, { rho: 0.05, adaptive: false, eta: 0.01 });
    for (const e of eps) assert.ok(read(e).every((v) => v === 0));
    tf.dispose([...eps, ...zeros]);
  });

  it('on a quadratic ½ Σ h w², the gradient at the perturbed point is H (w + ρ H w / ‖H w‖); w comes back bit-exactly', () => {
    const h = [1, 4, 0.25, 9];
    const w0 = [0.3, -0.7, 1.1, 0.05];
    const rho = 0.2;
    const w = tf.variable(tf.tensor1d(w0));
    const hessian = tf.tensor1d(h);
    const loss = () => tf.mul(0.5, tf.sum(tf.mul(hessian, tf.square(w)))) as tf.Scalar;
    const g = tf.variableGrads(loss, [w]);
    const eps = samAscent([w], [g.grads[w.name]], { rho, adaptive: false, eta: 0.01 });
    const saved = Float32Array.from(w.dataSync());
    const perturbation = new SharpnessAwarePerturbation([w], eps);
    const atPerturbed = tf.variableGrads(loss, [w]);
    const gw = w0.map((x, i) => h[i] * x);
    const gNorm = Math.hypot(...gw);
    const expected = w0.map((x, i) => h[i] * (x + (rho * gw[i]) / gNorm));
    for (const [i, v] of read(atPerturbed.grads[w.name]).entries()) assert.ok(Math.abs(v - expected[i]) < 1e-5, `${v} vs ${expected[i]}`);
    perturbation.restore();
    perturbation.restore();
    assert.deepEqual(Float32Array.from(w.dataSync()), saved);
    tf.dispose([w, hessian, g.value, atPerturbed.value, ...Object.values(g.grads), ...Object.values(atPerturbed.grads), ...eps]);
  });
});

describe('sharpness-aware configs', () => {
  const refused = (optimizer: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(
      () => resolveTrainConfig({ optimizer }),
      (e: unknown) => e instanceof Error && pattern.test(e.message),
    );

  it('ρ < 0 is refused at its path; a sam section on another optimizer is refused, naming the ones that read it', () => {
    refused({ name: 'sam-sgd', sam: { rho: -0.1 } }, /\/optimizer\/sam\/rho: must be >= 0/);
    refused({ name: 'ngd', sam: { rho: 0.1 } }, /\/optimizer\/sam: optimizer 'ngd' is not sharpness-aware; use 'sam-sgd' or 'sam-ngd'/);
    refused({ name: 'sam-sgd', kfac: {} }, /only 'ngd', 'smoothed-ngd' and 'sam-ngd' do/);
  });

  it('sam-ngd gets K-FAC settings and SAM defaults (ρ 0.05, not adaptive)', () => {
    const opt = resolveTrainConfig({ optimizer: { name: 'sam-ngd' } }).optimizer;
    assert.deepEqual(opt.sam, { rho: 0.05, adaptive: false, eta: 0.01 });
    assert.equal(opt.kfac?.damping, resolveTrainConfig({ optimizer: { name: 'ngd' } }).optimizer.kfac?.damping);
  });
});
