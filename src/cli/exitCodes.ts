/** Exit codes CI can act on. */
export const EXIT = {
  ok: 0,
  /** The run started but failed (an exception mid-training); a result file with status 'failed' is written. */
  runFailed: 1,
  /** Bad input: invalid flags, config, suite or dataset; nothing was written. */
  badInput: 2,
  /** The run diverged (non-finite loss); the result file records the step. */
  diverged: 3,
} as const;
