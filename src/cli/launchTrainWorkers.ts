/**
 * `train --workers N` on one host: start N ranks of this same command and supervise them. Rank 0's
 * output is passed through (progress, --json); other ranks' free-text lines are prefixed with their
 * rank. When a worker dies the others are stopped and the run is recorded as an infrastructure
 * failure naming that rank.
 */
import { detectGpus } from '../compute/backend/detectGpus.js';
import { launchLocalWorld } from '../distributed/collective/launchLocalWorld.js';
import type { TrainConfig } from '../config/trainConfig.js';
import { failedRunResult } from '../results/failedRunResult.js';
import { writeJsonAtomic } from '../results/writeJsonAtomic.js';
import { EXIT } from '../util/exitCodes.js';
import { parseProgressLine } from '../harness/progressLine.js';
import type { TrainFlags } from './trainOptions.js';
import { errorLine } from '../util/errors.js';

/** Exit codes with which rank 0 has already reported the run itself (result written or error printed). */
const REPORTED_BY_LEAD = new Set<number>([EXIT.ok, EXIT.runFailed, EXIT.badInput, EXIT.diverged]);
const TAIL_LINES = 40;

export async function launchTrainWorkers(config: TrainConfig, flags: TrainFlags, workers: number): Promise<number> {
  const startedAt = new Date();
  const tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  let leadPrintedError = false;
  let lastOtherError: string | undefined;
  // One GPU per worker (CUDA_VISIBLE_DEVICES=<rank>) when the run may use GPUs and there are some.
  const pinGpus = (config.backend === 'tensorflow-gpu' || config.backend === 'auto') && detectGpus().length >= workers;
  const outcome = await launchLocalWorld({
    pinGpus,
    command: process.execPath,
    // The same command line: each worker finds its rank in the environment the launcher sets.
    args: [...process.execArgv, process.argv[1], ...process.argv.slice(2)],
    workers,
    onStdoutLine: (rank, line) => {
      if (rank === 0) process.stdout.write(`${line}\n`);
    },
    // Rank 0 speaks for the run (progress, warnings, errors); the others' lines are kept for the
    // record of a failure, so N workers do not print everything N times.
    onStderrLine: (rank, line) => {
      if (parseProgressLine(line)) {
        if (rank === 0) process.stderr.write(`${line}\n`);
        return;
      }
      if (rank === 0) {
        process.stderr.write(`${line}\n`);
        if (line.startsWith(errorLine(''))) leadPrintedError = true;
      } else if (line.startsWith(errorLine(''))) lastOtherError = line;
      remember(rank === 0 ? line : `[rank ${rank}] ${line}`);
    },
  });
  if (outcome.ok) return outcome.exitCodes[0] ?? EXIT.ok;
  const leadCode = outcome.exitCodes?.[0];
  if (outcome.failedRank === 0 && leadCode !== undefined && leadCode !== null && REPORTED_BY_LEAD.has(leadCode)) return leadCode;
  // Bad input (e.g. a dataset file missing) fails every rank alike; whichever exits first, it is
  // bad input: one line of error, nothing written.
  if (outcome.failedRank !== null && outcome.exitCodes?.[outcome.failedRank] === EXIT.badInput) {
    if (!leadPrintedError && lastOtherError) process.stderr.write(`${lastOtherError}\n`);
    return EXIT.badInput;
  }
  const error = `data-parallel run failed: ${outcome.reason}`;
  if (flags.out) {
    writeJsonAtomic(flags.out, failedRunResult({ config, error, failureKind: 'infrastructure', startedAt, stderrTail: tail.join('\n') }));
  }
  console.error(errorLine(error));
  return EXIT.infrastructure;
}
