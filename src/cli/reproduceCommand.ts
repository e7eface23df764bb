/**
 * `ngd-bench reproduce RESULTS_DIR --filter EXPR`: run committed runs of a suite again and say whether
 * each re-run is bit-identical to its committed result (src/check/reproduction.ts). This is how a
 * reader checks a published number without trusting it.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { readResultsDirectory } from '../results/resultsDirectory.js';
import { compareReproduction, type Reproduction } from '../check/reproduction.js';
import { resultFilePath, runSuite } from '../harness/runSuite.js';
import { createSuiteDisplay } from '../harness/suiteProgress.js';
import { readRunResult } from '../results/runResultFile.js';
import type { RunResult } from '../results/runResult.js';
import { currentSelection, tuningDir } from '../harness/tunedSuite.js';
import { expandSuite, filterRuns } from '../suite/expandSuite.js';
import type { PlannedRun } from '../suite/plannedRun.js';
import type { Suite } from '../suite/suiteSchema.js';
import { planFinalRuns, planTuningRuns } from '../suite/tuning.js';
import { loadSuite } from '../suite/loadSuite.js';
import { EXIT } from '../util/exitCodes.js';
import { withInterruptHandling } from './withInterruptHandling.js';
import { displayPath, findSuiteFile } from './paths.js';
import { BadInputError, firstLine } from '../util/errors.js';

interface ReproduceFlags {
  filter?: string;
  suite?: string;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  otherCpuOk?: boolean;
}

const HELP = `
Takes the runs of RESULTS_DIR's suite that match --filter and have a committed result there (ok or
diverged), runs each again exactly as \`ngd-bench run SUITE --filter ... --out DIR\` would, and compares
the re-run with the committed file: status, diverged step, every epoch's losses, accuracies, learning
rate and step count, every evaluation of the curve, the target outcome (steps to target, best value),
and the final metrics must be equal bit for bit. A tuned suite's final runs are planned from the
selection its tuning results give (RESULTS_DIR/tuning); its tuning runs reproduce from RESULTS_DIR/tuning. Seeded runs are deterministic
on one backend; a re-run on another backend (or worker count) is reported as not comparable, and
timings are never compared (see \`ngd-bench check\` for those). On BLAS-backed CPU backends the
promise holds on the same CPU model: the BLAS library picks its kernels by CPU, so a re-run elsewhere
may differ in the last bits; --other-cpu-ok lets such a difference pass with a warning (CI on
runners of another kind), while a difference on the same CPU model always fails.

Examples:
  ngd-bench reproduce results/paper-fashion-mnist --filter sgd-b8192-w2-s0
  ngd-bench reproduce results/paper-fashion-mnist --filter 'optimizer=ngd batch=1024' --out /tmp/rerun --json

Exit codes: 0 every re-run identical (or, with --other-cpu-ok, differing only on another CPU), 1 a re-run differs, failed or is not comparable, 2 bad input
(no such directory, no suite file, a filter that selects no committed run), 130 interrupted.`;

export interface ReproducedRun extends Reproduction {
  readonly id: string;
  readonly committedTestAccuracy: number | null;
  readonly rerunTestAccuracy: number | null;
}

export function reproduceCommand(): Command {
  return new Command('reproduce')
    .description('Run committed runs again and check that each re-run is bit-identical to its committed result')
    .argument('<results-dir>', 'a results directory with committed runs, e.g. results/paper-fashion-mnist')
    .option('--filter <expr>', "which runs, as for `ngd-bench run` (e.g. 'sgd-b8192-w2-s0' or 'optimizer=ngd seed=0'); default: all")
    .option('--suite <file>', "the suite file (default: the file under suites/ named like the results' suite)")
    .option('--out <dir>', 'where the re-runs are written (default: a new temporary directory)')
    .option('--json', 'print the comparisons as JSON on stdout; progress goes to stderr')
    .option('-q, --quiet', 'no progress')
    .option('--other-cpu-ok', "a re-run that differs on another CPU model than the committed run's is reported but does not fail")
    .addHelpText('after', HELP)
    .action(async (dir: string, flags: ReproduceFlags) => {
      process.exitCode = await reproduceAction(dir, flags);
    });
}

/**
 * The runs a results directory of this suite may hold: the suite's matrix; for a tuned suite, its
 * tuning runs (DIR may be OUT/tuning) and, when DIR holds a tuning phase, the final runs its selection
 * (recomputed from those tuning results) planned.
 */
