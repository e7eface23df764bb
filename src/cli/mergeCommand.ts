/** `ngd-bench merge <dir...> --out <dir>`: join the results directories of a suite's shards. */
import { Command } from 'commander';
import { formatMergeReport, mergeResults } from '../harness/mergeResults.js';

interface MergeFlags {
  out: string;
  json?: boolean;
}

export function mergeCommand(): Command {
  return new Command('merge')
    .description('Join the results directories of several shards (or machines) into one')
    .argument('<dir...>', 'results directories written by `ngd-bench run`')
    .requiredOption('--out <dir>', 'the merged directory (must not be one of the inputs)')
    .option('--json', 'print the merge report as JSON on stdout')
    .addHelpText(
      'after',
      `
Copies every <id>.json and writes a manifest.json listing all planned runs. A run found in several
directories: identical results are fine, a complete result (ok or diverged) wins over a failed one,
and two different complete results are an error naming both files (then nothing is written).

Examples:
  ngd-bench merge out/shard1 out/shard2 out/shard3 out/shard4 --out results/example
  ngd-bench merge machine-a/ machine-b/ --out merged/ --json

Prints "merged N results from M directories (K failed, L missing from planned)".
Exit codes: 0 merged, 2 bad input (a missing directory, an invalid file, conflicting results).`,
    )
    .action((dirs: string[], flags: MergeFlags) => {
      const report = mergeResults({ dirs, outDir: flags.out });
      if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`${formatMergeReport(report)}\n`);
      for (const warning of report.warnings) process.stderr.write(`ngd-bench: warning: ${warning}\n`);
      if (report.missing.length > 0 && !flags.json) {
        process.stderr.write(`ngd-bench: missing: ${report.missing.join(', ')}\n`);
      }
    });
}
