import { readFileSync } from 'node:fs';
import { assertValid } from '../config/validate.js';
import { RunResultSchema, type RunResult } from './runResult.js';

export function parseRunResult(value: unknown, source: string): RunResult {
  assertValid(RunResultSchema, value, `${source}: invalid result file`);
  return value;
}

export function readRunResult(path: string): RunResult {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read result file: ${(error as Error).message}`);
  }
  return parseRunResult(value, path);
}
