import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { firstLine } from '../util/errors.js';

/** Write to a sibling temp file, then rename: readers never see a half-written file. */
export function writeTextAtomic(path: string, text: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    // The path and the cause in one line (a bare ENOSPC or EROFS does not say which file was lost).
    const code = (error as NodeJS.ErrnoException).code;
    const cause = code === 'ENOSPC' ? 'no space left on the device' : code === 'EROFS' ? 'read-only file system' : firstLine(error);
    throw new Error(`cannot write ${path}: ${cause}`, { cause: error });
  }
}

/** `value` as indented JSON, atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeTextAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
