/**
 * `ngd-bench train`: one run from flags and/or a JSON config, to a validated result file. Three ways
 * to be invoked: a single process; a launcher (`--workers N` outside any launcher) that starts N
 * worker processes of this same command; or one rank of a world started by ngd-bench, mpirun, Slurm
 * or torchrun (the world comes from the environment).
 */
import { memoryBudgetBytes } from './memoryBudget.js';
import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { collectiveTimeoutFromEnv, worldFromEnv, type WorldInfo } from '../distributed/collective/worldInfo.js';
import { joinWorld } from '../distributed/collective/joinWorld.js';
import { resolveTrainConfig } from '../config/resolveConfig.js';
import type { TrainConfig } from '../config/trainConfig.js';
import { assertValid } from '../config/validate.js';
import { writeJsonAtomic } from '../results/writeJsonAtomic.js';
import { RunResultSchema, type RunResult } from '../results/runResult.js';
import type { DistributedContext } from '../train/executeRun.js';
import { assertBatchSplits, assertGhostBatches, assertLowRankGradient, ImpossibleConfigError } from '../config/batchSplits.js';
import type { TrainingHooks } from '../train/runTraining.js';
import { EXIT } from '../util/exitCodes.js';
import { launchTrainWorkers } from './launchTrainWorkers.js';
import { assertWritableFile } from './outputPath.js';
import { progressLineHooks } from './progressLines.js';
import { readJsonObject } from '../util/inputFile.js';
import { TrainProgress } from './trainProgress.js';
import { addTrainOptions, applyTrainFlags, type TrainFlags } from './trainOptions.js';

export function exitCodeFor(result: RunResult): number {
  if (result.status === 'ok') return EXIT.ok;
  if (result.status === 'diverged') return EXIT.diverged;
  return result.failureKind === 'infrastructure' ? EXIT.infrastructure : EXIT.runFailed;
}

/** Threads this process may use: the launcher's share, else the machine. */
function threadShare(): number {
  const fromEnv = Number.parseInt(process.env.OPENBLAS_NUM_THREADS ?? process.env.OMP_NUM_THREADS ?? '', 10);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : availableParallelism();
}

async function trainAsRank(config: TrainConfig, flags: TrainFlags, world: WorldInfo, memoryBudget: number): Promise<number> {
  const lead = world.rank === 0;
  const mode = flags.progress ?? (flags.quiet ? 'none' : 'human'); // an explicit --progress wins over --quiet
  const human = new TrainProgress(lead && mode === 'human', config.epochs ?? 0);
  const hooks: TrainingHooks = !lead || mode === 'none' ? {} : mode === 'jsonl' ? progressLineHooks(config.epochs ?? 0) : human.hooks;
  let distributed: DistributedContext | undefined;
  // The training code (tfjs and its kernels) loads only when a run starts: every other command starts fast.
  const [{ executeRun }, { writeWeightsFile }, { replicasOverCollective, gatherText }] = await Promise.all([
    import('../train/executeRun.js'),
    import('../train/weightsFile.js'),
    import('../distributed/collectiveReplicas.js'),
  ]);
  const collective = world.worldSize > 1 ? await joinWorld(world) : undefined;
  try {
    if (collective) {
      const metered = replicasOverCollective(collective);
      distributed = {
        replicas: metered.group,
        localRank: world.localRank,
        gatherText: (text) => gatherText(collective, text),
        launcher: world.launcher === 'single' ? 'ngd-bench' : world.launcher,
        threadsPerWorker: threadShare(),
        algorithm: 'ring',
        verifyReplicas: flags.verifyReplicas ?? false,
        communication: metered.communication,
      };
    }
    const result = await executeRun(config, {
      hooks,
      warn: lead ? (line) => console.error(line) : undefined,
      distributed,
      onTrained: lead && flags.weightsOut ? (params) => writeWeightsFile(flags.weightsOut!, params) : undefined,
      memoryBudgetBytes: memoryBudget,
    });
    if (lead) {
      if (mode === 'human') human.finish(result);
      assertValid(RunResultSchema, result, 'internal error: result does not match its schema');
      if (flags.out) writeJsonAtomic(flags.out, result);
      if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    }
    // Only rank 0 reports the run's outcome; the others exit 0 unless their own infrastructure broke,
    // so a launcher reads "non-zero from a non-lead rank" as a lost worker.
    const code = exitCodeFor(result);
    return lead || code === EXIT.infrastructure ? code : EXIT.ok;
  } finally {
    await collective?.close();
  }
}

export function trainCommand(): Command {
  const cmd = new Command('train').description('Train one model with one optimizer and write a result file').addHelpText(
    'after',
    `
Examples:
  ngd-bench train --model mlp --optimizer ngd --batch-size 1024 --epochs 5 --out out/ngd.json
  ngd-bench train --config run.json --seed 3 --json
  ngd-bench train --optimizer smoothed-ngd --batch-size 4096 --workers 2 --out out/w2.json
  mpirun -n 4 -x MASTER_ADDR=node0 -x MASTER_PORT=29500 -x NGD_BENCH_TOKEN ngd-bench train --config run.json --out r.json

Data parallelism: --workers N starts N worker processes on this host (each with 1/N of every global
batch and 1/N of the cores); under mpirun, Slurm (srun) or torchrun each process is one rank and the
world comes from OMPI_COMM_WORLD_*, SLURM_PROCID/SLURM_NTASKS or RANK/WORLD_SIZE with
MASTER_ADDR/MASTER_PORT. Workers bind to loopback unless NGD_BENCH_BIND_ADDR says otherwise, and
refuse peers without the run's NGD_BENCH_TOKEN. Rank 0 writes the result. On a GPU backend each rank
takes its own GPU (local rank r the r-th in PCI-bus order; NGD_BENCH_GPU_DEVICES=0,1 or bus ids or
adapter names, one per local rank, to choose).

Exit codes: 0 ok, 1 run failed (result written with status 'failed'), 2 bad input (nothing written),
3 diverged (result written with the step of the first non-finite loss), 4 a worker or peer was lost
(result written with failureKind 'infrastructure').`,
  );
  addTrainOptions(cmd).action(async (flags: TrainFlags) => {
    const base = flags.config ? readJsonObject(flags.config, 'config') : {};
    const config = resolveTrainConfig(applyTrainFlags(base, flags), flags.config ? `config ${flags.config}` : 'config');
    const world = worldFromEnv();
    collectiveTimeoutFromEnv(); // a malformed NGD_BENCH_COLLECTIVE_TIMEOUT_MS is bad input now, not a failed collective later
    const memoryBudget = memoryBudgetBytes(flags.memoryBudget, world); // and a malformed budget in the environment
    // Before any training: a result that cannot be written would lose the run (rank 0 writes it).
    if (world.rank === 0) {
      if (flags.out) assertWritableFile(flags.out);
      if (flags.weightsOut) assertWritableFile(flags.weightsOut, '--weights-out');
    }
    const workers = flags.workers ?? world.worldSize;
    assertBatchSplits(config.batchSize, workers);
    assertGhostBatches(config, workers);
    assertLowRankGradient(config, workers);
    // A launcher's world of one (srun -n 1 running a suite, say) may start its own workers too.
    if (world.worldSize === 1 && workers > 1) {
      process.exitCode = await launchTrainWorkers(config, flags, workers);
      return;
    }
    if (world.worldSize !== workers) {
      throw new ImpossibleConfigError(`--workers ${workers}, but ${world.launcher} started ${world.worldSize} processes`);
    }
    process.exitCode = await trainAsRank(config, flags, world, memoryBudget);
  });
  return cmd;
}
