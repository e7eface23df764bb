/**
 * The one reader of input files (configs, suites, results, manifests, probe and tuning reports,
 * baselines): the file is judged by its type and size before a byte is read, then parsed with the
 * document limits of parseText.ts. A FIFO would block the read, a device never end, a symlink loop
 * throw ELOOP and a huge file exhaust memory; each is refused with one line naming the file.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { firstLine, InputFileError } from './errors.js';
import { MAX_DOCUMENT_BYTES, parseJsonText, sizeLimitMessage } from './parseText.js';

/** Result files record every evaluation of a run: far larger than a hand-written document may be. */
export const MAX_RESULT_BYTES = 64 << 20;

export interface InputFileOptions {
  /** Largest size accepted (default: MAX_DOCUMENT_BYTES, 1 MiB). */
  readonly maxBytes?: number;
  /**
   * The error to throw (default InputFileError); commands with their own bad-input kind pass theirs.
   * `message` names the file and what was read; `reason` is only what is wrong ("no such file").
   */
  readonly fail?: (message: string, reason: string) => Error;
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** The reason a file cannot be read, in words ("no such file", "a symbolic link loop", ...). */
export function unreadableReason(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'ELOOP':
      return 'a symbolic link loop';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a parent of it is not a directory';
    default:
      return firstLine(error);
  }
}

/** Why `path` is not a readable regular file of at most maxBytes, or null when it is one. */
export function regularFileProblem(path: string, maxBytes = MAX_DOCUMENT_BYTES): string | null {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    return unreadableReason(error);
  }
  if (!stats.isFile()) return `${kindOf(stats)}, not a regular file`;
  if (stats.size > maxBytes) return sizeLimitMessage('file', stats.size, maxBytes);
  return null;
}

/** The text of a regular file, checked by type and size first. */
export function readInputText(path: string, what: string, options: InputFileOptions = {}): string {
  const fail = options.fail ?? ((message: string) => new InputFileError(message));
  const problem = regularFileProblem(path, options.maxBytes ?? MAX_DOCUMENT_BYTES);
  if (problem !== null) throw fail(`${path}: cannot read ${what}: ${problem}`, problem);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = unreadableReason(error);
    throw fail(`${path}: cannot read ${what}: ${reason}`, reason);
  }
}

/** A JSON document: strict syntax (no duplicate keys), bounded nesting, finite numbers. */
export function readJsonFile(path: string, what: string, options: InputFileOptions = {}): unknown {
  const fail = options.fail ?? ((message: string) => new InputFileError(message));
  const maxBytes = options.maxBytes ?? MAX_DOCUMENT_BYTES;
  const parsed = parseJsonText(readInputText(path, what, options), maxBytes);
  if (!parsed.ok) {
    const [first] = parsed.problems;
    const syntax = /^malformed JSON\b/.exec(first.message);
    if (syntax) throw fail(`${path}: malformed JSON in ${what}${first.message.slice(syntax[0].length)}`, first.message);
    throw fail(`${path}: invalid ${what}: ${first.path ? `${first.path}: ` : ''}${first.message}`, first.message);
  }
  return parsed.value;
}

/** A JSON document that must be an object (a config, a suite). */
export function readJsonObject(path: string, what: string, options: InputFileOptions = {}): Record<string, unknown> {
  const value = readJsonFile(path, what, options);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
    const reason = `must be a JSON object, got ${got}`;
    throw (options.fail ?? ((message: string) => new InputFileError(message)))(`${path}: ${what} ${reason}`, reason);
  }
  return value as Record<string, unknown>;
}
