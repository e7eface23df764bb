/**
 * Named test problems: a model on a dataset with the batch size, epochs and regularisation their
 * benchmark defines. DeepOBS's (Schneider et al. 2019): batch size and epochs from deepobs/config.py
 * (DEFAULT_TEST_PROBLEMS_SETTINGS), regularisation from deepobs/tensorflow/testproblems/<name>.py
 * (cifar10_3c3d: L2 0.002 on the kernels, not the biases, i.e. weight decay 0.002 in the gradient),
 * input scaling from deepobs/tensorflow/datasets/<dataset>.py: (F)MNIST pixels are byte / 255, nothing
 * more. Not reproduced: cifar10's per-image standardization and its training-time augmentation (random
 * crops, flips, lighting), so cifar10_3c3d keeps our per-channel standardization and says so here.
 * Applied under a config's own settings: anything the config or a flag sets wins.
 */
import { isJsonObject } from '../util/jsonObject.js';
import { ValidationError } from './validate.js';

export const PROBLEMS = {
  fmnist_mlp: {
    model: { name: 'deepobs-mlp' },
    dataset: { name: 'fashion-mnist', pixelScaling: 'unit-interval' },
    batchSize: 128,
    epochs: 100,
  },
  fmnist_2c2d: { model: { name: '2c2d' }, dataset: { name: 'fashion-mnist', pixelScaling: 'unit-interval' }, batchSize: 128, epochs: 100 },
  mnist_2c2d: { model: { name: '2c2d' }, dataset: { name: 'mnist', pixelScaling: 'unit-interval' }, batchSize: 128, epochs: 100 },
  cifar10_3c3d: {
    model: { name: '3c3d' },
    dataset: { name: 'cifar10' },
    batchSize: 128,
    epochs: 100,
    optimizer: { weightDecay: 0.002, weightDecayMode: 'l2', weightDecayExclude: ['bias'] },
  },
} as const;
export type ProblemName = keyof typeof PROBLEMS;
export const PROBLEM_NAMES = Object.keys(PROBLEMS) as ProblemName[];

type Json = Record<string, unknown>;

/** `config` over the problem's settings, key by key (nested sections merge). */
export function withProblem(problem: ProblemName, config: Json): Json {
  const merge = (base: Json, over: Json): Json => {
    const out: Json = structuredClone(base);
    for (const [k, v] of Object.entries(over))
      out[k] = isJsonObject(v) && isJsonObject(out[k]) ? merge(out[k] as Json, v) : structuredClone(v);
    return out;
  };
  const { epochs, ...rest } = PROBLEMS[problem] as unknown as Json;
  // A budget of the config's own replaces the problem's epochs (a config holds one or the other).
  const merged = merge(config.budget !== undefined || config.epochs !== undefined ? rest : { ...rest, epochs }, config);
  const mismatched = problemMismatches(problem, merged);
  if (mismatched.length > 0)
    throw new ValidationError(
      `--problem ${problem}`,
      mismatched.map((m) => `${m.path}: ${m.message}`),
    );
  return merged;
}

/** problemMismatches of a suite document naming a known problem (after suiteWithProblem). */
export function suiteProblemMismatches(document: unknown): { path: string; message: string }[] {
  if (!isJsonObject(document) || typeof document.problem !== 'string' || !(document.problem in PROBLEMS)) return [];
  return problemMismatches(document.problem as ProblemName, document);
}

/**
 * A suite document with its `problem` filled in under what the suite sets itself: model, dataset (key
 * by key: a suite's dataset section keeps the problem's input scaling unless it sets its own),
 * batchSizes ([the problem's batch size]), epochs (unless the suite has a budget) and, in `defaults`,
 * the regularisation. Runs before schema validation, on the document as written, so that the suite's own
 * keys win; an unknown problem is left for the schema to report.
 */
export function suiteWithProblem(document: unknown): unknown {
  if (!isJsonObject(document) || typeof document.problem !== 'string' || !(document.problem in PROBLEMS)) return document;
  const problem = PROBLEMS[document.problem as ProblemName] as unknown as Json;
  const out: Json = { ...document };
  out.model ??= structuredClone(problem.model);
  out.dataset = isJsonObject(out.dataset)
    ? { ...structuredClone(problem.dataset as Json), ...out.dataset }
    : (out.dataset ?? structuredClone(problem.dataset));
  out.batchSizes ??= [problem.batchSize];
  if (out.epochs === undefined && out.budget === undefined) out.epochs = problem.epochs;
  if (isJsonObject(problem.optimizer))
    out.defaults = { ...structuredClone(problem.optimizer), ...(isJsonObject(out.defaults) ? out.defaults : {}) };
  return out;
}

/**
 * Where a document merged with `problem` names another model or dataset than the problem's own: such a
 * run is not the problem any more, so it is refused rather than filed under the problem's name. Each
 * entry is a JSON path and its message, naming the problem that has that dataset when there is one.
 */
export function problemMismatches(problem: ProblemName, merged: Json): { path: string; message: string }[] {
  const nameIn = (section: 'model' | 'dataset') => {
    const value = merged[section];
    return isJsonObject(value) && value.name !== undefined ? value.name : PROBLEMS[problem][section].name;
  };
  const wanted = { model: nameIn('model'), dataset: nameIn('dataset') };
  // The problem defined on what the document names, if one is.
  const other = PROBLEM_NAMES.find((p) => PROBLEMS[p].model.name === wanted.model && PROBLEMS[p].dataset.name === wanted.dataset);
  const out: { path: string; message: string }[] = [];
  for (const section of ['model', 'dataset'] as const) {
    const expected = PROBLEMS[problem][section].name;
    if (wanted[section] === expected) continue;
    const name = String(wanted[section]);
    out.push({
      path: `/${section}/name`,
      message: `'${name}' is not the ${section} of problem ${problem} (${expected}); ${other ? `use problem ${other}` : `drop the problem to train ${name}`}`,
    });
  }
  return out;
}
