/**
 * `train` flags: one table (CONFIG_FLAGS) gives each config flag its config path, help, parser and, for
 * string enums, its choices, read from TrainConfigSchema, so a new enum value or config flag is one
 * edit. Flags override a --config file key by key; anything unset is left to the schema's defaults.
 * The budget flags (--epochs, --steps, --target ...) combine into one `budget` and are handled apart.
 */
import { MEMORY_BUDGET_ENV, parseGib } from './memoryBudget.js';
import { Option, type Command } from 'commander';
import { PROBLEM_NAMES, type ProblemName, withProblem } from '../config/problems.js';
import { TARGET_METRICS } from '../config/trainConfig.js';
import { ValidationError } from '../config/validate.js';
import { choicesAtPath, setPath } from '../suite/configPaths.js';
import { nearest } from '../util/nearest.js';
import {
  parseChoice,
  parseInteger,
  parseIntegerList,
  parseNumber,
  parseNumberList,
  parseNumberOrNone,
  parsePositiveInteger,
} from './parseFlags.js';

interface ConfigFlag {
  /** Commander's flag syntax, e.g. '-m, --model <name>'. */
  readonly flag: string;
  /** Dotted TrainConfig path the value goes to. */
  readonly path: string;
  readonly help: string;
  readonly parse?: (value: string) => unknown;
  /** Commander refuses other values (else the config's validation does, with a nearest-name suggestion). */
  readonly strictChoices?: boolean;
  /** The flag's value as the config holds it. */
  readonly toConfig?: (value: unknown) => unknown;
}

/** A comma-separated list of parameter kinds ('bias,batch-norm'); the config's schema judges the names. */
const parseKindList = (value: string) =>
  value
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');

