/** Human output of a check: the verdict line, the findings table (Markdown), and the `--update` report. */
import { markdownTable } from 'markdown-table';
import type { Tolerances } from '../suite/suiteSchema.js';
import { measured, percentText, plural, pointsText } from '../util/format.js';
import { exitCodeOf, type CheckReport, type Finding } from './compare.js';
import { formatFingerprint } from './observe.js';
import type { BaselineChange, BaselineUpdate, EntrySummary } from './update.js';

export function formatTolerances(t: Tolerances): string {
  return `accuracy ±${t.accuracyDropPoints.toFixed(1)} pts, time ×${t.timeRatio.toFixed(2)}`;
}

/** Every tolerance, for the --update report. */
export function formatAllTolerances(t: Tolerances): string {
  return `${formatTolerances(t)}, seed groups max(drop, ${t.seedSpreadFactor} × sd), ≥${t.minTimingSamples} timing samples`;
}

export interface VerdictOptions {
  readonly allowMissing?: boolean;
  readonly baselinePath?: string;
}

/** `check smoke: PASS — 8 runs within tolerance (accuracy ±2.0 pts, time ×1.50)` or `check smoke: FAIL — 1 accuracy regression, 1 slowdown (...)`. */
export function formatVerdict(report: CheckReport, options: VerdictOptions = {}): string {
  const s = report.summary;
  const failed = exitCodeOf(report, options) !== 0;
  const tolerances = `(${formatTolerances(report.tolerances)})`;
  const missing = [
    s.missingBaselineEntries > 0 ? plural(s.missingBaselineEntries, 'run without a baseline entry', 'runs without a baseline entry') : '',
    s.missingResults > 0 ? plural(s.missingResults, 'missing result') : '',
  ].filter(Boolean);
  const notes = [
    s.accuracyImprovements > 0 ? plural(s.accuracyImprovements, 'accuracy improvement') : '',
    s.speedups > 0 ? plural(s.speedups, 'speedup') : '',
    s.inconclusive > 0 ? `${s.inconclusive} inconclusive` : '',
    s.timeSkipped > 0 ? `${plural(s.timeSkipped, 'time check', 'time checks')} skipped` : '',
    s.outOfShard > 0 ? `${s.outOfShard} baseline runs in other shards` : '',
  ].filter(Boolean);
  if (s.baselineFileMissing) {
    const where = options.baselinePath ? ` ${options.baselinePath}` : '';
    return `check ${report.suite}: ${failed ? 'FAIL' : 'PASS'} — no baseline file${where} (${plural(s.runs, 'run')} unchecked${failed ? '' : ', allowed'})`;
  }
  if (failed) {
    const problems = [
      s.accuracyRegressions > 0 ? plural(s.accuracyRegressions, 'accuracy regression') : '',
      s.slowdowns > 0 ? plural(s.slowdowns, 'slowdown') : '',
      ...(options.allowMissing ? [] : missing),
    ].filter(Boolean);
    const rest = [...(options.allowMissing ? missing.map((m) => `${m} (allowed)`) : []), ...notes];
    return `check ${report.suite}: FAIL — ${problems.join(', ')} ${tolerances}${rest.length > 0 ? `; ${rest.join(', ')}` : ''}`;
  }
  const rest = [...missing.map((m) => `${m} (allowed)`), ...notes];
  return `check ${report.suite}: PASS — ${plural(s.compared, 'run')} within tolerance ${tolerances}${rest.length > 0 ? `; ${rest.join(', ')}` : ''}`;
}

function outcomeLabel(f: Finding): string {
  if (f.check === 'time' && f.outcome === 'regression') return 'slowdown';
  if (f.check === 'time' && f.outcome === 'improvement') return 'speedup';
  return f.outcome;
}

function fmtTime(value: number, metric: Finding['metric']): string {
  return `${measured(value)} ${metric === 'probeStepMs' ? 'ms' : 's'}`;
}

const pct = percentText;
const pts = pointsText;

/** baseline, result, delta and threshold cells of a finding. */
function cells(f: Finding): [string, string, string, string] {
  switch (f.metric) {
    case 'testAccuracy':
    case 'groupTestAccuracy':
      return [pct(f.baseline), pct(f.result), pts(f.delta), f.threshold === null ? '—' : `±${f.threshold.toFixed(2)} pts`];
    case 'status':
      return [
        `${f.status?.baseline ?? '?'}${f.baseline === null ? '' : ` ${pct(f.baseline)}`}`,
        `${f.status?.result ?? '?'}${f.result === null ? '' : ` ${pct(f.result)}`}`,
        pts(f.delta),
        '—',
      ];
    case 'epochSeconds':
    case 'probeStepMs': {
      const samples = f.samples;
      const b = f.baseline === null ? '—' : `${fmtTime(f.baseline, f.metric)}${samples ? ` (n=${samples.baseline})` : ''}`;
      const r = f.result === null ? '—' : `${fmtTime(f.result, f.metric)}${samples ? ` (n=${samples.result})` : ''}`;
      const sps = f.samplesPerSecond?.ratio != null ? `, samples/s ×${f.samplesPerSecond.ratio.toFixed(2)}` : '';
      return [
        b,
        r,
        f.delta === null ? '—' : `×${f.delta.toFixed(2)}${sps}`,
        f.threshold === null ? '—' : `×${f.threshold.toFixed(2)}${samples ? `, n≥${samples.required}` : ''}`,
      ];
    }
    default:
      return [f.baseline === null ? '—' : pct(f.baseline), f.result === null ? '—' : pct(f.result), '—', '—'];
  }
}

