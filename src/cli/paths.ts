/** Paths as commands print them, and finding a suite's file by its name. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** A path as commands in the report should name it: relative to the working directory when inside it. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const abs = resolve(cwd, path);
  const rel = relative(cwd, abs);
  const shown = rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? abs : rel;
  return shown.split(sep).join('/');
}

/** The suite file under `dir` whose `name` is `suite`, or null. */
export function findSuiteFile(suite: string, dir = 'suites'): string | null {
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir)
    .filter((f) => /\.(json|ya?ml)$/i.test(f))
    .sort();
  for (const f of files) {
    try {
      const doc = parseYaml(readFileSync(join(dir, f), 'utf8')) as { name?: unknown } | null;
      if (doc && typeof doc === 'object' && doc.name === suite) return displayPath(join(dir, f));
    } catch {
      // not a suite we can read: skip it
    }
  }
  return null;
}
