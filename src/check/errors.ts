import { BadInputError, firstLine } from '../util/errors.js';

/** The check's input was wrong (unreadable directory, invalid result or baseline file): exit 2, one line naming the file. */
export class CheckInputError extends BadInputError {}

export { firstLine };
