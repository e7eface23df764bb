/** A suite that cannot be used: every problem found, each with the JSON path where it occurred. */
import { ValidationError } from '../config/validate.js';

export interface SuiteProblem {
  /** JSON pointer into the suite document ('/optimizers/1/name'; '/' is the root); '' when the problem has no place (a malformed file). */
  readonly path: string;
  readonly message: string;
}

/** `<path>: <message>`, or just the message when it has no path. */
export function formatProblem(problem: SuiteProblem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}

/**
 * A ValidationError (so the CLI treats it as bad input, exit 2) whose message lists every problem as
 * `<file>: <json path>: <message>`, joined by '; '.
 */
export class SuiteError extends ValidationError {
  /** The suite file (or `suite <name>`, `--shard`, `--filter` for problems outside a file). */
  readonly file: string;
  readonly errors: readonly SuiteProblem[];

  constructor(file: string, errors: readonly SuiteProblem[]) {
    super(file, errors.map(formatProblem));
    this.name = 'SuiteError';
    this.file = file;
    this.errors = errors;
    this.message = this.lines().join('; ');
  }

  /** One line per problem: `<file>: <json path>: <message>`. */
  lines(): string[] {
    return this.errors.map((e) => `${this.file}: ${formatProblem(e)}`);
  }
}
