/**
 * Checks a schema-valid suite for what a JSON schema cannot express: unique labels, settings an
 * optimizer would not use, batch sizes that do not split across workers or exceed the training set,
 * and sweeps that name unknown optimizers, overlap, or hold values their config path rejects.
 */
import { existsSync, statSync } from 'node:fs';
import { SPLIT_SIZES, trainExamples } from './datasetSizes.js';
import { OPTIMIZER_SECTIONS, optimizerUses, sectionUsers } from '../config/trainConfig.js';
import { optimizerSection, schemaAtPath } from './configPaths.js';
import { schemaProblems, unknownName } from './schemaErrors.js';
import type { SuiteProblem } from './suiteError.js';
import { labelOf, workersFor, type Suite, type Tune } from './suiteSchema.js';

const SECTION_WHAT = { kfac: 'K-FAC settings', smoothing: 'smoothing', sam: 'sharpness-aware settings' } as const;
const SECTION_SETTING = { kfac: 'a K-FAC setting', smoothing: 'a smoothing setting', sam: 'a sharpness-aware setting' } as const;

/** A suite that expands to more runs than this is refused before any run is planned (each one is a process). */
export const MAX_RUNS = 10_000;

/** How many runs the matrix has (tuning runs included), counted without planning them. */
export function countRuns(suite: Suite): number {
  const labels = suite.optimizers.map(labelOf);
  const combos = (sweeps: Suite['sweep'], label: string) =>
    sweeps.filter((s) => s.optimizers === undefined || s.optimizers.includes(label)).reduce((n, s) => n * s.values.length, 1);
  const workerCount = (batches: readonly number[]) => batches.reduce((n, b) => n + workersFor(suite, b).length, 0);
  let total = 0;
  for (const label of labels) {
    total += workerCount(suite.batchSizes) * combos(suite.sweep, label) * suite.seeds.length;
    if (suite.tune) total += workerCount(suite.batchSizes) * combos(suite.tune.grid, label) * suite.tune.seeds.length;
  }
  return total;
}

