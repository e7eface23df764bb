import { readFileSync, statSync } from 'node:fs';
import { MAX_DOCUMENT_BYTES, parseJsonText } from '../suite/parseText.js';

export class InputFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputFileError';
  }
}

/** Reads a JSON document, turning "missing" and "malformed" into one-line errors naming the file. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    const bytes = statSync(path).size;
    if (bytes > MAX_DOCUMENT_BYTES) throw new InputFileError(`${what} ${path}: the file is ${bytes} bytes; configs are limited to ${MAX_DOCUMENT_BYTES} bytes (1 MiB)`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputFileError(`${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  // The suite reader's limits apply to every hand-written document: size, depth, duplicate keys, non-finite numbers.
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    const [first] = parsed.problems;
    throw new InputFileError(`${what} ${path}: ${first.path ? `${first.path}: ` : ''}${first.message}`);
  }
  return parsed.value;
}

/** A JSON document that must be an object (a config or a suite). */
export function readJsonObject(path: string, what: string): Record<string, unknown> {
  const value = readJsonFile(path, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputFileError(`${what} ${path}: must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  return value as Record<string, unknown>;
}
