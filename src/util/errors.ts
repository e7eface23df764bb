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

/** Several independent problems found at once (e.g. by merge), each its own line. */
export class BadInputProblems extends BadInputError {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

/** How every command prints an error line on stderr. */
export function errorLine(message: string): string {
  return `ngd-bench: error: ${message}`;
}

/** The lines an error is printed as: each problem of a BadInputProblems, else the message's first line. */
export function errorLines(error: unknown): string[] {
  return error instanceof BadInputProblems ? error.problems.map(errorLine) : [errorLine(firstLine(error))];
}

/** The first line of an error's message (ajv, zlib and parsers can produce several). */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
