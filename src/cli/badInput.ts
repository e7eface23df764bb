/** Errors that mean "the input was wrong" (exit 2, nothing written), as opposed to a failed run: one hierarchy, util/errors.ts. */
import { BadInputError } from '../util/errors.js';

export function isBadInputError(error: unknown): boolean {
  return error instanceof BadInputError;
}
