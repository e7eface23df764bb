/** Reading one dataset file and blaming it by name when anything about it is wrong. */
import { readFile } from 'node:fs/promises';
import { DatasetError, FormatProblem } from './datasetError.js';

/** Who is reading a file and what to tell the user if it turns out bad. */
export interface FileContext {
  dataset: string;
  /** e.g. 'reinstall with: apt-get install --reinstall dataset-fashion-mnist'. */
  remedy: string;
}

/** The file's raw bytes; I/O failures become a DatasetError naming the file. */
export async function readDataFile(file: string, ctx: FileContext): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? (error as Error).message})`;
    throw new DatasetError({ ...ctx, file, problem });
  }
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** Runs a pure parser, turning its FormatProblem into a DatasetError that names `file`. */
export function inFile<T>(file: string, ctx: FileContext, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof FormatProblem) throw new DatasetError({ ...ctx, file, problem: error.message });
    throw error;
  }
}
