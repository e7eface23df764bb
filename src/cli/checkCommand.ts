/** `ngd-bench check RESULTS_DIR`: compare a suite's results with its baseline (or --update the baseline). */
import { Command } from 'commander';
import { processIo, runCheck, type CheckIo } from '../check/runCheck.js';

interface CheckFlags {
  baseline?: string;
  suite?: string;
  update?: boolean;
  json?: boolean;
  junit?: string;
  benchmarkJson?: string;
  allowMissing?: boolean;
}

const HELP = `
Compares every run of RESULTS_DIR (written by \`ngd-bench run SUITE --out DIR\`, with DIR/probes.json
from \`ngd-bench probe\` if present) with the baseline, accuracy and time separately:

  accuracy  a run's final test accuracy more than accuracyDropPoints below its baseline fails; a
            seed group (runs differing only in the seed) with >= 2 seeds on both sides is judged by
            its mean, allowing max(accuracyDropPoints, seedSpreadFactor x the baseline's seed std-dev);
            diverged or failed where the baseline was ok fails; ok where it diverged is an improvement
  time      median epoch seconds (probe step medians when both sides have them), only on the same
            environment (backend, device, workers), else skipped; slower than timeRatio fails when
            both sides have >= minTimingSamples samples, else it is "inconclusive"

Runs without a baseline entry, baseline runs without a result, and a missing baseline file are
reported as missing. Tolerances come from --suite, else from the baseline (copied there by --update).

--update writes the baseline from these results (ok and diverged runs; failed runs are not recorded),
keyed by run id and environment, and prints what changed. It checks nothing.

--benchmark-json out/bench.json writes out/bench.bigger.json (tool: customBiggerIsBetter: test
accuracy %, samples/s) and out/bench.smaller.json (tool: customSmallerIsBetter: median epoch seconds,
probe step ms) for github-action-benchmark, which takes one tool per file. With $GITHUB_STEP_SUMMARY set, the verdict and findings are appended to it.

Examples:
  ngd-bench check out/smoke
  ngd-bench check out/smoke --update --suite suites/smoke.json
  ngd-bench check out/smoke --junit reports/check.xml --benchmark-json reports/bench.json

Exit codes: 0 within tolerance (or baseline updated), 1 a regression, or anything missing unless
--allow-missing, 2 usage or input error (an unreadable directory, an invalid result or baseline file).`;

export function checkCommand(io: CheckIo = processIo): Command {
  return new Command('check')
    .description("Compare a suite's results with its baseline: accuracy and time regressions (or --update the baseline)")
    .argument('<results-dir>', 'results directory written by `ngd-bench run --out`')
    .option('--baseline <file>', 'baseline file (default: baselines/<suite>.json, suite from the manifest)')
    .option('--suite <file>', "suite file to take the tolerances from (default: the baseline's)")
    .option('--update', 'write or update the baseline from these results and print what changed')
    .option('--json', 'print the findings (or, with --update, the changes) as JSON')
    .option('--junit <file>', 'write a JUnit XML of the checks (a testcase per run and check)')
    .option('--benchmark-json <file>', 'write github-action-benchmark custom JSON: <file minus .json>.bigger.json and .smaller.json')
    .option('--allow-missing', 'a missing baseline, baseline entry or result does not fail the check')
    .addHelpText('after', HELP)
    .action((resultsDir: string, flags: CheckFlags) => {
      process.exitCode = runCheck({ resultsDir, ...flags }, io);
    });
}
