/**
 * The dependency rules as a test can check them: walk relative imports (transitively) from some
 * entry modules and list every tfjs import or training-side module reached.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const srcDir = join(root, 'src');
/** Folders that hold tensors and training: what harness, checker, reporter and suites must not load. */
const TRAINING_SIDE = ['train', 'optim', 'models', 'accel', 'backend', 'data'].map((d) => `${join(srcDir, d)}/`);

export function tfjsOrTrainingReachable(entries: readonly string[]): { offenders: string[]; seen: Set<string> } {
  const seen = new Set<string>();
  const offenders: string[] = [];
  const visit = (file: string, from: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (TRAINING_SIDE.some((f) => file.startsWith(f)) || file === join(srcDir, 'tf.ts')) offenders.push(`${relative(root, from)} -> ${relative(root, file)}`);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
      const spec = m[1];
      if (spec.startsWith('@tensorflow/')) offenders.push(`${relative(root, file)} -> ${spec}`);
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), file);
    }
  };
  for (const f of entries) visit(f, f);
  return { offenders, seen };
}