export const CONFIG_FLAGS: readonly ConfigFlag[] = [
  { flag: '-m, --model <name>', path: 'model.name', help: 'model' },
  { flag: '--hidden-widths <list>', path: 'model.hiddenWidths', help: 'mlp hidden widths, e.g. 256,256', parse: parseIntegerList },
  { flag: '-d, --dataset <name>', path: 'dataset.name', help: 'dataset' },
  {
    flag: '--data-dir <dir>',
    path: 'dataset.dataDir',
    help: 'directory with the dataset files (else $NGD_BENCH_*_DIR, then /usr/share/datasets/...)',
  },
  { flag: '--train-size <n>', path: 'dataset.trainSize', help: 'train on the first N examples of the seeded shuffle', parse: parseInteger },
  {
    flag: '--test-size <n>',
    path: 'dataset.testSize',
    help: 'evaluate on the first N test examples of the seeded shuffle',
    parse: parseInteger,
  },
  {
    flag: '--validation-size <n>',
    path: 'dataset.validationSize',
    help: 'hold out N training examples as a validation split (never trained on)',
    parse: parseInteger,
  },
  {
    flag: '--train-eval-size <n>',
    path: 'dataset.trainEvalSize',
    help: 'measure train metrics on N training examples (a seeded train_eval subset)',
    parse: parseInteger,
  },
  { flag: '-o, --optimizer <name>', path: 'optimizer.name', help: 'optimizer' },
  { flag: '--lr <x>', path: 'optimizer.lr', help: 'base learning rate (at --reference-batch-size)', parse: parseNumber },
  { flag: '--momentum <x>', path: 'optimizer.momentum', help: 'momentum', parse: parseNumber },
  { flag: '--nesterov', path: 'optimizer.nesterov', help: 'Nesterov momentum' },
  { flag: '--weight-decay <x>', path: 'optimizer.weightDecay', help: 'weight decay', parse: parseNumber },
  {
    flag: '--weight-decay-mode <placement>',
    path: 'optimizer.weightDecayMode',
    help: 'where weight decay acts (ngd: in the gradient, also as damping, after preconditioning, or decoupled)',
  },
  {
    flag: '--weight-decay-exclude <kinds>',
    path: 'optimizer.weightDecayExclude',
    help: 'parameter kinds weight decay skips, comma-separated: bias, batch-norm (default: none)',
    parse: parseKindList,
  },
  {
    flag: '--fisher <kind>',
    path: 'optimizer.kfac.fisher',
    help: 'K-FAC Fisher: labels sampled from the model or the true ones',
    strictChoices: true,
  },
  { flag: '--damping <x>', path: 'optimizer.kfac.damping', help: 'K-FAC Tikhonov damping', parse: parseNumber },
  { flag: '--ema-decay <x>', path: 'optimizer.kfac.emaDecay', help: 'K-FAC factor EMA decay', parse: parseNumber },
  {
    flag: '--factor-interval <n>',
    path: 'optimizer.kfac.factorUpdateInterval',
    help: 'K-FAC steps between factor updates',
    parse: parseInteger,
  },
  {
    flag: '--inverse-interval <n>',
    path: 'optimizer.kfac.inverseUpdateInterval',
    help: 'K-FAC steps between inversions',
    parse: parseInteger,
  },
  {
    flag: '--kl-clip <x>',
    path: 'optimizer.kfac.klClip',
    help: "K-FAC KL-clipping bound, or 'none'",
    parse: parseNumberOrNone,
    toConfig: (v) => (v === 'none' ? null : v),
  },
  {
    flag: '--low-rank-gradient',
    path: 'optimizer.kfac.lowRankGradient',
    help: "K-FAC: precondition a dense layer wider than the batch from the gradient's rows (same direction up to rounding)",
  },
  { flag: '--noise <dist>', path: 'optimizer.smoothing.distribution', help: 'smoothing noise distribution', strictChoices: true },
  { flag: '--noise-amplitude <a>', path: 'optimizer.smoothing.amplitude', help: 'smoothing amplitude a', parse: parseNumber },
  { flag: '--noise-relative', path: 'optimizer.smoothing.relative', help: 'scale smoothing noise by |w|' },
  {
    flag: '--noise-ghost-batch <n>',
    path: 'optimizer.smoothing.ghostBatchSize',
    help: 'a noise draw per sub-batch of n examples (SmoothOut ghost batches)',
    parse: parseInteger,
  },
  { flag: '--noise-per-filter', path: 'optimizer.smoothing.perFilter', help: "scale each filter's noise to a x its norm (SmoothOut)" },
  {
    flag: '--noise-exclude <kinds>',
    path: 'optimizer.smoothing.exclude',
    help: 'parameter kinds left unperturbed, comma-separated: bias, batch-norm',
    parse: parseKindList,
  },
  { flag: '--noise-decay <kind>', path: 'optimizer.smoothing.decay', help: 'smoothing amplitude schedule', strictChoices: true },
  { flag: '--sam-rho <rho>', path: 'optimizer.sam.rho', help: 'sam-sgd/sam-ngd: ascent radius ρ (default 0.05)', parse: parseNumber },
  { flag: '--sam-adaptive', path: 'optimizer.sam.adaptive', help: 'sam-sgd/sam-ngd: ASAM, the radius relative to |w| + eta' },
  { flag: '--sam-eta <eta>', path: 'optimizer.sam.eta', help: "ASAM's offset eta in |w| + eta (default 0.01)", parse: parseNumber },
  { flag: '--schedule <kind>', path: 'schedule.kind', help: 'lr schedule', strictChoices: true },
  { flag: '--warmup-epochs <x>', path: 'schedule.warmupEpochs', help: 'linear lr warmup length in epochs', parse: parseNumber },
  {
    flag: '--milestones <list>',
    path: 'schedule.stepMilestones',
    help: 'step schedule: epochs at which lr is multiplied by --step-factor',
    parse: parseNumberList,
  },
  { flag: '--step-factor <x>', path: 'schedule.stepFactor', help: 'step schedule factor', parse: parseNumber },
  { flag: '--batch-scaling <rule>', path: 'schedule.batchScaling', help: 'lr scaling with batch size', strictChoices: true },
  {
    flag: '--reference-batch-size <n>',
    path: 'schedule.referenceBatchSize',
    help: 'batch size the base lr refers to',
    parse: parseInteger,
  },
  { flag: '-b, --batch-size <n>', path: 'batchSize', help: 'global mini-batch size', parse: parseInteger },
  {
    flag: '--micro-batch-size <n>',
    path: 'microBatchSize',
    help: 'at most N examples per forward/backward pass on each worker (gradient accumulation; bounds activation memory)',
    parse: parseInteger,
  },
  {
    flag: '--eval-every-steps <n>',
    path: 'evalEverySteps',
    help: 'also evaluate every N steps (evaluation time is not training time)',
    parse: parseInteger,
  },
  { flag: '-s, --seed <n>', path: 'seed', help: 'seed for init, shuffling, noise and sampling', parse: parseInteger },
  { flag: '--backend <name>', path: 'backend', help: 'compute backend' },
  { flag: '--eval-batch-size <n>', path: 'evalBatchSize', help: 'evaluation batch size', parse: parseInteger },
];

/** The flags as commander parses them: config flags by attribute name, plus the command's own. */
export interface TrainFlags extends Record<string, unknown> {
  config?: string;
  problem?: ProblemName;
  epochs?: number;
  steps?: number;
  target?: string;
  maxEpochs?: number;
  maxSteps?: number;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  progress?: 'human' | 'jsonl' | 'none';
  workers?: number;
  verifyReplicas?: boolean;
  weightsOut?: string;
  memoryBudget?: number;
}

