/**
 * A seeded synthetic classification problem for fast tests and smoke runs: each class has a random
 * Gaussian prototype and examples are prototype + Gaussian noise. The noise is scaled with the input
 * size so nearest-prototype accuracy is high but not perfect (learnable, not trivial), and values are
 * rescaled to unit variance per feature. Everything derives from `seed`.
 */
import { deriveSeed, makeRng, shuffledIndices } from '../util/rng.js';
import { rowSize, type Dataset, type InputShape, type Split } from './dataset.js';
import { DatasetError } from './datasetError.js';

export interface SyntheticOptions {
  seed: number;
  trainCount?: number;
  testCount?: number;
  inputShape?: InputShape;
  numClasses?: number;
}

export const SYNTHETIC_DEFAULTS = {
  trainCount: 2048,
  testCount: 512,
  inputShape: [8, 8, 1] as InputShape,
  numClasses: 10,
} as const;

export function syntheticSource(seed: number): string {
  return `synthetic(seed=${seed})`;
}

export function makeSyntheticDataset(options: SyntheticOptions): Dataset {
  const { seed } = options;
  const trainCount = options.trainCount ?? SYNTHETIC_DEFAULTS.trainCount;
  const testCount = options.testCount ?? SYNTHETIC_DEFAULTS.testCount;
  const inputShape: InputShape = [...(options.inputShape ?? SYNTHETIC_DEFAULTS.inputShape)];
  const numClasses = options.numClasses ?? SYNTHETIC_DEFAULTS.numClasses;
  checkOptions({ trainCount, testCount, inputShape, numClasses });

  const dim = rowSize(inputShape);
  // Prototype distance grows like sqrt(dim); noise std sqrt(dim)/3 keeps the class overlap roughly
  // independent of the input size. Dividing by the total std gives unit variance per feature.
  const noiseStd = Math.sqrt(dim) / 3;
  const scale = 1 / Math.sqrt(1 + noiseStd * noiseStd);
  const prototypes = gaussians(numClasses * dim, makeRng(deriveSeed(seed, 'synthetic', 'prototypes')));
  const split = (count: number, part: string): Split => {
    // Balanced labels (a permutation of 0..count-1, mod numClasses) in seeded random order.
    const order = shuffledIndices(count, deriveSeed(seed, 'synthetic', part, 'labels'));
    const labels = order.map((i) => i % numClasses);
    const noise = makeRng(deriveSeed(seed, 'synthetic', part, 'noise'));
    return { images: sampleImages(labels, prototypes, dim, noiseStd, scale, noise), labels, count };
  };
  return {
    name: 'synthetic',
    inputShape,
    numClasses,
    train: split(trainCount, 'train'),
    test: split(testCount, 'test'),
    source: syntheticSource(seed),
  };
}

function checkOptions(o: { trainCount: number; testCount: number; inputShape: InputShape; numClasses: number }): void {
  const bad = (what: string, value: unknown) =>
    new DatasetError({
      dataset: 'synthetic',
      problem: `${what} must be a positive integer, got ${JSON.stringify(value)}`,
      remedy: 'fix the synthetic dataset options',
    });
  for (const [what, value] of [
    ['trainCount', o.trainCount],
    ['testCount', o.testCount],
    ['numClasses', o.numClasses],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw bad(what, value);
  }
  if (o.inputShape.length !== 3 || !o.inputShape.every((d) => Number.isInteger(d) && d >= 1))
    throw bad('every inputShape entry', o.inputShape);
}

/** One row per label: (prototype + noiseStd * N(0,1)) * scale. */
function sampleImages(
  labels: Int32Array,
  prototypes: Float32Array,
  dim: number,
  noiseStd: number,
  scale: number,
  rng: () => number,
): Float32Array {
  const images = gaussians(labels.length * dim, rng);
  for (let i = 0; i < labels.length; i++) {
    const proto = labels[i] * dim;
    const row = i * dim;
    for (let k = 0; k < dim; k++) images[row + k] = (prototypes[proto + k] + noiseStd * images[row + k]) * scale;
  }
  return images;
}

/** `n` standard normal draws (Box-Muller, both outputs used). */
export function gaussians(n: number, rng: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rng(); // (0, 1]: log stays finite
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * rng();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < n) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}
