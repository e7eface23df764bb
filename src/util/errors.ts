/**
 * The one error hierarchy for "the input was wrong": a flag, a config, a suite, a results or baseline
 * file, a dataset, an environment variable. Such errors carry one line that names what was wrong and
 * where; `src/cli` alone turns them into that line on stderr and exit code 2 (cli/exitCodes.ts).
 * Every other error means the work itself failed.
 */
export class BadInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A file or directory given to a command is missing, unreadable, too large or malformed. */
export class InputFileError extends BadInputError {}

/** The first line of an error's message (ajv, zlib and parsers can produce several). */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
