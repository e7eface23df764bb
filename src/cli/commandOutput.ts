/**
 * Where a command's lines go: the process's streams, or, for a test running the command in-process, a
 * collector. (Replacing process.stdout.write in a test would also swallow the test runner's own reports,
 * which node:test writes to the same stream: tests would vanish from the count instead of passing.)
 */
export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

export const PROCESS_OUTPUT: CommandOutput = {
  out: (text) => {
    process.stdout.write(text);
  },
  err: (text) => {
    process.stderr.write(text);
  },
};
