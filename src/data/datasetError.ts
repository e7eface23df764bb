import { BadInputError } from '../util/errors.js';
/**
 * The one error kind for "the data is missing, malformed or mis-requested". Its message is a single line
 * (`dataset: file: what was wrong; how to fix it`) so the CLI can print it as-is and a user can act on it.
 */
export interface DatasetErrorParts {
  /** Dataset the error is about, e.g. 'fashion-mnist'; omitted when the error is not tied to one. */
  dataset?: string;
  /** File or directory at fault, when there is one. */
  file?: string;
  /** What was wrong. */
  problem: string;
  /** How to get or fix the data. */
  remedy: string;
}

export class DatasetError extends BadInputError {
  override readonly name = 'DatasetError';
  readonly dataset?: string;
  readonly file?: string;
  readonly problem: string;
  readonly remedy: string;

  constructor(parts: DatasetErrorParts) {
    super(formatDatasetError(parts));
    this.dataset = parts.dataset;
    this.file = parts.file;
    this.problem = parts.problem;
    this.remedy = parts.remedy;
  }
}

/** `dataset: file: problem; remedy`, with any embedded newlines (e.g. from zlib) flattened. */
export function formatDatasetError({ dataset, file, problem, remedy }: DatasetErrorParts): string {
  const head = [dataset, file, problem].filter((part) => part !== undefined && part !== '').join(': ');
  return `${head}; ${remedy}`.replace(/\s*[\r\n]+\s*/g, ' ');
}

/**
 * A format problem found by a pure parser that does not know which file or dataset it is reading;
 * the file-level caller turns it into a DatasetError that names both.
 */
export class FormatProblem extends Error {
  override readonly name = 'FormatProblem';
}
