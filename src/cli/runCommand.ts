/**
 * `ngd-bench run <suite>`: every run of a suite's matrix (or of one shard of it), one child process at
 * a time, into a results directory; see src/harness/runSuite.ts for what is written and when.
 */
import { Command } from 'commander';
import { completedResult, runSuite, suiteExitCode, type RunOutcome, type SuiteOutcome } from '../harness/runSuite.js';
import { currentSelection, runTunedSuite, tuningDir, type TunedSuiteOutcome } from '../harness/tunedSuite.js';
import type { TuningSelection } from '../results/tuningSelection.js';
import { createSuiteDisplay } from '../harness/suiteProgress.js';
import { expandSuite, filterRuns } from '../suite/expandSuite.js';
import { compileFilter } from '../suite/filter.js';
import { loadSuite } from '../suite/loadSuite.js';
import { SuiteError } from '../suite/suiteError.js';
import type { PlannedRun } from '../suite/plannedRun.js';
import { parseShard, selectShard, type Shard } from '../suite/shard.js';
import type { Suite } from '../suite/suiteSchema.js';
import { planFinalRuns, planTuningRuns } from '../suite/tuning.js';
import { EXIT } from '../util/exitCodes.js';
import { assertWritableDirectory } from './outputPath.js';
import { formatMatrix } from './validateCommand.js';
import { BadInputError } from '../util/errors.js';
import { withInterruptHandling } from './withInterruptHandling.js';

interface RunFlags {
  out?: string;
  resume?: boolean;
  shard?: string;
  filter?: string;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
}

const HELP = `
Runs are launched one at a time, in matrix order, each as its own \`ngd-bench train\` process (with
--workers N for data-parallel cells), under the suite's per-run time limit. Infrastructure failures
(a lost worker, exit 4; a process killed by a signal) are retried up to the suite's run.retries
times; divergence, failed runs, bad input and timeouts are not. A failed run does not stop the suite.

Written to --out:
  <id>.json       one result per run (status ok / diverged / failed) with its suite identity; failed
                  runs carry the reason and the last lines the run printed on stderr
  manifest.json   the suite, shard and planned run ids (a --filter run adds its runs to the plan
                  already there, never drops the others)
  tuning/         a tuned suite's tuning runs (a results directory of its own)
  tuning.json     a tuned suite's selection: per optimizer and batch size, the chosen values, every
                  candidate's per-seed validation numbers, ties and grid-edge flags

A suite with "tune" runs in two phases: the tuning runs (every grid value on the tuning seeds), then,
once all of them have results, the selection (on the validation split, never the test split) and the
final runs on the suite's seeds with the selected values. Tuning runs that diverge are expected and do
not make the exit code 1; failed ones do. With --shard or --filter, the final phase waits until every
tuning run has a result in OUT/tuning (run the other shards there, or merge them), then --resume. Once
it has, a --filter may name final runs only (e.g. 'batch=4096', a batch size the tuning did not use).

Ctrl-C (or SIGTERM) stops the running run and everything it started, keeps every finished result,
and exits 130. The interrupted run is not recorded; --resume runs it again. Ctrl-C twice kills at once.

Examples:
  ngd-bench run suites/smoke.json --out results/smoke
  ngd-bench run suites/smoke.json --out results/smoke --resume        # after an interruption or failures
  ngd-bench run suites/example.yaml --dry-run --filter 'optimizer=ngd batch=1024'
  ngd-bench run suites/example.yaml --out out/shard2 --shard 2/4 --json > shard2.json
  ngd-bench merge out/shard1 out/shard2 out/shard3 out/shard4 --out results/example

Exit codes: 0 every run ok, 1 some run failed or diverged (listed at the end), 2 bad input (suite,
--shard, --filter or flags), 130 interrupted.`;

export function runCommand(): Command {
  return new Command('run')
    .description('Run a suite (or one shard of it), one child process per run, into a results directory')
    .argument('<suite>', 'suite file (.json, .yaml or .yml); check it with `ngd-bench validate`')
    .option('--out <dir>', 'results directory (required unless --dry-run)')
    .option('--resume', 'skip runs already complete in --out (ok or diverged, same config); re-run failed ones')
    .option('--shard <i/n>', 'run only shard i of n (1-based), e.g. 2/4; merge the shards with `ngd-bench merge`')
    .option('--filter <expr>', "run only matching runs, e.g. 'optimizer=ngd,smoothed-ngd batch=1024 seed=0' or 'sgd-b256'")
    .option('--dry-run', 'print the run matrix (after --filter and --shard) and exit')
    .option('--json', 'print a JSON summary on stdout; progress goes to stderr')
    .option('-q, --quiet', 'no progress; only the runs that failed or diverged, on stderr')
    .addHelpText('after', HELP)
    .action(async (file: string, flags: RunFlags) => {
      process.exitCode = await runAction(file, flags);
    });
}

