/**
 * `check --junit FILE`: the checks as JUnit XML, for CI test reporters. One <testsuite> per check
 * (accuracy, time), one <testcase> per run in each: a <failure> for a regression (or a missing
 * baseline/result unless allowed), <skipped> for inconclusive, skipped or allowed-missing checks.
 */
import type { CheckReport, Finding } from './compare.js';

// XML 1.0 allows tab, LF, CR and these ranges; anything else (other control characters, lone surrogates) is dropped.
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text or attribute content, escaped. */
export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function element(
  name: string,
  attributes: Record<string, string | number>,
  children: string[] | string | null = null,
  indent = '',
): string {
  const attrs = Object.entries(attributes)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
  if (children === null || children.length === 0) return `${indent}<${name}${attrs}/>`;
  if (typeof children === 'string') return `${indent}<${name}${attrs}>${escapeXml(children)}</${name}>`;
  return `${indent}<${name}${attrs}>\n${children.join('\n')}\n${indent}</${name}>`;
}

type CaseState = 'passed' | 'failure' | 'skipped';

interface Case {
  readonly runId: string;
  readonly label: string;
  readonly state: CaseState;
  readonly message: string;
  readonly type: string;
  readonly detail: string;
}

function caseFor(runId: string, label: string, finding: Finding | undefined, allowMissing: boolean): Case {
  if (!finding) return { runId, label, state: 'skipped', message: 'not checked', type: 'skipped', detail: '' };
  const detail = finding.message;
  switch (finding.outcome) {
    case 'regression':
      return {
        runId,
        label,
        state: 'failure',
        message: finding.message,
        type: finding.check === 'time' ? 'slowdown' : 'regression',
        detail,
      };
    case 'missing':
      return allowMissing
        ? { runId, label, state: 'skipped', message: `missing (allowed): ${finding.message}`, type: 'missing', detail }
        : { runId, label, state: 'failure', message: finding.message, type: 'missing', detail };
    case 'inconclusive':
      return { runId, label, state: 'skipped', message: `inconclusive: ${finding.message}`, type: 'inconclusive', detail };
    case 'skipped':
      return { runId, label, state: 'skipped', message: finding.message, type: 'skipped', detail };
    default:
      return { runId, label, state: 'passed', message: finding.message, type: finding.outcome, detail };
  }
}

function renderCase(c: Case, classname: string): string {
  const attrs = { classname, name: `${c.label} (${c.runId})`, time: 0 };
  const indent = '    ';
  if (c.state === 'failure')
    return element('testcase', attrs, [element('failure', { message: c.message, type: c.type }, c.detail, `${indent}  `)], indent);
  if (c.state === 'skipped')
    return element(
      'testcase',
      attrs,
      [element('skipped', { message: c.message })].map((s) => `${indent}  ${s}`),
      indent,
    );
  return element('testcase', attrs, [element('system-out', {}, c.message, `${indent}  `)], indent);
}

export function toJUnitXml(report: CheckReport, options: { allowMissing?: boolean } = {}): string {
  const allowMissing = options.allowMissing ?? false;
  // Every run the check knows of: results, and expected runs without a result.
  const runs = new Map<string, string>();
  for (const f of report.findings) {
    if (f.metric === 'baselineFile' || f.runIds.length !== 1) continue;
    if (!runs.has(f.runIds[0])) runs.set(f.runIds[0], f.label);
  }
  for (const f of report.findings) for (const id of f.runIds) if (!runs.has(id)) runs.set(id, id);
  const coverage = (id: string) => report.findings.find((f) => f.check === 'coverage' && f.runIds.includes(id));
  const labelOf = (id: string) => {
    const single = report.findings.find((f) => f.runIds.length === 1 && f.runIds[0] === id && f.metric !== 'baselineFile');
    return single?.label ?? runs.get(id) ?? id;
  };
  const ids = [...runs.keys()].sort();
  const suites = (['accuracy', 'time'] as const).map((check) => {
    const classname = `ngd-bench.${report.suite}.${check}`;
    const cases = ids.map((id) =>
      caseFor(id, labelOf(id), report.findings.find((f) => f.check === check && f.runIds.includes(id)) ?? coverage(id), allowMissing),
    );
    const count = (state: CaseState) => cases.filter((c) => c.state === state).length;
    return {
      xml: element(
        'testsuite',
        { name: classname, tests: cases.length, failures: count('failure'), errors: 0, skipped: count('skipped'), time: 0 },
        cases.map((c) => renderCase(c, classname)),
        '  ',
      ),
      tests: cases.length,
      failures: count('failure'),
      skipped: count('skipped'),
    };
  });
  const total = (k: 'tests' | 'failures' | 'skipped') => suites.reduce((sum, s) => sum + s[k], 0);
  const root = element(
    'testsuites',
    {
      name: `ngd-bench check ${report.suite}`,
      tests: total('tests'),
      failures: total('failures'),
      errors: 0,
      skipped: total('skipped'),
      time: 0,
    },
    suites.map((s) => s.xml),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n`;
}
