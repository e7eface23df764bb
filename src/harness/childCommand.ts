/** How one attempt of a planned run is launched: the command line of the child process. */
import type { PlannedRun } from '../suite/plannedRun.js';

export interface ChildFiles {
  /** `OUT/.pending/<id>.config.json`: run.config, written by the harness before the launch. */
  readonly configPath: string;
  /** `OUT/.pending/<id>.result.json`: where the child writes its RunResult. */
  readonly resultPath: string;
  /** 1-based launch number of this run. */
  readonly attempt: number;
}

export interface ChildCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export type ChildCommandBuilder = (run: PlannedRun, files: ChildFiles) => ChildCommand;

export interface TrainChildOptions {
  /** The ngd-bench entry point (default: the running CLI, process.argv[1]). */
  readonly cliPath?: string;
  /** Node flags (default: process.execArgv, which keeps `--import tsx` when running from source). */
  readonly execArgv?: readonly string[];
}

/** The real child: `ngd-bench train` on the pending config, with machine-readable progress. */
export function trainChildCommand(options: TrainChildOptions = {}): ChildCommandBuilder {
  const cliPath = options.cliPath ?? process.argv[1];
  const execArgv = options.execArgv ?? process.execArgv;
  return (run, files) => ({
    file: process.execPath,
    args: [
      ...execArgv,
      cliPath,
      'train',
      '--config',
      files.configPath,
      '--workers',
      String(run.workers),
      '--out',
      files.resultPath,
      '--progress',
      'jsonl',
      '--quiet',
    ],
  });
}
