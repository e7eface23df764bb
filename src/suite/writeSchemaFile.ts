/**
 * Writes schemas/suite.schema.json from the TypeBox schema: `npx tsx src/suite/writeSchemaFile.ts`.
 * With `--check`, writes nothing and exits 1 if the committed file is out of date.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suiteJsonSchemaText } from './emitSchema.js';

const SUITE_SCHEMA_FILE = fileURLToPath(new URL('../../schemas/suite.schema.json', import.meta.url));

function main(args: string[]): number {
  const text = suiteJsonSchemaText();
  const shown = relative(process.cwd(), SUITE_SCHEMA_FILE);
  if (args.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(SUITE_SCHEMA_FILE, 'utf8');
    } catch {
      // missing: out of date
    }
    if (current === text) return 0;
    console.error(`${shown} is out of date: run npx tsx src/suite/writeSchemaFile.ts`);
    return 1;
  }
  mkdirSync(dirname(SUITE_SCHEMA_FILE), { recursive: true });
  writeFileSync(SUITE_SCHEMA_FILE, text);
  console.log(`wrote ${shown}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