/** Every finding that is not a plain pass (regressions first), as a Markdown table; '' when there are none. */
export function formatFindingsTable(report: CheckReport): string {
  const order = { regression: 0, missing: 1, inconclusive: 2, improvement: 3, skipped: 4, pass: 5 } as const;
  const rows = report.findings
    .filter((f) => f.outcome !== 'pass')
    .map((f, i) => ({ f, i }))
    .sort((a, b) => order[a.f.outcome] - order[b.f.outcome] || a.i - b.i)
    .map(({ f }) => [f.label, f.check, outcomeLabel(f), ...cells(f), f.message.replace(/\|/g, '\\|')]);
  if (rows.length === 0) return '';
  return markdownTable([['run', 'check', 'outcome', 'baseline', 'result', 'delta', 'threshold', 'note'], ...rows], {
    align: ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'l'],
  });
}

/** For $GITHUB_STEP_SUMMARY: a heading, the verdict and the table. */
export function formatMarkdownSummary(report: CheckReport, options: VerdictOptions = {}): string {
  const table = formatFindingsTable(report);
  const verdict = formatVerdict(report, options);
  return `### ngd-bench ${verdict}\n\n${table ? `${table}\n` : 'Every run within tolerance.\n'}\n`;
}

function describeEntry(e: EntrySummary): string {
  const acc = e.testAccuracy === null ? '' : ` ${e.testAccuracy.toFixed(2)}%`;
  const time = e.medianEpochSeconds === null ? '' : `, ${fmtTime(e.medianEpochSeconds, 'epochSeconds')}/epoch`;
  return `${e.status}${acc}${time}`;
}

function describeChange(c: BaselineChange): string {
  const b = c.before;
  const a = c.after;
  if (!b || !a) return '';
  const parts: string[] = [];
  if (b.status !== a.status) parts.push(`status ${b.status} -> ${a.status}`);
  if (b.testAccuracy !== a.testAccuracy) {
    const delta = b.testAccuracy !== null && a.testAccuracy !== null ? ` (${pts(a.testAccuracy - b.testAccuracy)})` : '';
    parts.push(`test accuracy ${pct(b.testAccuracy)} -> ${pct(a.testAccuracy)}${delta}`);
  }
  if (b.medianEpochSeconds !== a.medianEpochSeconds) {
    const time = (v: number | null) => (v === null ? '—' : fmtTime(v, 'epochSeconds'));
    const ratio =
      b.medianEpochSeconds && a.medianEpochSeconds !== null ? ` (×${(a.medianEpochSeconds / b.medianEpochSeconds).toFixed(2)})` : '';
    parts.push(`time ${time(b.medianEpochSeconds)} -> ${time(a.medianEpochSeconds)}/epoch${ratio}`);
  }
  if (b.probeStepMs !== a.probeStepMs) {
    const probe = (v: number | null) => (v === null ? 'none' : fmtTime(v, 'probeStepMs'));
    parts.push(`probe step ${probe(b.probeStepMs)} -> ${probe(a.probeStepMs)}`);
  }
  return parts.join(', ') || 'timing samples or details changed';
}

/** What `--update` did, one line per added, changed, removed or unrecorded entry. */
export function formatUpdate(update: BaselineUpdate, file: string, created: boolean): string {
  const n = (kind: BaselineChange['change']) => update.changes.filter((c) => c.change === kind).length;
  const counts = [
    `${n('added')} added`,
    `${n('changed')} changed`,
    `${n('unchanged')} unchanged`,
    `${n('removed')} removed`,
    ...(n('not-recorded') > 0 ? [`${n('not-recorded')} not recorded`] : []),
  ];
  const lines = [
    `baseline ${file}: ${created ? 'created' : 'updated'} (${counts.join(', ')}; ${plural(update.baseline.entries.length, 'entry', 'entries')})`,
  ];
  for (const c of update.changes) {
    const where = `${c.runId} [${formatFingerprint(c.environment)}]`;
    if (c.change === 'added') lines.push(`  + ${where}: ${describeEntry(c.after!)}`);
    else if (c.change === 'changed') lines.push(`  ~ ${where}: ${describeChange(c)}`);
    else if (c.change === 'removed') lines.push(`  - ${where}: removed (${c.reason})`);
    else if (c.change === 'not-recorded') lines.push(`  ! ${where}: not recorded (${c.reason})`);
  }
  const t = update.tolerances;
  if (t.before === null) lines.push(`tolerances: ${formatAllTolerances(t.after)}`);
  else if (t.changed) lines.push(`tolerances: ${formatAllTolerances(t.before)} -> ${formatAllTolerances(t.after)}`);
  return lines.join('\n');
}
