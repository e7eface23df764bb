/**
 * The one exit-code table CI can act on, for every command and for the harness judging its children.
 * 1 always means "it ran and the outcome is bad"; 2 always means "the input was wrong, nothing was done".
 */
export const EXIT = {
  ok: 0,
  /** Ran and failed: train, the run failed (a result with status 'failed' is written); run, some run failed or diverged; reproduce, a re-run differs; check, a regression. */
  runFailed: 1,
  /** Bad input (flags, config, suite, results or baseline file, dataset, environment variable): one line naming it; nothing was written. */
  badInput: 2,
  /** train: the run diverged (non-finite loss); the result file records the step. */
  diverged: 3,
  /** train: a worker process died or a peer was lost. Worth a retry. */
  infrastructure: 4,
  /** Interrupted (Ctrl-C, SIGTERM): finished results are kept; `--resume` continues. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The table as `--help` shows it. */
export function exitCodeHelp(): string {
  const rows: [number, string][] = [
    [EXIT.ok, 'ok'],
    [
      EXIT.runFailed,
      'ran, and the outcome is bad: a failed run (train), a failed or diverged run (run), a re-run that differs (reproduce), a regression (check)',
    ],
    [EXIT.badInput, 'bad input: one line names the flag, file or variable; nothing was written'],
    [EXIT.diverged, 'train: the run diverged (its result records the step)'],
    [EXIT.infrastructure, 'train: a worker died or a peer was lost (worth a retry)'],
    [EXIT.interrupted, 'interrupted (Ctrl-C, SIGTERM): finished results are kept; rerun with --resume'],
  ];
  return `\nExit codes (every command):\n${rows.map(([code, text]) => `  ${String(code).padEnd(4)} ${text}`).join('\n')}\n`;
}
