/**
 * `train` flags and how they map onto the TrainConfig document. Flags override a --config file
 * key by key; anything unset is left to the schema's defaults.
 */
import { Option, type Command } from 'commander';
import { TARGET_METRICS } from '../config/trainConfig.js';
import { ValidationError } from '../config/validate.js';
import { nearest } from '../util/nearest.js';
import { parseInteger, parsePositiveInteger, parseIntegerList, parseNumber, parseNumberList, parseNumberOrNone } from './parseFlags.js';

export interface TrainFlags {
  config?: string;
  model?: string;
  hiddenWidths?: number[];
  dataset?: string;
  dataDir?: string;
  trainSize?: number;
  testSize?: number;
  validationSize?: number;
  trainEvalSize?: number;
  optimizer?: string;
  lr?: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  weightDecayMode?: string;
  fisher?: string;
  damping?: number;
  emaDecay?: number;
  factorInterval?: number;
  inverseInterval?: number;
  klClip?: number | 'none';
  noise?: string;
  noiseAmplitude?: number;
  noiseRelative?: boolean;
  noiseDecay?: string;
  schedule?: string;
  warmupEpochs?: number;
  milestones?: number[];
  stepFactor?: number;
  batchScaling?: string;
  referenceBatchSize?: number;
  batchSize?: number;
  epochs?: number;
  steps?: number;
  target?: string;
  maxEpochs?: number;
  maxSteps?: number;
  evalEverySteps?: number;
  seed?: number;
  backend?: string;
  evalBatchSize?: number;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  progress?: 'human' | 'jsonl' | 'none';
  workers?: number;
  verifyReplicas?: boolean;
  weightsOut?: string;
}

export function addTrainOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'JSON config (flags override its keys)')
    .option('-m, --model <name>', 'mlp | cnn | resnet20')
    .option('--hidden-widths <list>', 'mlp hidden widths, e.g. 256,256', parseIntegerList)
    .option('-d, --dataset <name>', 'fashion-mnist | mnist | cifar10 | synthetic')
    .option('--data-dir <dir>', 'directory with the dataset files (else $NGD_BENCH_*_DIR, then /usr/share/datasets/...)')
    .option('--train-size <n>', 'train on the first N examples of the seeded shuffle', parseInteger)
    .option('--test-size <n>', 'evaluate on the first N test examples of the seeded shuffle', parseInteger)
    .option('--validation-size <n>', 'hold out N training examples as a validation split (never trained on)', parseInteger)
    .option('--train-eval-size <n>', 'measure train metrics on N training examples (a seeded train_eval subset)', parseInteger)
    .option('-o, --optimizer <name>', 'sgd | smoothed-sgd | ngd | smoothed-ngd')
    .option('--lr <x>', 'base learning rate (at --reference-batch-size)', parseNumber)
    .option('--momentum <x>', 'momentum', parseNumber)
    .option('--nesterov', 'Nesterov momentum')
    .option('--weight-decay <x>', 'weight decay', parseNumber)
    .addOption(new Option('--weight-decay-mode <mode>', 'how weight decay is applied').choices(['l2', 'decoupled']))
    .addOption(new Option('--fisher <kind>', 'K-FAC Fisher: labels sampled from the model or the true ones').choices(['mc', 'empirical']))
    .option('--damping <x>', 'K-FAC Tikhonov damping', parseNumber)
    .option('--ema-decay <x>', 'K-FAC factor EMA decay', parseNumber)
    .option('--factor-interval <n>', 'K-FAC steps between factor updates', parseInteger)
    .option('--inverse-interval <n>', 'K-FAC steps between inversions', parseInteger)
    .option('--kl-clip <x>', "K-FAC KL-clipping bound, or 'none'", parseNumberOrNone)
    .addOption(new Option('--noise <dist>', 'smoothing noise distribution').choices(['uniform', 'gaussian']))
    .option('--noise-amplitude <a>', 'smoothing amplitude a', parseNumber)
    .option('--noise-relative', 'scale smoothing noise by |w|')
    .addOption(new Option('--noise-decay <kind>', 'smoothing amplitude schedule').choices(['none', 'linear', 'cosine']))
    .addOption(new Option('--schedule <kind>', 'lr schedule').choices(['constant', 'step', 'cosine', 'polynomial']))
    .option('--warmup-epochs <x>', 'linear lr warmup length in epochs', parseNumber)
    .option('--milestones <list>', 'step schedule: epochs at which lr is multiplied by --step-factor', parseNumberList)
    .option('--step-factor <x>', 'step schedule factor', parseNumber)
    .addOption(new Option('--batch-scaling <rule>', 'lr scaling with batch size').choices(['linear', 'sqrt', 'none']))
    .option('--reference-batch-size <n>', 'batch size the base lr refers to', parseInteger)
    .option('-b, --batch-size <n>', 'global mini-batch size', parseInteger)
    .option('-e, --epochs <n>', 'budget: epochs (default 1)', parseInteger)
    .option('--steps <n>', 'budget: optimizer steps instead of epochs', parseInteger)
    .option('--target <metric=value>', `budget: stop at a target, e.g. validationAccuracy=0.87 (${TARGET_METRICS.join(', ')}); needs --max-epochs or --max-steps`)
    .option('--max-epochs <n>', 'with --target: stop after N epochs if the target is not met', parseInteger)
    .option('--max-steps <n>', 'with --target: stop after N steps if the target is not met', parseInteger)
    .option('--eval-every-steps <n>', 'also evaluate every N steps (evaluation time is not training time)', parseInteger)
    .option('-s, --seed <n>', 'seed for init, shuffling, noise and sampling', parseInteger)
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | cpu-blas | cpu')
    .option('--eval-batch-size <n>', 'evaluation batch size', parseInteger)
    .option('--out <file>', 'write the result JSON here (atomically)')
    .option('--json', 'print the result JSON on stdout')
    .option('-q, --quiet', 'no progress output (same as --progress none)')
    .addOption(new Option('--progress <mode>', 'progress on stderr: human lines, JSON lines for harnesses, or none').choices(['human', 'jsonl', 'none']))
    .option(
      '-w, --workers <n>',
      'data-parallel worker processes, each with 1/n of every global batch (default: 1, or the world size mpirun/Slurm/torchrun set)',
      parsePositiveInteger,
    )
    .option('--verify-replicas', 'hash the weights after every step and fail unless all workers hold identical bits')
    .option('--weights-out <file>', 'save the final weights (JSON, float32 base64) of a run that finished ok');
}

