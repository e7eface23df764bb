/**
 * Analytic FLOPs of the benchmarked networks (28x28x1 input, 10 classes), counted as 2 per
 * multiply-add of their convolution and dense layers; activations, pooling and the update are left
 * out, so "% of sgemm" is a lower bound of the work done. A training step is the forward pass, the
 * weight gradient (as many FLOPs) and the input gradient (as many, except for the first layer, whose
 * input needs none).
 *
 * K-FAC adds, per layer with fan-in n (+1 for the bias) and m outputs, over r rows (examples times
 * output positions): the factors A = a^T a (2 r (n+1)^2) and G = g^T g (2 r m^2) and the MC Fisher's
 * sampled-label pass, on factor steps; the inverses ((n+1)^3 + m^3, Cholesky and inverse) on inverse
 * steps; and on every step the preconditioned gradient G^-1 dW A^-1 (2 m^2 (n+1) + 2 m (n+1)^2), or with
 * kfac.lowRankGradient, for a dense layer where it is cheaper, from the gradient's b rows
 * (2 b ((n+1)^2 + m^2 + (n+1) m): src/optim/kfac/kfacPreconditioner.ts, lowRankIsCheaper). The
 * step's FLOPs over the SGD step's are what ngd/sgd would be if both ran at the same FLOP rate: the
 * bench prints this FLOP ratio next to the measured one. A measured ratio below it means K-FAC's large
 * products run at a higher rate than the SGD step's small ones, not that work was skipped.
 */
import { lowRankIsCheaper } from '../src/optim/kfac/kfacPreconditioner.js';
import type { StepModel } from './trainStep.js';

interface LayerWork {
  name: string;
  /** Inputs per output position (k*k*cin for a conv). */
  fanIn: number;
  outputs: number;
  /** Output positions per example (1 for a dense layer). */
  positions: number;
}

const conv = (name: string, side: number, kernel: number, cin: number, cout: number): LayerWork => ({
  name,
  fanIn: kernel * kernel * cin,
  outputs: cout,
  positions: side * side,
});
const dense = (name: string, inputs: number, units: number): LayerWork => ({ name, fanIn: inputs, outputs: units, positions: 1 });

/** cnn and 2c2d: 'same' 5x5 convs at 28x28 and 14x14, 2x2 pools; they differ in the dense width. */
const convStack = (width: number): LayerWork[] => [
  conv('conv1', 28, 5, 1, 32),
  conv('conv2', 14, 5, 32, 64),
  dense('dense1', 7 * 7 * 64, width),
  dense('dense2', width, 10),
];

export const LAYERS: Record<StepModel, LayerWork[]> = {
  mlp: [dense('dense1', 784, 256), dense('dense2', 256, 256), dense('dense3', 256, 10)],
  cnn: convStack(128),
  '2c2d': convStack(1024),
};

/** The mlp maps sampled-label gradients back through its layers without a second forward pass. */
const SECOND_FORWARD: Record<StepModel, boolean> = { mlp: false, cnn: true, '2c2d': true };

const forwardFlops = (l: LayerWork, batchSize: number) => 2 * l.fanIn * l.outputs * l.positions * batchSize;

/** FLOPs of one SGD training step (forward, weight and input gradients) at a batch size. */
export function trainStepFlops(model: StepModel, batchSize: number): number {
  return LAYERS[model].reduce((sum, l, i) => sum + forwardFlops(l, batchSize) * (i === 0 ? 2 : 3), 0);
}

export interface KfacFlops {
  factors: number;
  mcPass: number;
  inversion: number;
  preconditioning: number;
  /** Per step, with factors every `factorInterval` and inverses every `inverseInterval` steps. */
  perStep: number;
}

/** Whether kfac.lowRankGradient preconditions a layer of `model` from its rows at this batch size. */
export function usesLowRankGradient(model: StepModel, batchSize: number): boolean {
  return LAYERS[model].some((l) => lowRankLayer(l, batchSize));
}

const lowRankLayer = (l: LayerWork, batchSize: number) => l.positions === 1 && lowRankIsCheaper(batchSize, l.fanIn + 1, l.outputs);

/** The K-FAC work of one ngd step beyond the SGD step, amortized over the intervals. */
export function kfacStepFlops(
  model: StepModel,
  batchSize: number,
  factorInterval: number,
  inverseInterval: number,
  lowRankGradient = false,
): KfacFlops {
  const layers = LAYERS[model];
  let factors = 0;
  let inversion = 0;
  let preconditioning = 0;
  for (const l of layers) {
    const n = l.fanIn + 1;
    const rows = batchSize * l.positions;
    factors += 2 * rows * n * n + 2 * rows * l.outputs * l.outputs;
    inversion += n ** 3 + l.outputs ** 3;
    preconditioning +=
      lowRankGradient && lowRankLayer(l, batchSize)
        ? 2 * batchSize * (n * n + l.outputs * l.outputs + n * l.outputs)
        : 2 * l.outputs * l.outputs * n + 2 * l.outputs * n * n;
  }
  // The sampled-label backward: input gradients through every layer but the first, plus (with a second
  // pass) its forward and the first layer's weight gradient.
  const inputGrads = layers.slice(1).reduce((sum, l) => sum + forwardFlops(l, batchSize), 0);
  const mcPass =
    inputGrads +
    (SECOND_FORWARD[model] ? layers.reduce((sum, l) => sum + forwardFlops(l, batchSize), 0) + forwardFlops(layers[0], batchSize) : 0);
  const perStep = (factors + mcPass) / factorInterval + inversion / inverseInterval + preconditioning;
  return { factors, mcPass, inversion, preconditioning, perStep };
}

/** ngd/sgd in analytic FLOPs: the step-time ratio at equal FLOP rates. */
export function kfacFlopRatio(
  model: StepModel,
  batchSize: number,
  factorInterval: number,
  inverseInterval: number,
  lowRankGradient = false,
): number {
  const sgd = trainStepFlops(model, batchSize);
  return (sgd + kfacStepFlops(model, batchSize, factorInterval, inverseInterval, lowRankGradient).perStep) / sgd;
}
