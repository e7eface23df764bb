/**
 * Reading a suite file (.json, .yaml or .yml): syntax errors with line and column, then every schema
 * error with its JSON path (unknown names with the nearest valid one), then the checks a schema cannot
 * express, then every run of the matrix through resolveTrainConfig. Any problem -> one SuiteError
 * listing them all.
 */
import { extname } from 'node:path';
import { suiteProblemMismatches, suiteWithProblem } from '../config/problems.js';
import { planRuns } from './expandSuite.js';
import { tuningMatrix } from './tuning.js';
import { readInputText } from '../util/inputFile.js';
import { parseJsonText, parseYamlText, type ParseResult } from '../util/parseText.js';
import { schemaProblems } from './schemaErrors.js';
import { SuiteError } from './suiteError.js';
import { SuiteSchema, type Suite } from './suiteSchema.js';

export type SuiteFormat = 'json' | 'yaml';

export function suiteFormat(path: string): SuiteFormat | undefined {
  const ext = extname(path).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined;
}

/** A parsed suite document -> a valid Suite with defaults filled (a copy); `file` names it in errors. */
export function suiteFromValue(value: unknown, file: string): Suite {
  const suite: unknown = suiteWithProblem(structuredClone(value));
  const mismatched = suiteProblemMismatches(suite);
  if (mismatched.length > 0) throw new SuiteError(file, mismatched);
  const schema = schemaProblems(SuiteSchema, suite, true);
  if (schema.length > 0) throw new SuiteError(file, schema);
  const { problems } = planRuns(suite as Suite);
  if (problems.length > 0) throw new SuiteError(file, problems);
  const tune = (suite as Suite).tune;
  if (tune) {
    // Every tuning run must resolve too (a grid value may be valid alone and not in its run).
    const tuning = planRuns(suite as Suite, tuningMatrix(suite as Suite, tune)).problems;
    if (tuning.length > 0) throw new SuiteError(file, tuning);
  }
  return suite as Suite;
}

export function parseSuiteText(text: string, file: string, format: SuiteFormat): Suite {
  const parsed: ParseResult = format === 'json' ? parseJsonText(text) : parseYamlText(text);
  if (!parsed.ok) throw new SuiteError(file, parsed.problems);
  return suiteFromValue(parsed.value, file);
}

export function loadSuite(path: string): Suite {
  const format = suiteFormat(path);
  if (!format)
    throw new SuiteError(path, [
      { path: '', message: `unsupported suite file type '${extname(path) || '(none)'}': use .json, .yaml or .yml` },
    ]);
  // Judged by type and size before a byte is read: a FIFO, a device or a many-gigabyte "suite" is bad input.
  const text = readInputText(path, 'suite', { fail: (_message, reason) => new SuiteError(path, [{ path: '', message: reason }]) });
  return parseSuiteText(text, path, format);
}
