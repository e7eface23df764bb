/**
 * `--filter` for run matrices. The filter is whitespace-separated terms; a run must match every term.
 *
 *   key=value[,value...]   (key: a word or dotted path) a field equals one of the values (values may use * and ? globs; numbers
 *                          compare numerically, so lr=1e-3 matches 0.001). Keys: optimizer (the label),
 *                          batch, workers, seed, id, name, and every swept path of the suite, by its
 *                          full path (optimizer.kfac.damping) or its short name in run names (damping).
 *   text with * or ?       a glob over the whole run name or the whole id, e.g. 'ngd-b1024-*'
 *   other text             a substring of the run name or id, e.g. 'b1024' or '-s0'
 *
 * Examples: 'optimizer=ngd,smoothed-ngd batch=1024 seed=0', 'damping=0.01', 'sgd-b256'.
 */
import { nearest } from '../util/nearest.js';
import type { PlannedRun } from './plannedRun.js';
import { sweepKeys } from './runId.js';
import { SuiteError } from './suiteError.js';

const FIELDS: Record<string, (run: PlannedRun) => unknown> = {
  optimizer: (r) => r.optimizerLabel,
  batch: (r) => r.config.batchSize,
  workers: (r) => r.workers,
  seed: (r) => r.config.seed,
  id: (r) => r.id,
  name: (r) => r.name,
};

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const isGlob = (s: string) => /[*?]/.test(s);

function valueMatches(actual: unknown, wanted: string): boolean {
  if (isGlob(wanted)) return globToRegExp(wanted).test(String(actual));
  if (typeof actual === 'number' && wanted.trim() !== '' && Number(wanted) === actual) return true;
  return String(actual) === wanted;
}

/** A predicate for `filter` over `runs` (whose swept paths are the extra keys); throws SuiteError for an unknown key. */
export function compileFilter(filter: string, runs: readonly PlannedRun[]): (run: PlannedRun) => boolean {
  const swept = [...new Set(runs.flatMap((r) => Object.keys(r.sweep)))];
  const fields: Record<string, (run: PlannedRun) => unknown> = { ...FIELDS };
  for (const [path, short] of sweepKeys(swept)) {
    const get = (r: PlannedRun) => (path in r.sweep ? r.sweep[path] : undefined);
    fields[path] = get;
    fields[short] ??= get;
  }
  const tests = filter
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((term): ((run: PlannedRun) => boolean) => {
      const eq = term.indexOf('=');
      // A key is a word or dotted path: a term like 'ngd-b1024-*-damping=0.01' is a (glob of a) run name.
      if (eq > 0 && /^[A-Za-z][A-Za-z0-9_.]*$/.test(term.slice(0, eq))) {
        const key = term.slice(0, eq);
        const get = fields[key];
        if (!get) {
          const guess = nearest(key, Object.keys(fields));
          throw new SuiteError('--filter', [
            {
              path: '',
              message: `unknown key '${key}' in '${term}'${guess ? ` (did you mean '${guess}'?)` : ''}; known: ${Object.keys(fields).join(', ')}`,
            },
          ]);
        }
        const wanted = term.slice(eq + 1).split(',');
        return (run) => {
          const actual = get(run);
          return actual !== undefined && wanted.some((w) => valueMatches(actual, w));
        };
      }
      if (isGlob(term)) {
        const re = globToRegExp(term);
        return (run) => re.test(run.name) || re.test(run.id);
      }
      return (run) => run.name.includes(term) || run.id.includes(term);
    });
  return (run) => tests.every((t) => t(run));
}
