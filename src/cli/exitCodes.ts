/** Exit codes CI can act on. */
export const EXIT = {
  ok: 0,
  /** The run started but failed (an exception mid-training); a result file with status 'failed' is written. */
  runFailed: 1,
  /** Bad input: invalid flags, config, suite or dataset; nothing was written. */
  badInput: 2,
  /** The run diverged (non-finite loss); the result file records the step. */
  diverged: 3,
  /** Infrastructure failure: a worker process died or a peer was lost. Worth a retry. */
  infrastructure: 4,
  /** Interrupted (Ctrl-C): finished results are kept. */
  interrupted: 130,
} as const;
