/** `ngd-bench leaderboard DIR...`: optimizers ranked per batch size and overall, across result sets. Never loads tfjs. */
import { Command } from 'commander';
import { analyzeResultSet } from '../report/analyze.js';
import { leaderboardMarkdown, type LeaderboardSet } from '../report/leaderboard.js';
import { readResultsDirectory } from '../results/resultsDirectory.js';
import { writeTextAtomic } from '../results/writeJsonAtomic.js';
import { assertWritableFile } from './outputPath.js';
import { displayPath } from './paths.js';
import { type CommandOutput, PROCESS_OUTPUT } from './commandOutput.js';

interface LeaderboardFlags {
  out?: string;
  title?: string;
}

const HELP = `
Within each results directory and global batch size, optimizer configurations (label, sweep values,
workers) are ranked by mean final test accuracy over seeds, ties broken by less mean training time;
a configuration whose runs there all diverged or failed ranks last. The overall rank is the mean of
those ranks. Each set's environment (backend, CPU/GPU, node) is listed: times from different
machines are not comparable, so sets are ranked separately and only meet in the mean rank.

Examples:
  ngd-bench leaderboard results/smoke results/example
  ngd-bench leaderboard reports/cpu-run reports/gpu-run --out reports/leaderboard.md

Exit codes: 0 written, 2 bad input (a missing directory or an invalid result file).`;

export function leaderboardCommand(output: CommandOutput = PROCESS_OUTPUT): Command {
  return new Command('leaderboard')
    .description('Rank optimizers per batch size and overall across one or more results directories (Markdown)')
    .argument('<dir...>', 'results directories written by `ngd-bench run` or `merge`')
    .option('--out <file>', 'write the Markdown here (default: print it)')
    .option('--title <text>', 'title (default: "ngd-bench leaderboard")')
    .addHelpText('after', HELP)
    .action((dirs: string[], flags: LeaderboardFlags) => {
      if (flags.out) assertWritableFile(flags.out);
      const sets: LeaderboardSet[] = dirs.map((dir) => ({
        name: displayPath(dir),
        analysis: analyzeResultSet(readResultsDirectory(dir, { requireRuns: true })),
      }));
      const text = leaderboardMarkdown(sets, flags.title);
      if (!flags.out) {
        output.out(text);
        return;
      }
      writeTextAtomic(flags.out, text);
      output.out(`wrote ${displayPath(flags.out)} (${sets.length} result sets)\n`);
    });
}
