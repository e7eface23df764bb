/**
 * What a baseline comparison found, as the report shows it. The comparison itself lives elsewhere
 * (src/check); the report only renders this shape, so it stays a pure function of its inputs.
 */

export type FindingKind = 'regression' | 'improvement';

export interface FindingLine {
  /** The run (or group) the finding is about. */
  runId: string;
  /** What was compared, e.g. 'testAccuracy' or 'trainSeconds'. */
  metric: string;
  /** Null where the metric has no number (e.g. a run status); the note then says what changed. */
  baseline: number | null;
  result: number | null;
  /** result - baseline (or a ratio, for timing metrics: the checker decides). */
  delta: number | null;
  /** The tolerance the delta was judged against. */
  threshold: number | null;
  kind: FindingKind;
  /** One line of explanation, shown in a last column when any line has one. */
  note?: string;
}

export interface ReportFindings {
  verdict: 'pass' | 'fail' | 'no-baseline';
  lines: FindingLine[];
  /** Where the baseline came from, for the report's verdict line (optional). */
  baseline?: string;
}
