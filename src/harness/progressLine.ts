/**
 * The child's `--progress jsonl` protocol on stderr: one JSON object per line for steps and epochs;
 * every other line is free text (warnings, errors) and goes to the stderr tail.
 */

export interface StepProgress {
  readonly event: 'step';
  readonly epoch: number;
  readonly epochs: number;
  /** Global step, 1-based, over the whole run. */
  readonly step: number;
  /** Steps of the whole run. */
  readonly totalSteps: number;
  readonly loss: number | null;
}

export interface EpochProgress {
  readonly event: 'epoch';
  readonly epoch: number;
  readonly epochs: number;
  readonly testAccuracy: number;
  readonly trainAccuracy: number;
  readonly seconds: number;
}

export type ProgressEvent = StepProgress | EpochProgress;

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A progress event, or null for a free-text line (anything that is not a well-formed event). */
export function parseProgressLine(line: string): ProgressEvent | null {
  const text = line.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (!isNum(o.epoch) || !isNum(o.epochs)) return null;
  if (o.event === 'step' && isNum(o.step) && isNum(o.totalSteps)) {
    // A non-finite loss arrives as null (JSON has no NaN).
    const loss = isNum(o.loss) ? o.loss : null;
    return { event: 'step', epoch: o.epoch, epochs: o.epochs, step: o.step, totalSteps: o.totalSteps, loss };
  }
  if (o.event === 'epoch' && isNum(o.testAccuracy) && isNum(o.trainAccuracy)) {
    return {
      event: 'epoch',
      epoch: o.epoch,
      epochs: o.epochs,
      testAccuracy: o.testAccuracy,
      trainAccuracy: o.trainAccuracy,
      seconds: isNum(o.seconds) ? o.seconds : 0,
    };
  }
  return null;
}

/** Fraction of the run done (0..1) that an event implies. */
export function progressFraction(event: ProgressEvent): number {
  const f =
    event.event === 'step' ? (event.totalSteps > 0 ? event.step / event.totalSteps : 0) : event.epochs > 0 ? event.epoch / event.epochs : 0;
  return Math.min(1, Math.max(0, f));
}