function committedRunsOf(suite: Suite, dir: string): PlannedRun[] {
  if (!suite.tune) return expandSuite(suite);
  const runs = planTuningRuns(suite);
  if (existsSync(tuningDir(dir))) {
    const { selection } = currentSelection(suite, dir);
    runs.push(...planFinalRuns(suite, selection));
  }
  return runs;
}

const testAccuracy = (r: RunResult) => r.final?.testAccuracy ?? null;
const percent = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);

async function reproduceAction(dir: string, flags: ReproduceFlags): Promise<number> {
  const results = readResultsDirectory(dir);
  const committed = new Map(results.runs.filter((r) => r.result.status !== 'failed').map((r) => [r.result.run.id, r.result]));
  const suiteFile = flags.suite ?? findSuiteFile(results.suite);
  if (suiteFile === null) throw new BadInputError(`no suite file named '${results.suite}' under suites/; pass --suite FILE`);
  const planned = filterRuns(committedRunsOf(loadSuite(suiteFile), dir), flags.filter, results.suite).filter((run) =>
    committed.has(run.id),
  );
  if (planned.length === 0) {
    throw new BadInputError(
      `${dir}: no committed ok or diverged run matches${flags.filter ? ` --filter '${flags.filter}'` : ''} (see \`ngd-bench run SUITE --dry-run\`)`,
    );
  }

  const outDir = flags.out ?? mkdtempSync(join(tmpdir(), 'ngd-bench-reproduce-'));
  const log = flags.json ? process.stderr : process.stdout;
  if (!flags.quiet)
    log.write(`reproducing ${planned.length} run${planned.length === 1 ? '' : 's'} of ${displayPath(dir)} into ${displayPath(outDir)}\n`);

  const display = createSuiteDisplay({ stream: log, quiet: flags.quiet });
  const outcome = await withInterruptHandling(display, (signal) => runSuite({ runs: planned, outDir, resume: false, signal, display }));
  if (outcome.interrupted) return EXIT.interrupted;

  const reproduced: ReproducedRun[] = planned.map((run) => {
    const before = committed.get(run.id)!;
    const file = resultFilePath(outDir, run.id);
    let after: RunResult;
    try {
      after = readRunResult(file);
    } catch (error) {
      return {
        id: run.id,
        verdict: 'not comparable',
        differences: [`no re-run result: ${firstLine(error)}`],
        fieldsCompared: 0,
        note: null,
        sameCpu: true,
        committedTestAccuracy: testAccuracy(before),
        rerunTestAccuracy: null,
      };
    }
    return {
      id: run.id,
      ...compareReproduction(before, after),
      committedTestAccuracy: testAccuracy(before),
      rerunTestAccuracy: testAccuracy(after),
    };
  });

  const allIdentical = reproduced.every((r) => r.verdict === 'identical');
  const excused = (r: ReproducedRun) => flags.otherCpuOk === true && r.verdict === 'differs' && !r.sameCpu;
  const passed = reproduced.every((r) => r.verdict === 'identical' || excused(r));
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ resultsDir: dir, rerunDir: outDir, identical: allIdentical, passed, runs: reproduced }, null, 2)}\n`,
    );
  } else {
    for (const r of reproduced) {
      const accuracy = `test accuracy ${percent(r.committedTestAccuracy)} committed, ${percent(r.rerunTestAccuracy)} re-run`;
      const tag = r.verdict === 'identical' ? 'identical' : excused(r) ? 'differs (other CPU, allowed)' : r.verdict.toUpperCase();
      process.stdout.write(`${tag}  ${r.id}: ${accuracy}; ${r.fieldsCompared} numbers compared\n`);
      for (const d of r.differences.slice(0, 10)) process.stdout.write(`    ${d}\n`);
      if (r.differences.length > 10) process.stdout.write(`    ... and ${r.differences.length - 10} more\n`);
      if (r.note !== null) process.stdout.write(`    note: ${r.note}\n`);
    }
    const n = reproduced.filter((r) => r.verdict === 'identical').length;
    process.stdout.write(`reproduce: ${n} of ${reproduced.length} re-runs bit-identical to ${displayPath(dir)}\n`);
  }
  return passed ? EXIT.ok : EXIT.runFailed;
}