type Json = Record<string, unknown>;

const flagError = (message: string) => new ValidationError('flags', [message]);

/** A budget flag replaces whatever budget the --config file had; two budget flags are bad input. */
function applyBudgetFlags(doc: Json, f: TrainFlags): void {
  const given = [f.epochs !== undefined && '--epochs', f.steps !== undefined && '--steps', f.target !== undefined && '--target'].filter(Boolean);
  if (given.length > 1) throw flagError(`${given.join(' and ')} are different budgets: give one`);
  if ((f.maxEpochs !== undefined || f.maxSteps !== undefined) && f.target === undefined) throw flagError('--max-epochs / --max-steps bound a --target budget: give --target too');
  if (given.length === 0) return;
  delete doc.epochs;
  delete doc.budget;
  if (f.epochs !== undefined) doc.epochs = f.epochs;
  if (f.steps !== undefined) doc.budget = { steps: f.steps };
  if (f.target !== undefined) {
    const m = /^\s*([A-Za-z]+)\s*=\s*(\S+)\s*$/.exec(f.target);
    if (!m || !Number.isFinite(Number(m[2]))) throw flagError(`--target '${f.target}' is not metric=value, e.g. validationAccuracy=0.87`);
    const metric = m[1];
    if (!(TARGET_METRICS as readonly string[]).includes(metric)) {
      const guess = nearest(metric, TARGET_METRICS);
      throw flagError(`--target: unknown metric '${metric}'${guess ? ` (did you mean '${guess}'?)` : ''}; known: ${TARGET_METRICS.join(', ')}`);
    }
    if (f.maxEpochs !== undefined && f.maxSteps !== undefined) throw flagError('--max-epochs and --max-steps: give one');
    if (f.maxEpochs === undefined && f.maxSteps === undefined) throw flagError('--target needs a bound: --max-epochs N or --max-steps N');
    doc.budget = { target: { metric, value: Number(m[2]) }, max: f.maxEpochs !== undefined ? { epochs: f.maxEpochs } : { steps: f.maxSteps } };
  }
}

function setIn(doc: Json, path: string[], value: unknown): void {
  if (value === undefined) return;
  let node = doc;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[path[path.length - 1]] = value;
}

/** Overlays the flags that were given onto `base` (a parsed --config document, or {}). */
export function applyTrainFlags(base: Json, f: TrainFlags): Json {
  const doc = structuredClone(base);
  const map: [string[], unknown][] = [
    [['model', 'name'], f.model],
    [['model', 'hiddenWidths'], f.hiddenWidths],
    [['dataset', 'name'], f.dataset],
    [['dataset', 'dataDir'], f.dataDir],
    [['dataset', 'trainSize'], f.trainSize],
    [['dataset', 'testSize'], f.testSize],
    [['dataset', 'validationSize'], f.validationSize],
    [['dataset', 'trainEvalSize'], f.trainEvalSize],
    [['optimizer', 'name'], f.optimizer],
    [['optimizer', 'lr'], f.lr],
    [['optimizer', 'momentum'], f.momentum],
    [['optimizer', 'nesterov'], f.nesterov],
    [['optimizer', 'weightDecay'], f.weightDecay],
    [['optimizer', 'weightDecayMode'], f.weightDecayMode],
    [['optimizer', 'kfac', 'fisher'], f.fisher],
    [['optimizer', 'kfac', 'damping'], f.damping],
    [['optimizer', 'kfac', 'emaDecay'], f.emaDecay],
    [['optimizer', 'kfac', 'factorUpdateInterval'], f.factorInterval],
    [['optimizer', 'kfac', 'inverseUpdateInterval'], f.inverseInterval],
    [['optimizer', 'kfac', 'klClip'], f.klClip === 'none' ? null : f.klClip],
    [['optimizer', 'smoothing', 'distribution'], f.noise],
    [['optimizer', 'smoothing', 'amplitude'], f.noiseAmplitude],
    [['optimizer', 'smoothing', 'relative'], f.noiseRelative],
    [['optimizer', 'smoothing', 'decay'], f.noiseDecay],
    [['schedule', 'kind'], f.schedule],
    [['schedule', 'warmupEpochs'], f.warmupEpochs],
    [['schedule', 'stepMilestones'], f.milestones],
    [['schedule', 'stepFactor'], f.stepFactor],
    [['schedule', 'batchScaling'], f.batchScaling],
    [['schedule', 'referenceBatchSize'], f.referenceBatchSize],
    [['batchSize'], f.batchSize],
    [['evalEverySteps'], f.evalEverySteps],
    [['seed'], f.seed],
    [['backend'], f.backend],
    [['evalBatchSize'], f.evalBatchSize],
  ];
  for (const [path, value] of map) setIn(doc, path, value);
  applyBudgetFlags(doc, f);
  return doc;
}
