/** `ngd-bench validate <suite...>`: check suite files without running anything. */
import { Command } from 'commander';
import { expandSuite } from '../suite/expandSuite.js';
import { loadSuite } from '../suite/loadSuite.js';
import { planTuningRuns } from '../suite/tuning.js';
import type { PlannedRun } from '../suite/plannedRun.js';
import { formatSweepValue, sweepKeys } from '../suite/runId.js';
import { SuiteError, type SuiteProblem } from '../suite/suiteError.js';
import { EXIT } from '../util/exitCodes.js';
import { type CommandOutput, PROCESS_OUTPUT } from './commandOutput.js';

export interface SuiteValidation {
  file: string;
  ok: boolean;
  /** Runs in the matrix (0 when invalid); for a tuned suite, its final runs. */
  runs: number;
  /** A tuned suite's tuning runs (they run first). */
  tuningRuns?: number;
  errors: SuiteProblem[];
}

/** Validates one suite file; SuiteErrors become `errors`, anything else is rethrown. */
export function validateSuiteFile(file: string): SuiteValidation {
  try {
    const suite = loadSuite(file);
    const runs = expandSuite(suite);
    return { file, ok: true, runs: runs.length, ...(suite.tune ? { tuningRuns: planTuningRuns(suite).length } : {}), errors: [] };
  } catch (error) {
    if (!(error instanceof SuiteError)) throw error;
    return { file, ok: false, runs: 0, errors: error.errors.map((e) => ({ path: e.path, message: e.message })) };
  }
}

/** A readable table of a run matrix (for `run --dry-run`): id, optimizer label, batch, workers, seed, swept values. */
export function formatMatrix(runs: readonly PlannedRun[]): string {
  const keys = sweepKeys([...new Set(runs.flatMap((r) => Object.keys(r.sweep)))]);
  const header = ['id', 'optimizer', 'batch', 'workers', 'seed', 'sweep'];
  const rows = runs.map((r) => [
    r.id,
    r.optimizerLabel,
    String(r.config.batchSize),
    String(r.workers),
    String(r.config.seed),
    Object.entries(r.sweep)
      .map(([path, value]) => `${keys.get(path) ?? path}=${formatSweepValue(value)}`)
      .join(' ') || '-',
  ]);
  const numeric = new Set([2, 3, 4]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  const total = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), total].join('\n');
}

export function validateCommand(output: CommandOutput = PROCESS_OUTPUT): Command {
  return new Command('validate')
    .description('Check suite files (schema, names, axes, every run config) without running anything')
    .argument('<suite...>', 'suite files (.json, .yaml or .yml)')
    .option('--json', 'print a JSON array of { file, ok, runs, errors: [{ path, message }] } on stdout')
    .addHelpText(
      'after',
      `
Prints "<file>: ok (N runs)" per valid suite (a tuned suite: "ok (T tuning runs, then N runs with the selected values)"), and one line per problem on stderr:
"<file>: <json path>: <message>". Exit codes: 0 all valid, 2 any suite invalid.`,
    )
    .action((files: string[], flags: { json?: boolean }) => {
      const results = files.map(validateSuiteFile);
      if (flags.json) {
        output.out(`${JSON.stringify(results, null, 2)}\n`);
      } else {
        for (const r of results) {
          if (r.ok) {
            const runs = `${r.runs} run${r.runs === 1 ? '' : 's'}`;
            output.out(
              `${r.file}: ok (${r.tuningRuns !== undefined ? `${r.tuningRuns} tuning runs, then ${runs} with the selected values` : runs})\n`,
            );
          } else
            output.err(
              new SuiteError(r.file, r.errors)
                .lines()
                .map((l) => `${l}\n`)
                .join(''),
            );
        }
      }
      if (results.some((r) => !r.ok)) process.exitCode = EXIT.badInput;
    });
}
