import { readFileSync } from 'node:fs';

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
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputFileError(`${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputFileError(`${what} ${path}: malformed JSON: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** A JSON document that must be an object (a config or a suite). */
export function readJsonObject(path: string, what: string): Record<string, unknown> {
  const value = readJsonFile(path, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputFileError(`${what} ${path}: must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  return value as Record<string, unknown>;
}
