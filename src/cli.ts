#!/usr/bin/env node
/** The `ngd-bench` command line. */
import { Command, CommanderError } from 'commander';
import { baselineFindings } from './check/reportFindings.js';
import { checkCommand } from './cli/checkCommand.js';
import { leaderboardCommand } from './cli/leaderboardCommand.js';
import { reportCommand } from './cli/reportCommand.js';
import { mergeCommand } from './cli/mergeCommand.js';
import { allreduceProbeWorkerCommand, probeCommand } from './cli/probeCommand.js';
import { reproduceCommand } from './cli/reproduceCommand.js';
import { runCommand } from './cli/runCommand.js';
import { trainCommand } from './cli/trainCommand.js';
import { validateCommand } from './cli/validateCommand.js';
import { EXIT } from './cli/exitCodes.js';
import { isBadInputError } from './cli/badInput.js';
import { TOOL_VERSION } from './version.js';
import { firstLine } from './util/errors.js';

export function buildProgram(): Command {
  const program = new Command('ngd-bench')
    .description('Benchmark and reproducibility harness for large-batch training with SGD, K-FAC NGD and smoothed NGD')
    .version(TOOL_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const command of [
    trainCommand(), validateCommand(), runCommand(), mergeCommand(), probeCommand(), checkCommand(),
    reportCommand({ compareToBaseline: (set, baselineFile) => baselineFindings(set.dir, baselineFile) }),
    leaderboardCommand(), reproduceCommand(),
  ]) {
    program.addCommand(command.exitOverride());
  }
  program.addCommand(allreduceProbeWorkerCommand().exitOverride(), { hidden: true });
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message (or the help text).
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
      return;
    }
    const message = firstLine(error);
    console.error(`ngd-bench: error: ${message}`);
    process.exitCode = isBadInputError(error) ? EXIT.badInput : EXIT.runFailed;
  }
}

await main(process.argv);
