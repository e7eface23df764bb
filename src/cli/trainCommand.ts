/** `ngd-bench train`: one run from flags and/or a JSON config, to a validated result file. */
import { Command } from 'commander';
import { resolveTrainConfig } from '../config/resolveConfig.js';
import { assertValid } from '../config/validate.js';
import { writeJsonAtomic } from '../results/writeJsonAtomic.js';
import { RunResultSchema, type RunResult } from '../results/runResult.js';
import { executeRun } from '../train/executeRun.js';
import { EXIT } from './exitCodes.js';
import { readJsonObject } from './readJsonFile.js';
import { TrainProgress } from './trainProgress.js';
import { addTrainOptions, applyTrainFlags, type TrainFlags } from './trainOptions.js';

export function exitCodeFor(result: RunResult): number {
  return result.status === 'ok' ? EXIT.ok : result.status === 'diverged' ? EXIT.diverged : EXIT.runFailed;
}

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('Train one model with one optimizer and write a result file')
    .addHelpText(
      'after',
      `
Examples:
  ngd-bench train --model mlp --optimizer ngd --batch-size 1024 --epochs 5 --out out/ngd.json
  ngd-bench train --config run.json --seed 3 --json

Exit codes: 0 ok, 1 run failed (result written with status 'failed'), 2 bad input (nothing written),
3 diverged (result written with the step of the first non-finite loss).`,
    );
  addTrainOptions(cmd).action(async (flags: TrainFlags) => {
    const base = flags.config ? readJsonObject(flags.config, 'config') : {};
    const config = resolveTrainConfig(applyTrainFlags(base, flags), flags.config ? `config ${flags.config}` : 'config');
    const progress = new TrainProgress(!flags.quiet, config.epochs);
    const result = await executeRun(config, { hooks: progress.hooks, warn: (line) => console.error(line) });
    progress.finish(result);
    assertValid(RunResultSchema, result, 'internal error: result does not match its schema');
    if (flags.out) writeJsonAtomic(flags.out, result);
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.exitCode = exitCodeFor(result);
  });
  return cmd;
}