export function semanticProblems(suite: Suite): SuiteProblem[] {
  const runs = countRuns(suite);
  if (runs > MAX_RUNS) {
    return [
      {
        path: '/',
        message: `the suite expands to ${runs} runs; the limit is ${MAX_RUNS} (split it into several suites, or shrink the axes)`,
      },
    ];
  }
  const problems: SuiteProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const labels = suite.optimizers.map(labelOf);
  const entryByLabel = new Map(suite.optimizers.map((e) => [labelOf(e), e]));

  function checkSweeps(list: Suite['sweep'], base: string): void {
    list.forEach((sweep, i) => {
      sweep.optimizers?.forEach((label, k) => {
        if (!entryByLabel.has(label)) add(`${base}/${i}/optimizers/${k}`, unknownName('optimizer label', label, labels));
      });
      const applies = (sweep.optimizers ?? labels).filter((l) => entryByLabel.has(l));
      const section = optimizerSection(sweep.path);
      if (section) {
        const users = labels.filter((l) => optimizerUses(entryByLabel.get(l)!.name, section));
        const nonUsers = applies.filter((l) => !users.includes(l));
        if (users.length === 0) {
          add(
            `${base}/${i}/path`,
            `'${sweep.path}' is ${SECTION_SETTING[section]}, which no optimizer of this suite uses (only ${sectionUsers(section)} do)`,
          );
        } else if (nonUsers.length > 0) {
          add(
            `${base}/${i}${sweep.optimizers ? '/optimizers' : ''}`,
            `'${sweep.path}' is ${SECTION_SETTING[section]}, which ${nonUsers.map((l) => `'${l}'`).join(', ')} ${nonUsers.length > 1 ? 'do' : 'does'} not use; restrict the sweep with "optimizers": ${JSON.stringify(users)}`,
          );
        }
      }
      const schema = schemaAtPath(sweep.path);
      sweep.values.forEach((value, k) => {
        problems.push(...schemaProblems(schema, value, false, `${base}/${i}/values/${k}`));
      });
      for (let j = 0; j < i; j++) {
        const other = list[j];
        if (other.path !== sweep.path) continue;
        const otherApplies = other.optimizers ?? labels;
        const both = applies.filter((l) => otherApplies.includes(l));
        if (both.length > 0)
          add(`${base}/${i}/path`, `'${sweep.path}' is already swept by ${base}/${j} for ${both.map((l) => `'${l}'`).join(', ')}`);
      }
    });
  }

  function checkTune(s: Suite, tune: Tune): void {
    checkSweeps(tune.grid, '/tune/grid');
    if (s.sweep.length > 0)
      add(
        '/tune',
        'a tuned suite cannot also sweep (each final cell gets one selected value): move the swept parameter into "tune.grid", or make the sweep its own suite',
      );
    tune.grid.forEach((entry, i) => {
      if (entry.values.length < 2)
        add(
          `/tune/grid/${i}/values`,
          `tuning needs at least two values to choose from (got ${entry.values.length}); fix the value in "defaults" or an optimizer entry instead`,
        );
      s.sweep.forEach((sweep, j) => {
        if (sweep.path !== entry.path) return;
        const both = (entry.optimizers ?? labels).filter((l) => (sweep.optimizers ?? labels).includes(l));
        if (both.length > 0)
          add(
            `/tune/grid/${i}/path`,
            `'${entry.path}' is both swept (/sweep/${j}) and tuned for ${both.map((l) => `'${l}'`).join(', ')}: a value is either an axis of the study or selected`,
          );
      });
    });
    if (!tune.perBatchSize && tune.atBatchSize === undefined)
      add('/tune', 'perBatchSize is false: say which batch size to select at with "atBatchSize"');
    if (tune.atBatchSize !== undefined) {
      if (tune.perBatchSize) add('/tune/atBatchSize', 'atBatchSize applies only with "perBatchSize": false');
      else if (!s.batchSizes.includes(tune.atBatchSize))
        add('/tune/atBatchSize', `batch size ${tune.atBatchSize} is not in "batchSizes" (${s.batchSizes.join(', ')})`);
    }
    const metric = tune.select.metric;
    if (metric.startsWith('validation') && s.dataset.validationSize === undefined) {
      add(
        '/tune/select/metric',
        `'${metric}' is measured on the validation split, which this suite does not hold out: set dataset.validationSize (tuning never selects on the test split)`,
      );
    }
    if (metric === 'stepsToTarget' && !(s.budget !== undefined && 'target' in s.budget)) {
      add('/tune/select/metric', `'stepsToTarget' needs a target budget ("budget": {"target": ..., "max": ...})`);
    }
  }

  function checkBudget(s: Suite): void {
    if (s.epochs !== undefined && s.budget !== undefined) add('/budget', 'give either "epochs" or "budget", not both');
    if (s.evalEverySteps !== undefined && s.evalEverySamples !== undefined)
      add('/evalEverySamples', 'give either "evalEverySteps" or "evalEverySamples", not both');
    const sizes = SPLIT_SIZES[s.dataset.name];
    const validation = s.dataset.validationSize;
    if (sizes && validation !== undefined) {
      if (validation >= sizes.train) {
        add(
          '/dataset/validationSize',
          `${validation} is not smaller than the ${sizes.train} examples of the ${s.dataset.name} training file: nothing would be left to train on`,
        );
      } else if (s.dataset.trainSize !== undefined && s.dataset.trainSize > sizes.train - validation) {
        add(
          '/dataset/trainSize',
          `${s.dataset.trainSize} exceeds the ${sizes.train - validation} training examples left after holding out validationSize ${validation}`,
        );
      }
    }
    const budget = s.budget;
    if (budget !== undefined && 'target' in budget && budget.target.metric.startsWith('validation') && validation === undefined) {
      add(
        '/budget/target/metric',
        `'${budget.target.metric}' is measured on the validation split, which this suite does not hold out (set dataset.validationSize)`,
      );
    }
  }

  suite.optimizers.forEach((entry, i) => {
    const first = labels.indexOf(labels[i]);
    if (first < i) {
      add(
        `/optimizers/${i}${entry.label !== undefined ? '/label' : ''}`,
        `duplicate optimizer label '${labels[i]}' (also /optimizers/${first}); give the entries distinct "label"s`,
      );
    }
    for (const section of OPTIMIZER_SECTIONS) {
      if (entry[section] !== undefined && !optimizerUses(entry.name, section)) {
        add(
          `/optimizers/${i}/${section}`,
          `optimizer '${entry.name}' does not use ${SECTION_WHAT[section]} (only ${sectionUsers(section)} do)`,
        );
      }
    }
  });
  for (const section of OPTIMIZER_SECTIONS) {
    if (suite.defaults[section] !== undefined && !suite.optimizers.some((e) => optimizerUses(e.name, section))) {
      add(`/defaults/${section}`, `no optimizer of this suite uses ${SECTION_WHAT[section]} (only ${sectionUsers(section)} do)`);
    }
  }

  // A dataDir that does not exist would fail every run of the suite; the files themselves are checked when read.
  const dataDir = suite.dataset.dataDir;
  if (dataDir !== undefined && !(existsSync(dataDir) && statSync(dataDir).isDirectory())) {
    add('/dataset/dataDir', `no such directory: ${dataDir}`);
  }
  const sizes = SPLIT_SIZES[suite.dataset.name];
  for (const split of ['train', 'test'] as const) {
    const size = suite.dataset[`${split}Size`];
    if (sizes && size !== undefined && size > sizes[split]) {
      add(`/dataset/${split}Size`, `${size} exceeds the ${sizes[split]} examples of the ${suite.dataset.name} ${split} split`);
    }
  }
  const examples = trainExamples(suite.dataset);
  for (const key of Object.keys(suite.workersByBatchSize ?? {})) {
    if (!suite.batchSizes.includes(Number(key)))
      add(`/workersByBatchSize/${key}`, `batch size ${key} is not in "batchSizes" (${suite.batchSizes.join(', ')})`);
  }
  suite.batchSizes.forEach((batch, i) => {
    const uneven = workersFor(suite, batch).filter((w) => batch % w !== 0);
    if (uneven.length > 0) {
      add(
        `/batchSizes/${i}`,
        `batch size ${batch} does not split evenly across ${uneven.join(' or ')} workers (every batch size must be divisible by every worker count)`,
      );
    }
    if (examples !== undefined && batch > examples.count) {
      add(
        `/batchSizes/${i}`,
        `batch size ${batch} exceeds the ${examples.count} training examples (${examples.source}): no full batch can be formed`,
      );
    }
  });

  checkSweeps(suite.sweep, '/sweep');
  if (suite.tune) checkTune(suite, suite.tune);
  checkBudget(suite);

  suite.probes?.optimizers?.forEach((label, k) => {
    if (!entryByLabel.has(label)) add(`/probes/optimizers/${k}`, unknownName('optimizer label', label, labels));
  });
  return problems;
}
