/**
 * The one number formatter (report, leaderboard, check): fixed decimals, nothing locale-dependent, and
 * one sign convention (ASCII '+' and '-', so numbers can be copied and grepped), plus the small text
 * helpers of the Markdown writers.
 */
import type { Summary } from './stats.js';

/** A fraction in [0, 1] as percent with two decimals: 0.8625 -> "86.25". */
export function pct(fraction: number): string {
  return (100 * fraction).toFixed(2);
}

/** A number with its sign always shown: 1.454 -> "+1.45", -0.5 -> "-0.50". */
export function signed(x: number, digits = 2): string {
  return `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(digits)}`;
}

/** A difference of fractions in percentage points, signed: 0.0145 -> "+1.45". */
export function points(delta: number, sign = true): string {
  return sign ? signed(100 * delta) : (100 * delta).toFixed(2);
}

/** A value already in percent: 86.25 -> "86.25%" (null: "—"). */
export function percentText(value: number | null): string {
  return value === null ? '—' : `${value.toFixed(2)}%`;
}

/** A difference already in percentage points: -1.5 -> "-1.50 pts" (null: "—"). */
export function pointsText(value: number | null): string {
  return value === null ? '—' : `${signed(value)} pts`;
}

/** A measured time with the precision its size warrants: 123.4, 12.345, 0.0123. */
export function measured(value: number): string {
  return value >= 100 ? value.toFixed(1) : value >= 1 ? value.toFixed(3) : value.toPrecision(3);
}

/** Mean ± sample std of a fraction summary, in percent: "86.25 ± 0.35". */
export function pctSummary(s: Summary): string {
  return s.std === null ? pct(s.mean) : `${pct(s.mean)} ± ${(100 * s.std).toFixed(2)}`;
}

/** Seconds with a precision that suits their size. */
export function seconds(x: number): string {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function secondsSummary(s: Summary): string {
  return s.std === null ? seconds(s.mean) : `${seconds(s.mean)} ± ${seconds(s.std)}`;
}

/** Rates (samples/s) as integers, thousands separated by commas (locale-independent). */
export function rate(x: number): string {
  return String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function rateSummary(s: Summary): string {
  return s.std === null ? rate(s.mean) : `${rate(s.mean)} ± ${rate(s.std)}`;
}

/** A generic number with up to 4 significant digits, for values whose unit the report does not know. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1e5 || abs < 1e-3) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}

/** Makes text safe for a Markdown table cell: one line, pipes escaped. */
export function cell(text: string): string {
  return text
    .replace(/\s*\r?\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
}

/** Inline code, safe in a table cell. */
export function code(text: string): string {
  const body = cell(text);
  return body.includes('`') ? `\`\` ${body} \`\`` : `\`${body}\``;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "a, b and c". */
export function listing(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