interface Plan {
  runs: PlannedRun[];
  suite: string;
  shard: Shard | null;
  /** A tuned suite: `runs` are its tuning runs, and the final runs come after the selection. */
  tuned: Suite | null;
  /** --filter and --shard, applied to a tuned suite's tuning and final runs. */
  narrowTuning: (runs: PlannedRun[]) => PlannedRun[];
  narrowFinal: (runs: PlannedRun[]) => PlannedRun[];
}

function plan(file: string, flags: RunFlags): Plan {
  const shard = flags.shard !== undefined ? parseShard(flags.shard) : null;
  const suite = loadSuite(file);
  const shardOf = (runs: PlannedRun[]) => (shard ? selectShard(runs, shard) : runs);
  if (suite.tune) {
    const narrowFinal = (runs: PlannedRun[]) => {
      if (flags.filter === undefined || flags.filter.trim() === '') return shardOf(runs);
      let matches: (run: PlannedRun) => boolean;
      try {
        matches = compileFilter(flags.filter, runs);
      } catch {
        return [];
      }
      return shardOf(runs.filter(matches));
    };
    // The filter must match some run: a tuning run, or (once the tuning is complete in OUT) a final run,
    // e.g. 'lr=0.1' names a tuning axis only, 'batch=4096' a final batch size the tuning did not use.
    const tuningRuns = planTuningRuns(suite);
    const finalOnly = (): boolean => {
      if (!flags.out) return false;
      const { selection } = currentSelection(suite, flags.out);
      return selection.complete && narrowFinal(planFinalRuns(suite, selection)).length > 0;
    };
    const narrowTuning = (runs: PlannedRun[]) => {
      try {
        return shardOf(filterRuns(runs, flags.filter, suite.name));
      } catch (error) {
        if (error instanceof SuiteError && finalOnly()) return [];
        throw error;
      }
    };
    return { runs: narrowTuning(tuningRuns), suite: suite.name, shard, tuned: suite, narrowTuning, narrowFinal };
  }
  const all = expandSuite(suite, { filter: flags.filter });
  return { runs: shardOf(all), suite: suite.name, shard, tuned: null, narrowTuning: shardOf, narrowFinal: shardOf };
}

/** The final runs of a tuned suite if its tuning is complete in OUT, else why not. */
function finalRunsIfTuned(p: Plan, out: string | undefined): { runs: PlannedRun[] } | { waiting: string } {
  if (!p.tuned) return { waiting: '' };
  if (!out) return { waiting: 'final runs: planned once the tuning runs have results (give --out to see what is there)' };
  const { tuningRuns, selection } = currentSelection(p.tuned, out);
  if (!selection.complete)
    return { waiting: `final runs: planned once all ${tuningRuns.length} tuning runs have results in ${out}/tuning` };
  return { runs: p.narrowFinal(planFinalRuns(p.tuned, selection)) };
}

