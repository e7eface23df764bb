/**
 * DeepOBS's published baselines (fsschneider/DeepOBS_Baselines: one JSON per run, laid out as
 * <problem>/<optimizer>/<setting>/random_seed__<seed>__<date>.json) as a published reference. DeepOBS
 * tuned each optimizer's learning rate with one seed per grid value, then re-ran the chosen setting with
 * ten seeds; the setting with the most seed files is that choice, and only it becomes a curve.
 */
import type { PublishedReference, ReferenceCurve } from './referenceSchema.js';

/** One DeepOBS run file: its path inside the baselines repository and its parsed JSON. */
export interface DeepobsRunFile {
  path: string;
  json: unknown;
}

export interface DeepobsReferenceOptions {
  problem: string;
  /** DeepOBS optimizer directory -> the optimizer label of our results it is compared with, in order. */
  labels: ReadonlyArray<readonly [deepobsOptimizer: string, label: string]>;
  url: string;
  commit: string;
  extractedWith: string;
}

/** Where DeepOBS's baseline protocol differs from an ngd-bench run of the same problem (see suites/deepobs-*.json). */
export const DEEPOBS_PROTOCOL_DIFFERENCES: readonly string[] = [
  'DeepOBS chose each learning rate from a grid of 36 log-spaced values from 1e-5 to 1e2 (one seed each) with its analyzer on test-set performance; ngd-bench takes that choice as given and selects nothing here, so the published numbers carry a selection on the test set that ours do not.',
  'DeepOBS measures test accuracy on 9,984 of the 10,000 test images (78 full batches of 128; the values are multiples of 1/9,984) and train accuracy on 9,984 training images; ngd-bench on all 10,000 test images and on its trainEvalSize training images.',
  'DeepOBS shuffles the training set through a 20,000-example tf.data buffer, ngd-bench with a full seeded permutation each epoch; both drop the last partial batch (468 steps per epoch at batch 128).',
  'DeepOBS ran TensorFlow 1.x, ngd-bench runs tfjs with OpenBLAS kernels: initial weights and data order come from different random streams, so single runs differ and only the spread over seeds is comparable.',
];

interface DeepobsRun {
  seed: number;
  file: string;
  setting: string;
  testAccuracy: number[];
  batchSize: number;
  learningRate: number;
  hyperparams: Record<string, unknown>;
}

function parseRun({ path, json }: DeepobsRunFile): DeepobsRun {
  const fail = (what: string): never => {
    throw new Error(`${path}: not a DeepOBS run file (${what})`);
  };
  if (typeof json !== 'object' || json === null) return fail('not a JSON object');
  const r = json as Record<string, unknown>;
  const accuracies = r.test_accuracies;
  if (!Array.isArray(accuracies) || accuracies.length < 2 || !accuracies.every((a) => typeof a === 'number' && a >= 0 && a <= 1)) {
    return fail('test_accuracies must be fractions, one per epoch and one before training');
  }
  if (typeof r.random_seed !== 'number' || typeof r.batch_size !== 'number' || typeof r.learning_rate !== 'number') {
    return fail('random_seed, batch_size and learning_rate must be numbers');
  }
  const parts = path.split('/');
  if (parts.length < 4) return fail('expected <problem>/<optimizer>/<setting>/<file>.json');
  return {
    seed: r.random_seed,
    file: path,
    setting: parts[parts.length - 2],
    testAccuracy: accuracies as number[],
    batchSize: r.batch_size,
    learningRate: r.learning_rate,
    hyperparams: typeof r.hyperparams === 'object' && r.hyperparams !== null ? (r.hyperparams as Record<string, unknown>) : {},
  };
}

/** The curve of one DeepOBS optimizer: its most-seeded setting, whose runs must agree on batch size and learning rate. */
function curveOf(optimizer: string, label: string, runs: readonly DeepobsRun[]): ReferenceCurve {
  const bySetting = new Map<string, DeepobsRun[]>();
  for (const run of runs) bySetting.set(run.setting, [...(bySetting.get(run.setting) ?? []), run]);
  const ranked = [...bySetting.entries()].sort((a, b) => b[1].length - a[1].length);
  if (ranked.length === 0) throw new Error(`no DeepOBS runs of ${optimizer}`);
  if (ranked.length > 1 && ranked[1][1].length === ranked[0][1].length) {
    throw new Error(
      `${optimizer}: settings ${ranked[0][0]} and ${ranked[1][0]} have as many seeds (${ranked[0][1].length}); which one DeepOBS chose is not clear`,
    );
  }
  const [setting, chosen] = ranked[0];
  const [first] = chosen;
  // The re-runs record the rate as their directory names it (11 significant digits), the tuning run in full.
  const sameRate = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.abs(b);
  for (const run of chosen) {
    if (
      run.batchSize !== first.batchSize ||
      !sameRate(run.learningRate, first.learningRate) ||
      run.testAccuracy.length !== first.testAccuracy.length
    ) {
      throw new Error(`${run.file}: batch size, learning rate or epochs differ from ${first.file} in the same setting ${setting}`);
    }
  }
  const extras = Object.entries(first.hyperparams).map(([k, v]) => `${k} ${String(v)}`);
  return {
    label,
    batchSize: first.batchSize,
    setting: [`${optimizer}`, `lr ${first.learningRate}`, ...extras].join(', '),
    seeds: [...chosen].sort((a, b) => a.seed - b.seed).map((run) => ({ seed: run.seed, file: run.file, testAccuracy: run.testAccuracy })),
  };
}

export function deepobsReference(files: readonly DeepobsRunFile[], options: DeepobsReferenceOptions): PublishedReference {
  const runs = files.filter((f) => f.path.startsWith(`${options.problem}/`)).map(parseRun);
  return {
    name: `DeepOBS baselines, ${options.problem}`,
    source: {
      citation: 'Schneider, Balles & Hennig, "DeepOBS: A Deep Learning Optimizer Benchmark Suite", ICLR 2019; baselines v1.0',
      url: options.url,
      commit: options.commit,
      extractedWith: options.extractedWith,
    },
    protocolDifferences: [...DEEPOBS_PROTOCOL_DIFFERENCES],
    curves: options.labels.map(([optimizer, label]) =>
      curveOf(
        optimizer,
        label,
        runs.filter((r) => r.file.split('/')[1] === optimizer),
      ),
    ),
  };
}
