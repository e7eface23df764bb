#!/usr/bin/env node
/** The `ngd-bench` command line. */
import { Command } from 'commander';
import { baselineFindings } from './cli/baselineFindings.js';
import { checkCommand } from './cli/checkCommand.js';
import { leaderboardCommand } from './cli/leaderboardCommand.js';
import { reportCommand } from './cli/reportCommand.js';
import { mergeCommand } from './cli/mergeCommand.js';
import { allreduceProbeWorkerCommand, probeCommand } from './cli/probeCommand.js';
import { reproduceCommand } from './cli/reproduceCommand.js';
import { runCommand } from './cli/runCommand.js';
import { trainCommand } from './cli/trainCommand.js';
import { validateCommand } from './cli/validateCommand.js';
import { verifyBackendCommand } from './cli/verifyBackendCommand.js';
import { exitCodeHelp } from './util/exitCodes.js';
import { runProgram } from './cli/runProgram.js';
import { TOOL_VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command('ngd-bench')
    .description('Benchmark and reproducibility harness for large-batch training with SGD, K-FAC NGD and smoothed NGD')
    .version(TOOL_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', exitCodeHelp())
    .exitOverride();
  for (const command of [
    trainCommand(),
    validateCommand(),
    runCommand(),
    mergeCommand(),
    probeCommand(),
    checkCommand(),
    reportCommand({ compareToBaseline: (set, baselineFile) => baselineFindings(set.dir, baselineFile) }),
    leaderboardCommand(),
    reproduceCommand(),
    verifyBackendCommand(),
  ]) {
    program.addCommand(command.exitOverride());
  }
  program.addCommand(allreduceProbeWorkerCommand().exitOverride(), { hidden: true });
  return program;
}

await runProgram(buildProgram(), process.argv);