function optionOf(entry: ConfigFlag): Option {
  const choices = choicesAtPath(entry.path);
  const option = new Option(entry.flag, choices && !entry.strictChoices ? `${entry.help}: ${choices.join(' | ')}` : entry.help);
  if (choices && entry.strictChoices) option.choices(choices);
  if (entry.parse) option.argParser(entry.parse);
  return option;
}

export function addTrainOptions(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'JSON config (flags override its keys)');
  cmd.addOption(
    new Option(
      '--problem <name>',
      "a DeepOBS test problem's model, dataset, batch size, epochs and regularisation (the config and flags override them)",
    ).argParser(parseChoice('problem', PROBLEM_NAMES)),
  );
  for (const entry of CONFIG_FLAGS) cmd.addOption(optionOf(entry));
  return cmd
    .option('-e, --epochs <n>', 'budget: epochs (default 1)', parseInteger)
    .option('--steps <n>', 'budget: optimizer steps instead of epochs', parseInteger)
    .option(
      '--target <metric=value>',
      `budget: stop at a target, e.g. validationAccuracy=0.87 (${TARGET_METRICS.join(', ')}); needs --max-epochs or --max-steps`,
    )
    .option('--max-epochs <n>', 'with --target: stop after N epochs if the target is not met', parseInteger)
    .option('--max-steps <n>', 'with --target: stop after N steps if the target is not met', parseInteger)
    .option('--out <file>', 'write the result JSON here (atomically)')
    .option('--json', 'print the result JSON on stdout')
    .option('-q, --quiet', 'no progress output (same as --progress none)')
    .addOption(
      new Option('--progress <mode>', 'progress on stderr: human lines, JSON lines for harnesses, or none').choices([
        'human',
        'jsonl',
        'none',
      ]),
    )
    .option(
      '-w, --workers <n>',
      'data-parallel worker processes, each with 1/n of every global batch (default: 1, or the world size mpirun/Slurm/torchrun set)',
      parsePositiveInteger,
    )
    .option('--verify-replicas', 'hash the weights after every step and fail unless all workers hold identical bits')
    .option('--weights-out <file>', 'save the final weights (JSON, float32 base64) of a run that finished ok')
    .option(
      '--memory-budget <GiB>',
      `memory one training process may use; a batch whose training pass would not fit is refused before the first step (default: $${MEMORY_BUDGET_ENV}, else this host's memory shared by its training processes)`,
      (text: string) => parseGib(text, '--memory-budget'),
    );
}

type Json = Record<string, unknown>;

const flagError = (message: string) => new ValidationError('flags', [message]);

/** A budget flag replaces whatever budget the --config file had; two budget flags are bad input. */
function applyBudgetFlags(doc: Json, f: TrainFlags): void {
  const given = [f.epochs !== undefined && '--epochs', f.steps !== undefined && '--steps', f.target !== undefined && '--target'].filter(
    Boolean,
  );
  if (given.length > 1) throw flagError(`${given.join(' and ')} are different budgets: give one`);
  if ((f.maxEpochs !== undefined || f.maxSteps !== undefined) && f.target === undefined)
    throw flagError('--max-epochs / --max-steps bound a --target budget: give --target too');
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
      throw flagError(
        `--target: unknown metric '${metric}'${guess ? ` (did you mean '${guess}'?)` : ''}; known: ${TARGET_METRICS.join(', ')}`,
      );
    }
    if (f.maxEpochs !== undefined && f.maxSteps !== undefined) throw flagError('--max-epochs and --max-steps: give one');
    if (f.maxEpochs === undefined && f.maxSteps === undefined) throw flagError('--target needs a bound: --max-epochs N or --max-steps N');
    doc.budget = {
      target: { metric, value: Number(m[2]) },
      max: f.maxEpochs !== undefined ? { epochs: f.maxEpochs } : { steps: f.maxSteps },
    };
  }
}

/** Overlays the flags that were given onto `base` (a parsed --config document, or {}). */
export function applyTrainFlags(base: Json, f: TrainFlags): Json {
  const doc = structuredClone(base);
  for (const entry of CONFIG_FLAGS) {
    const value = f[new Option(entry.flag).attributeName()];
    if (value !== undefined) setPath(doc, entry.path, entry.toConfig ? entry.toConfig(value) : value);
  }
  applyBudgetFlags(doc, f);
  return f.problem === undefined ? doc : withProblem(f.problem, doc);
}
