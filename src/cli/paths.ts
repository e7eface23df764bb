/** Paths as commands print them, and finding a suite's file (and its description) by the suite's name. */
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

/** The `description` of a suite file, or null when it has none or cannot be read. */
export function suiteDescription(file: string): string | null {
  try {
    const doc = parseYaml(readFileSync(file, 'utf8')) as { description?: unknown } | null;
    return doc && typeof doc === 'object' && typeof doc.description === 'string' ? doc.description : null;
  } catch {
    return null;
  }
}
