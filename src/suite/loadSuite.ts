/**
 * Reading a suite file (.json, .yaml or .yml): syntax errors with line and column, then every schema
 * error with its JSON path (unknown names with the nearest valid one), then the checks a schema cannot
 * express, then every run of the matrix through resolveTrainConfig. Any problem -> one SuiteError
 * listing them all.
 */
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { planRuns } from './expandSuite.js';
import { tuningMatrix } from './tuning.js';
import { MAX_DOCUMENT_BYTES, parseJsonText, parseYamlText, type ParseResult } from '../util/parseText.js';
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
  const suite: unknown = structuredClone(value);
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
  let text: string;
  try {
    // Refused before reading: a many-gigabyte "suite" must not be loaded into memory to be judged.
    const bytes = statSync(path).size;
    if (bytes > MAX_DOCUMENT_BYTES) {
      throw new SuiteError(path, [
        { path: '', message: `the file is ${bytes} bytes; suite files are limited to ${MAX_DOCUMENT_BYTES} bytes (1 MiB)` },
      ]);
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof SuiteError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new SuiteError(path, [
      { path: '', message: code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message },
    ]);
  }
  return parseSuiteText(text, path, format);
}
