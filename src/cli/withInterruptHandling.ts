/**
 * How `run` and `reproduce` (any command that launches a suite) treat Ctrl-C and SIGTERM: the first
 * signal stops the current run (the harness records nothing for it; finished results stay, `--resume`
 * continues); a second one exits at once with 130 (the harness's exit handlers kill the child's process
 * group and remove its pending files). The display is closed whatever happens.
 */
import type { SuiteDisplay } from '../harness/runSuite.js';
import { EXIT } from '../util/exitCodes.js';

export async function withInterruptHandling<T>(display: SuiteDisplay, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\nngd-bench: ${signal}: stopping the current run (again to kill at once)...\n`);
      controller.abort();
    } else {
      display.close?.();
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    display.close?.();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
