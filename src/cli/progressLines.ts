/**
 * Machine progress for harnesses (`--progress jsonl`): one JSON object per line on stderr, so free-text
 * warnings and errors on the same stream stay readable. Step events are throttled. The protocol (and
 * its parser) is the harness's: src/harness/progressLine.ts.
 */
import type { ProgressEvent } from '../harness/progressLine.js';
import type { TrainingHooks } from '../train/runTraining.js';

const STEP_EVENT_INTERVAL_MS = 500;

export function progressLineHooks(epochs: number, write: (line: string) => void = (line) => process.stderr.write(line)): TrainingHooks {
  let last = 0;
  let total = epochs; // refined by the trainer's step events once the data is loaded
  const emit = (e: ProgressEvent) => write(`${JSON.stringify(e)}\n`);
  return {
    onStep: (p) => {
      const now = performance.now();
      if (now - last < STEP_EVENT_INTERVAL_MS && p.step !== p.totalSteps) return;
      last = now;
      total = p.epochs;
      emit({ event: 'step', epoch: p.epoch, epochs: p.epochs, step: p.step, totalSteps: p.totalSteps, loss: p.loss });
    },
    onEpoch: (m) =>
      emit({
        event: 'epoch',
        epoch: m.epoch,
        epochs: total,
        trainAccuracy: m.trainAccuracy,
        testAccuracy: m.testAccuracy,
        seconds: m.seconds,
      }),
  };
}
