/**
 * The dependency rules as a test can check them: walk relative imports (transitively) from some
 * entry modules and list every tfjs import or training-side module reached.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const srcDir = join(root, 'src');
/** Folders that hold tensors and training: what harness, checker, reporter and suites must not load. */
const TRAINING_SIDE = ['train', 'optim', 'models', 'compute', 'data'].map((d) => `${join(srcDir, d)}/`);
/** Folders of src/ that group units of their own: each subfolder is a unit ('compute/backend'). */
const GROUPS = ['compute', 'distributed'];

export function tfjsOrTrainingReachable(entries: readonly string[]): { offenders: string[]; seen: Set<string> } {
  const seen = new Set<string>();
  const offenders: string[] = [];
  const visit = (file: string, from: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (TRAINING_SIDE.some((f) => file.startsWith(f)) || file === join(srcDir, 'tf.ts'))
      offenders.push(`${relative(root, from)} -> ${relative(root, file)}`);
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

/**
 * Every import edge between folders of src/ ('(root)' for src/*.ts; a grouping folder's subfolders count
 * as folders of their own, 'compute/accel'), each with one file that makes it.
 */
export function folderEdges(): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  const folderOf = (file: string) => {
    const parts = relative(srcDir, file).split('/');
    if (parts.length === 1) return '(root)';
    return GROUPS.includes(parts[0]) && parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
  };
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
          if (!m[1].startsWith('.')) continue;
          const [from, to] = [folderOf(path), folderOf(resolve(dirname(path), m[1]))];
          if (from === to) continue;
          if (!edges.has(from)) edges.set(from, new Map());
          if (!edges.get(from)!.has(to)) edges.get(from)!.set(to, relative(root, path));
        }
      }
    }
  };
  walk(srcDir);
  return edges;
}
