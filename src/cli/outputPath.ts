/**
 * Output paths are checked before any work: a run that trains for an hour and then cannot write its
 * result has lost the hour. Problems are bad input (InputFileError: exit 2, one line naming the flag).
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputFileError } from '../util/errors.js';

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

const WHY: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is a file',
  EEXIST: 'a file of that name is in the way',
  ENOSPC: 'no space left on the device',
};
const why = (error: unknown) => WHY[codeOf(error)] ?? codeOf(error);

/** Writes and removes a probe file in `dir`, creating `dir` if needed. */
function assertWritableDir(dir: string, flag: string, shown: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new InputFileError(`${flag} ${shown}: cannot create the folder ${dir} (${why(error)})`);
  }
  const probe = `${dir}/.ngd-bench-write-check.${process.pid}`;
  try {
    writeFileSync(probe, '');
  } catch (error) {
    throw new InputFileError(`${flag} ${shown}: cannot write in ${dir} (${why(error)})`);
  } finally {
    rmSync(probe, { force: true });
  }
}

/** `path` can take an output file: it is not a directory, and its folder exists (or can be made) and is writable. */
export function assertWritableFile(path: string, flag = '--out'): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // absent: fine
  }
  if (isDirectory) throw new InputFileError(`${flag} ${path}: is a directory; give the path of a file to write`);
  assertWritableDir(dirname(path), flag, path);
}

/** `path` can be a results directory: not an existing file, and writable (created if absent). */
export function assertWritableDirectory(path: string, flag = '--out'): void {
  let isFile = false;
  try {
    isFile = !statSync(path).isDirectory();
  } catch {
    // absent: created below
  }
  if (isFile) throw new InputFileError(`${flag} ${path}: is a file, not a results directory; give a directory`);
  assertWritableDir(path, flag, path);
}
