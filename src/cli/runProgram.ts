/**
 * The one place where an error becomes lines on stderr and an exit code (util/exitCodes.ts): bad input
 * (a BadInputError, or a flag commander refused) is 2, anything else that escapes a command is 1.
 */
import { type Command, CommanderError } from 'commander';
import { BadInputError, errorLines } from '../util/errors.js';
import { EXIT } from '../util/exitCodes.js';

export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  return error instanceof BadInputError ? EXIT.badInput : EXIT.runFailed;
}

/**
 * A reader that stops early (`ngd-bench train --help | head`) closes stdout: that is the reader's choice,
 * not a crash, so the rest of the output is dropped and the process ends quietly.
 */
function endQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? EXIT.ok);
  });
}

export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  endQuietlyOnClosedStdout();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    // commander has already printed its own message (or the help text).
    if (!(error instanceof CommanderError)) for (const line of errorLines(error)) console.error(line);
    process.exitCode = exitCodeOf(error);
  }
}
