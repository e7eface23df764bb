/**
 * Reading one JSON document of a results directory (a result, manifest, probe report or baseline),
 * turning "unreadable" and "malformed" into one-line messages naming the file. Each reader passes the
 * error class its command maps to bad input.
 */
import { readFileSync } from 'node:fs';

export function readJsonDocument(path: string, what: string, fail: (message: string) => Error): unknown {
  const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw fail(`${path}: cannot read ${what}: ${firstLine(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw fail(`${path}: malformed JSON in ${what}: ${firstLine(error)}`);
  }
}
