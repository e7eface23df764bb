/** Reading and writing `baselines/<suite>.json` (validated against BaselineSchema both ways). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertValid, validateWithDefaults } from '../config/validate.js';
import { MAX_RESULT_BYTES, readJsonFile } from '../util/inputFile.js';
import { writeJsonAtomic } from '../results/writeJsonAtomic.js';
import { TolerancesSchema, type Tolerances } from '../suite/suiteSchema.js';
import { BaselineSchema, type Baseline } from './baselineSchema.js';
import { CheckInputError, firstLine } from './errors.js';
import { fingerprintKey, formatFingerprint } from './observe.js';

/** `baselines/<suite>.json`, relative to the working directory. */
export function defaultBaselinePath(suite: string): string {
  return join('baselines', `${suite}.json`);
}

/** The suite schema's default tolerances (what a suite without `tolerances` gets). */
export function defaultTolerances(): Tolerances {
  return validateWithDefaults(TolerancesSchema, {}, 'default tolerances');
}

/** Problems a schema cannot express: one entry per (run id, environment). */
function duplicateProblem(baseline: Baseline): string | null {
  const seen = new Set<string>();
  for (const e of baseline.entries) {
    const key = `${e.runId}\u0000${fingerprintKey(e.environment)}`;
    if (seen.has(key)) return `/entries: two entries for run ${e.runId} on ${formatFingerprint(e.environment)}`;
    seen.add(key);
  }
  return null;
}

export function parseBaseline(value: unknown, file: string): Baseline {
  try {
    assertValid(BaselineSchema, value, `${file}: invalid baseline file`);
  } catch (error) {
    throw new CheckInputError(firstLine(error));
  }
  const duplicate = duplicateProblem(value);
  if (duplicate) throw new CheckInputError(`${file}: invalid baseline file: ${duplicate}`);
  return value;
}

/** The baseline, or null when the file does not exist. Throws CheckInputError if it is unreadable or invalid. */
export function readBaseline(file: string): Baseline | null {
  if (!existsSync(file)) return null;
  const value = readJsonFile(file, 'baseline file', { maxBytes: MAX_RESULT_BYTES, fail: (message) => new CheckInputError(message) });
  return parseBaseline(value, file);
}

/** Validates, then writes atomically (a reader never sees half a file). */
export function writeBaseline(file: string, baseline: Baseline): void {
  assertValid(BaselineSchema, baseline, 'internal error: baseline does not match its schema');
  const duplicate = duplicateProblem(baseline);
  if (duplicate) throw new Error(`internal error: ${duplicate}`);
  writeJsonAtomic(file, baseline);
}
