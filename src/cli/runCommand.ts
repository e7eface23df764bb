/**
 * `ngd-bench run <suite>`: every run of a suite's matrix (or of one shard of it), one child process at
 * a time, into a results directory; see src/harness/runSuite.ts for what is written and when.
 */
import { Command } from 'commander';
import { completedResult, runSuite, suiteExitCode, type SuiteOutcome } from '../harness/runSuite.js';
import { createSuiteDisplay } from '../harness/suiteProgress.js';
import { expandSuite } from '../suite/expandSuite.js';
import { loadSuite } from '../suite/loadSuite.js';
import type { PlannedRun } from '../suite/plannedRun.js';
import { parseShard, selectShard, type Shard } from '../suite/shard.js';
import { EXIT } from './exitCodes.js';
import { formatMatrix } from './validateCommand.js';

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
  manifest.json   the suite, shard and planned run ids

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

function badInput(message: string): number {
  console.error(`ngd-bench: error: ${message}`);
  return EXIT.badInput;
}

interface Plan {
  runs: PlannedRun[];
  suite: string;
  shard: Shard | null;
}

function plan(file: string, flags: RunFlags): Plan {
  const shard = flags.shard !== undefined ? parseShard(flags.shard) : null;
  const suite = loadSuite(file);
  const all = expandSuite(suite, { filter: flags.filter });
  return { runs: shard ? selectShard(all, shard) : all, suite: suite.name, shard };
}

async function runAction(file: string, flags: RunFlags): Promise<number> {
  let p: Plan;
  try {
    p = plan(file, flags);
  } catch (error) {
    // Everything that can go wrong before a run is launched is the input's fault.
    return badInput((error as Error).message.split('\n')[0]);
  }

  if (flags.dryRun) {
    const complete = flags.resume && flags.out ? p.runs.filter((run) => completedResult(flags.out!, run) !== null) : [];
    if (flags.json) {
      const done = new Set(complete.map((r) => r.id));
      const runs = p.runs.map((r) => ({ id: r.id, name: r.name, optimizer: r.optimizerLabel, workers: r.workers, configHash: r.configHash, sweep: r.sweep, complete: done.has(r.id) }));
      process.stdout.write(`${JSON.stringify({ suite: p.suite, shard: p.shard, runs }, null, 2)}\n`);
    } else {
      process.stdout.write(`${formatMatrix(p.runs)}\n`);
      if (flags.resume && flags.out) process.stdout.write(`resume: ${complete.length} already complete in ${flags.out}, ${p.runs.length - complete.length} to run\n`);
    }
    return EXIT.ok;
  }
  if (!flags.out) return badInput('--out <dir> is required (or use --dry-run)');

  const display = createSuiteDisplay({ stream: flags.json ? process.stderr : process.stdout, quiet: flags.quiet });
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\nngd-bench: ${signal}: stopping the current run (again to kill at once)...\n`);
      controller.abort();
    } else {
      // The harness's exit handlers kill the child's process group and remove its pending files.
      display.close?.();
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let outcome: SuiteOutcome;
  try {
    outcome = await runSuite({
      runs: p.runs,
      outDir: flags.out,
      resume: flags.resume ?? false,
      signal: controller.signal,
      display,
      suite: p.suite,
      shard: p.shard,
    });
  } finally {
    display.close?.();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ...outcome, exitCode: suiteExitCode(outcome) }, null, 2)}\n`);
  } else if (flags.quiet) {
    for (const run of outcome.runs) {
      if (run.status === 'failed' || run.status === 'diverged') {
        process.stderr.write(`ngd-bench: ${run.name} (${run.id}) ${run.status}${run.error ? `: ${run.error}` : ''}\n`);
      }
    }
  }
  return suiteExitCode(outcome);
}
