/**
 * One run's result file: read (type and size first, strict JSON), validated against RunResultSchema,
 * and checked for what a schema cannot say (an ok run has final metrics). Every reader of results,
 * the harness included, goes through here, so they agree on what a valid result is.
 */
import { existsSync } from 'node:fs';
import { assertValid, ValidationError } from '../config/validate.js';
import { firstLine, InputFileError } from '../util/errors.js';
import { MAX_RESULT_BYTES, readJsonFile } from '../util/inputFile.js';
import { RunResultSchema, type RunResult } from './runResult.js';

/** A result file (or a results directory) is missing, unreadable, invalid or incoherent: bad input, exit 2. */
export class ResultsDirectoryError extends InputFileError {}

const MAX_PROBLEMS = 3;

/** A ValidationError's first problems on one line. */
export function validationLine(error: unknown): string {
  if (!(error instanceof ValidationError)) return firstLine(error);
  const shown = error.problems.slice(0, MAX_PROBLEMS).join('; ');
  const more = error.problems.length - MAX_PROBLEMS;
  return more > 0 ? `${shown} (+${more} more)` : shown;
}

/** What the schema cannot express; null when the result is coherent. */
export function incoherence(result: RunResult): string | null {
  if (result.status === 'ok' && result.final === null) return "status 'ok' without final metrics (final: null)";
  return null;
}

/** Schema and coherence; throws ResultsDirectoryError naming `source`. */
export function parseRunResult(value: unknown, source: string): RunResult {
  try {
    assertValid(RunResultSchema, value, 'result file');
  } catch (error) {
    throw new ResultsDirectoryError(`${source}: invalid result file: ${validationLine(error)}`);
  }
  const problem = incoherence(value);
  if (problem !== null) throw new ResultsDirectoryError(`${source}: invalid result file: ${problem}`);
  return value;
}

export function readRunResult(path: string): RunResult {
  const value = readJsonFile(path, 'result file', { maxBytes: MAX_RESULT_BYTES, fail: (message) => new ResultsDirectoryError(message) });
  return parseRunResult(value, path);
}

export type ResultRead =
  | { readonly kind: 'valid'; readonly result: RunResult }
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly problem: string };

/** Reads and validates a result file without throwing (the harness judges a child by it). */
export function tryReadRunResult(path: string): ResultRead {
  if (!existsSync(path)) return { kind: 'missing' };
  try {
    return { kind: 'valid', result: readRunResult(path) };
  } catch (error) {
    return { kind: 'invalid', problem: firstLine(error) };
  }
}