async function runAction(file: string, flags: RunFlags): Promise<number> {
  // Everything that can go wrong before a run is launched is the input's fault (a BadInputError).
  const p = plan(file, flags);
  const filtered = flags.filter !== undefined && flags.filter.trim() !== '';

  if (flags.dryRun) {
    const runsDir = p.tuned && flags.out ? tuningDir(flags.out) : flags.out;
    const complete = flags.resume && runsDir ? p.runs.filter((run) => completedResult(runsDir, run) !== null) : [];
    const final = p.tuned ? finalRunsIfTuned(p, flags.out) : null;
    if (flags.json) {
      const done = new Set(complete.map((r) => r.id));
      const runs = p.runs.map((r) => ({
        id: r.id,
        name: r.name,
        optimizer: r.optimizerLabel,
        workers: r.workers,
        configHash: r.configHash,
        sweep: r.sweep,
        complete: done.has(r.id),
      }));
      const finalRuns =
        final && 'runs' in final
          ? final.runs.map((r) => ({
              id: r.id,
              name: r.name,
              optimizer: r.optimizerLabel,
              workers: r.workers,
              configHash: r.configHash,
              tuned: r.tuned,
            }))
          : null;
      process.stdout.write(
        `${JSON.stringify({ suite: p.suite, shard: p.shard, ...(p.tuned ? { phase: 'tuning', finalRuns } : {}), runs }, null, 2)}\n`,
      );
    } else {
      if (p.tuned) process.stdout.write(`tuning phase (into ${runsDir ?? 'OUT'}/, selected on the validation split):\n`);
      process.stdout.write(`${formatMatrix(p.runs)}\n`);
      if (flags.resume && runsDir)
        process.stdout.write(`resume: ${complete.length} already complete in ${runsDir}, ${p.runs.length - complete.length} to run\n`);
      if (final && 'runs' in final) process.stdout.write(`final phase (selected values):\n${formatMatrix(final.runs)}\n`);
      else if (final) process.stdout.write(`${final.waiting}\n`);
    }
    return EXIT.ok;
  }
  if (!flags.out) throw new BadInputError('--out <dir> is required (or use --dry-run)');
  assertWritableDirectory(flags.out);

  const display = createSuiteDisplay({ stream: flags.json ? process.stderr : process.stdout, quiet: flags.quiet });
  const outDir = flags.out;
  if (p.tuned) {
    const suite = p.tuned;
    const tuned: TunedSuiteOutcome = await withInterruptHandling(display, (signal) =>
      runTunedSuite({
        suite,
        outDir,
        resume: flags.resume ?? false,
        signal,
        display,
        shard: p.shard,
        filtered,
        narrowTuning: p.narrowTuning,
        narrowFinal: p.narrowFinal,
      }),
    );
    const code = tunedExitCode(tuned);
    if (flags.json) process.stdout.write(`${JSON.stringify({ ...tuned, exitCode: code }, null, 2)}\n`);
    else {
      if (tuned.waiting && !tuned.tuning.interrupted) process.stderr.write(`ngd-bench: ${tuned.waiting}\n`);
      if (tuned.selection) process.stderr.write(`${formatSelection(tuned.selection)}\n`);
      if (flags.quiet) reportNotOk([...tuned.tuning.runs.filter((r) => r.status === 'failed'), ...(tuned.final?.runs ?? [])]);
    }
    return code;
  }

  const outcome: SuiteOutcome = await withInterruptHandling(display, (signal) =>
    runSuite({ runs: p.runs, outDir, resume: flags.resume ?? false, signal, display, suite: p.suite, shard: p.shard, filtered }),
  );

  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ...outcome, exitCode: suiteExitCode(outcome) }, null, 2)}\n`);
  } else if (flags.quiet) reportNotOk(outcome.runs);
  return suiteExitCode(outcome);
}

function reportNotOk(runs: readonly RunOutcome[]): void {
  for (const run of runs) {
    if (run.status === 'failed' || run.status === 'diverged') {
      process.stderr.write(`ngd-bench: ${run.name} (${run.id}) ${run.status}${run.error ? `: ${run.error}` : ''}\n`);
    }
  }
}

/** Tuning runs may diverge (that is what a grid finds out); only a failed one, or a final run not ok, is exit 1. */
function tunedExitCode(t: TunedSuiteOutcome): number {
  if (t.tuning.interrupted || t.final?.interrupted) return EXIT.interrupted;
  if (t.tuning.counts.failed > 0) return EXIT.runFailed;
  return t.final ? suiteExitCode(t.final) : EXIT.ok;
}

/** One line per selection cell: what was chosen, with ties, grid edges, or why nothing was. */
export function formatSelection(selection: TuningSelection): string {
  const lines = [`tuning selection (${selection.select.metric} on the validation split, mean of ${selection.seeds.length} seeds):`];
  for (const cell of selection.cells) {
    const where = `${cell.optimizerLabel} ${cell.batchSize === null ? `all batch sizes (selected at b${cell.selectedAt})` : `b${cell.batchSize}`}`;
    const notes = [...cell.edges, ...(cell.ties.length > 0 ? [`tied with ${cell.ties.length} other value(s)`] : [])];
    lines.push(`  ${where}: ${cell.chosen ? cell.reason : `none: ${cell.reason}`}${notes.length > 0 ? ` [${notes.join('; ')}]` : ''}`);
  }
  return lines.join('\n');
}
