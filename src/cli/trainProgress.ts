/** Human progress on stderr: a line per epoch with metrics and ETA, and a closing summary. */
import type { RunResult } from '../results/runResult.js';
import type { TrainingHooks } from '../train/runTraining.js';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const fmt = (x: number | null) => (x === null ? 'NaN' : x.toFixed(4));

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${Math.round(seconds % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

export class TrainProgress {
  private readonly start = performance.now();
  private lastStepLine = 0;
  readonly hooks: TrainingHooks;

  constructor(
    private readonly enabled: boolean,
    private totalEpochs: number,
  ) {
    this.hooks = {
      onStep: (p) => {
        this.totalEpochs = p.epochs; // known once the data says how many steps an epoch has
        if (!this.enabled || !process.stderr.isTTY) return;
        const now = performance.now();
        if (now - this.lastStepLine < 250 && p.step !== p.totalSteps) return;
        this.lastStepLine = now;
        const elapsed = (now - this.start) / 1000;
        const eta = (elapsed / p.step) * (p.totalSteps - p.step);
        process.stderr.write(`\r  step ${p.step}/${p.totalSteps}  loss ${p.loss.toFixed(4)}  ETA ${formatDuration(eta)}   `);
      },
      onEpoch: (m) => {
        if (!this.enabled) return;
        if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
        const elapsed = (performance.now() - this.start) / 1000;
        const epochs = this.totalEpochs;
        const eta = (elapsed / m.epoch) * (epochs - m.epoch);
        console.error(
          `epoch ${m.epoch}/${epochs}  loss ${fmt(m.meanBatchLoss)}  train ${pct(m.trainAccuracy)}  test ${pct(m.testAccuracy)}` +
            `  ${formatDuration(m.seconds)}  ETA ${formatDuration(eta)}`,
        );
      },
    };
  }

  finish(result: RunResult): void {
    if (!this.enabled) return;
    const t = result.timing;
    if (result.status === 'ok' && result.final) {
      const target = result.target;
      if (target) {
        console.error(
          target.reached
            ? `target ${target.metric} ${target.value} met at step ${target.stepsToTarget} (${target.samplesToTarget} samples, ${formatDuration(target.trainSecondsToTarget ?? 0)} of training)`
            : `target ${target.metric} ${target.value} not met within the budget (best ${target.best ?? 'none'} at step ${target.bestAtStep ?? '-'})`,
        );
      }
      console.error(
        `ok: test ${pct(result.final.testAccuracy)}, gap ${pct(result.final.generalizationGap)}, ` +
          `${t.samplesPerSecond.toFixed(0)} samples/s on ${result.environment?.backend ?? '?'}`,
      );
    } else if (result.status === 'diverged') {
      console.error(`diverged: non-finite loss at step ${result.divergedAtStep}`);
    } else {
      console.error(`failed: ${result.error}`);
    }
  }
}
