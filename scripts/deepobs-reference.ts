/**
 * Writes a published-reference file (for `ngd-bench report --reference`) from a copy of DeepOBS's
 * baselines (https://github.com/fsschneider/DeepOBS_Baselines, ~470 MB; nothing is downloaded here):
 *
 *   npx tsx scripts/deepobs-reference.ts --baselines DIR --commit SHA --problem fmnist_2c2d \
 *     --label GradientDescentOptimizer=sgd --label MomentumOptimizer=momentum \
 *     --out reports/deepobs/published-fmnist_2c2d.json
 *
 * Each --label maps a DeepOBS optimizer directory to the optimizer label of our suite it is compared with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Command } from 'commander';
import { type DeepobsRunFile, deepobsReference } from '../src/report/deepobsReference.js';
import { parsePublishedReference } from '../src/report/referenceFile.js';
import { writeJsonAtomic } from '../src/results/writeJsonAtomic.js';

const program = new Command('deepobs-reference')
  .requiredOption('--baselines <dir>', 'a copy of fsschneider/DeepOBS_Baselines')
  .requiredOption('--commit <sha>', 'the commit of that copy (recorded in the reference)')
  .requiredOption('--problem <name>', 'the DeepOBS problem directory, e.g. fmnist_2c2d')
  .requiredOption(
    '--label <optimizer=label>',
    'DeepOBS optimizer directory = our optimizer label; repeatable',
    (v, all: string[]) => [...all, v],
    [],
  )
  .requiredOption('--out <file>', 'the reference file to write')
  .parse();
const flags = program.opts<{ baselines: string; commit: string; problem: string; label: string[]; out: string }>();

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsonFiles(join(dir, e.name)) : e.name.endsWith('.json') ? [join(dir, e.name)] : [],
  );
}

const files: DeepobsRunFile[] = jsonFiles(join(flags.baselines, flags.problem)).map((file) => ({
  path: relative(flags.baselines, file).split(sep).join('/'),
  json: JSON.parse(readFileSync(file, 'utf8')),
}));
const labels = flags.label.map((pair) => {
  const [optimizer, label] = pair.split('=');
  if (!optimizer || !label) throw new Error(`--label ${pair}: expected <DeepOBS optimizer>=<label>`);
  return [optimizer, label] as const;
});
const reference = deepobsReference(files, {
  problem: flags.problem,
  labels,
  url: 'https://github.com/fsschneider/DeepOBS_Baselines',
  commit: flags.commit,
  extractedWith: `npx tsx scripts/deepobs-reference.ts --problem ${flags.problem} ${labels.map(([o, l]) => `--label ${o}=${l}`).join(' ')}`,
});
writeJsonAtomic(flags.out, parsePublishedReference(reference, flags.out));
console.log(`wrote ${flags.out}: ${reference.curves.map((c) => `${c.label} (${c.setting}; ${c.seeds.length} seeds)`).join(', ')}`);
