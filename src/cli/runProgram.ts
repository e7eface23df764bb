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

export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    // commander has already printed its own message (or the help text).
    if (!(error instanceof CommanderError)) for (const line of errorLines(error)) console.error(line);
    process.exitCode = exitCodeOf(error);
  }
}
