/**
 * Checks a schema-valid suite for what a JSON schema cannot express: unique labels, settings an
 * optimizer would not use, batch sizes that do not split across workers or exceed the training set,
 * and sweeps that name unknown optimizers, overlap, or hold values their config path rejects.
 */
import { SPLIT_SIZES, trainExamples } from './datasetSizes.js';
import { optimizerSection, optimizerUses, schemaAtPath } from './configPaths.js';
import { schemaProblems, unknownName } from './schemaErrors.js';
import type { SuiteProblem } from './suiteError.js';
import { labelOf, workersFor, type Suite } from './suiteSchema.js';

const SECTION_USERS = { kfac: "'ngd' and 'smoothed-ngd'", smoothing: "'smoothed-sgd' and 'smoothed-ngd'" } as const;
const SECTION_WHAT = { kfac: 'K-FAC settings', smoothing: 'smoothing' } as const;
const SECTION_SETTING = { kfac: 'a K-FAC setting', smoothing: 'a smoothing setting' } as const;

export function semanticProblems(suite: Suite): SuiteProblem[] {
  const problems: SuiteProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const labels = suite.optimizers.map(labelOf);
  const entryByLabel = new Map(suite.optimizers.map((e) => [labelOf(e), e]));

  suite.optimizers.forEach((entry, i) => {
    const first = labels.indexOf(labels[i]);
    if (first < i) {
      add(`/optimizers/${i}${entry.label !== undefined ? '/label' : ''}`, `duplicate optimizer label '${labels[i]}' (also /optimizers/${first}); give the entries distinct "label"s`);
    }
    for (const section of ['kfac', 'smoothing'] as const) {
      if (entry[section] !== undefined && !optimizerUses(entry.name, section)) {
        add(`/optimizers/${i}/${section}`, `optimizer '${entry.name}' does not use ${SECTION_WHAT[section]} (only ${SECTION_USERS[section]} do)`);
      }
    }
  });
  for (const section of ['kfac', 'smoothing'] as const) {
    if (suite.defaults[section] !== undefined && !suite.optimizers.some((e) => optimizerUses(e.name, section))) {
      add(`/defaults/${section}`, `no optimizer of this suite uses ${SECTION_WHAT[section]} (only ${SECTION_USERS[section]} do)`);
    }
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
    if (!suite.batchSizes.includes(Number(key))) add(`/workersByBatchSize/${key}`, `batch size ${key} is not in "batchSizes" (${suite.batchSizes.join(', ')})`);
  }
  suite.batchSizes.forEach((batch, i) => {
    const uneven = workersFor(suite, batch).filter((w) => batch % w !== 0);
    if (uneven.length > 0) {
      add(`/batchSizes/${i}`, `batch size ${batch} does not split evenly across ${uneven.join(' or ')} workers (every batch size must be divisible by every worker count)`);
    }
    if (examples !== undefined && batch > examples.count) {
      add(`/batchSizes/${i}`, `batch size ${batch} exceeds the ${examples.count} training examples (${examples.source}): no full batch can be formed`);
    }
  });

  suite.sweep.forEach((sweep, i) => {
    sweep.optimizers?.forEach((label, k) => {
      if (!entryByLabel.has(label)) add(`/sweep/${i}/optimizers/${k}`, unknownName('optimizer label', label, labels));
    });
    const applies = (sweep.optimizers ?? labels).filter((l) => entryByLabel.has(l));
    const section = optimizerSection(sweep.path);
    if (section) {
      const users = labels.filter((l) => optimizerUses(entryByLabel.get(l)!.name, section));
      const nonUsers = applies.filter((l) => !users.includes(l));
      if (users.length === 0) {
        add(`/sweep/${i}/path`, `'${sweep.path}' is ${SECTION_SETTING[section]}, which no optimizer of this suite uses (only ${SECTION_USERS[section]} do)`);
      } else if (nonUsers.length > 0) {
        add(
          `/sweep/${i}${sweep.optimizers ? '/optimizers' : ''}`,
          `'${sweep.path}' is ${SECTION_SETTING[section]}, which ${nonUsers.map((l) => `'${l}'`).join(', ')} ${nonUsers.length > 1 ? 'do' : 'does'} not use; restrict the sweep with "optimizers": ${JSON.stringify(users)}`,
        );
      }
    }
    const schema = schemaAtPath(sweep.path);
    sweep.values.forEach((value, k) => {
      problems.push(...schemaProblems(schema, value, false, `/sweep/${i}/values/${k}`));
    });
    for (let j = 0; j < i; j++) {
      const other = suite.sweep[j];
      if (other.path !== sweep.path) continue;
      const otherApplies = other.optimizers ?? labels;
      const both = applies.filter((l) => otherApplies.includes(l));
      if (both.length > 0) add(`/sweep/${i}/path`, `'${sweep.path}' is already swept by /sweep/${j} for ${both.map((l) => `'${l}'`).join(', ')}`);
    }
  });

  suite.probes?.optimizers?.forEach((label, k) => {
    if (!entryByLabel.has(label)) add(`/probes/optimizers/${k}`, unknownName('optimizer label', label, labels));
  });
  return problems;
}
