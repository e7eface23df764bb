/**
 * The report's protocol sections: the claims judged under each protocol, steps to target with the
 * critical batch size, and generalization at matched fit. Pure: an Analysis in, Markdown lines out.
 */
import { markdownTable } from 'markdown-table';
import { describeBudget } from '../config/budget.js';
import type { Analysis } from './analyze.js';
import { chartImage, statusNote, table } from './cellTables.js';
import { cell, code, num, pctSummary, plural, rate, seconds } from '../util/format.js';
import type { Cell } from './groupRuns.js';
import { type ClaimOptions, scorerRules, sharedClaimRules } from './paperClaims.js';
import type { Summary } from '../util/stats.js';
import { takesPart } from './protocols.js';
import { CRITICAL_FACTOR, targetsOf, type TargetCell } from './stepsToTarget.js';
import { targetChartFile } from './targetCharts.js';

const verdictText = (v: string) => (v === 'inconclusive' ? 'inconclusive' : `**${v}**`);

/** C1–C3 × protocol: a verdict matrix, the basis of every verdict, and each protocol's rule. */
export function protocolClaimsSection(a: Analysis, options: ClaimOptions = {}): string[] {
  const ps = a.protocols;
  const ids = ps[0]?.claims.map((c) => c.id) ?? [];
  const matrix = ids.map((id) => {
    const claim = ps[0].claims.find((c) => c.id === id)!;
    return [`${id} ${cell(claim.claim)}`, ...ps.map((p) => verdictText(p.claims.find((c) => c.id === id)!.verdict))];
  });
  // An unsupported protocol has one reason for all three claims: one row.
  const basis = ps.flatMap((p) =>
    p.scorer === null
      ? [[`${ids[0]}–${ids[ids.length - 1]}`, p.name, 'inconclusive', cell(p.unsupported ?? '')]]
      : p.claims.map((c) => [c.id, p.name, verdictText(c.verdict), [c.reason, ...c.numbers].map(cell).join('<br>')]),
  );
  const shared = sharedClaimRules(options);
  const rules = ps.map((p) =>
    p.scorer === null
      ? `* **${p.name}**: not supported by these results: ${p.unsupported}.`
      : `* **${p.name}** (${plural(p.runs, 'run')}): ${scorerRules(p.scorer, options).join(' ')}`,
  );
  return [
    '### Claims under each protocol',
    '',
    'The same three claims judged under every comparison protocol: fixed epochs and fixed steps (final test accuracy after the budget), steps to target (test accuracy where the target was met, and whether it was met at all) and matched fit (test accuracy where every run fits the training data equally well). A protocol the results cannot support is inconclusive, with why.',
    '',
    table([['claim', ...ps.map((p) => p.name)], ...matrix]),
    '',
    markdownTable([['', 'protocol', 'verdict', 'basis (mean ± sample std over seeds)'], ...basis], { alignDelimiters: false }),
    '',
    'The rules. For every protocol:',
    '',
    `* ${shared.margin}`,
    `* ${shared.batches}`,
    `* ${shared.verdicts}`,
    '',
    'Per protocol:',
    '',
    ...rules,
  ];
}

const count = (s: Summary | null, fmt: (x: number) => string) =>
  s === null ? '—' : s.std === null ? fmt(s.mean) : `${fmt(s.mean)} ± ${fmt(s.std)}`;

/** A series × batch table of target cells: the summary, (met/ok seeds), and runs that did not finish ok. */
function targetTable(a: Analysis, value: (t: TargetCell) => Summary | null, fmt: (x: number) => string): string {
  const cells = a.targets;
  // Every series and batch size with a target run, whatever its status: a series that only diverged still gets its row.
  const targetRunCells = a.grouped.cells.filter((c) => c.runs.some((r) => takesPart(r.result.config, 'target')));
  const series = a.grouped.series.filter((s) => targetRunCells.some((c) => c.series.key === s.key));
  const batches = [...new Set(targetRunCells.map((c) => c.batchSize))].sort((x, y) => x - y);
  const at = (key: string, b: number): Cell | undefined => a.grouped.cells.find((c) => c.series.key === key && c.batchSize === b);
  const rows = series.map((s) => [
    cell(s.display),
    ...batches.map((b) => {
      const t = cells.find((x) => x.cell.series.key === s.key && x.cell.batchSize === b);
      const c = at(s.key, b);
      const bad = c ? statusNote(c.runs) : '';
      if (!t) return c ? `— (${bad || 'no target run'})` : '—';
      const text = `${count(value(t), fmt)} (${t.reached}/${t.runs})`;
      return bad === '' ? text : `${text} +${bad}`;
    }),
  ]);
  return table([['optimizer', ...batches.map((b) => `b${b}`)], ...rows]);
}

const ratioText = (r: number) => `${r.toFixed(2)}×`;

export function stepsToTargetSection(a: Analysis, chartsHref: string | null): string[] {
  if (a.targets.length === 0) return [];
  const budgets = [
    ...new Set(a.targets.flatMap((t) => t.cell.ok.filter((r) => r.result.target).map((r) => describeBudget(r.result.config)))),
  ].sort();
  const targets = targetsOf(a.targets);
  const critical = a.critical.map((c) => {
    const ratios = c.points
      .slice(1)
      .map((p) => `b${p.batchSize} ${p.ratio !== null ? ratioText(p.ratio) : `missed (${p.target.reached}/${p.target.runs})`}`);
    return [
      cell(c.series.display),
      c.base ? `b${c.base.batchSize}` : `b${c.points[0].batchSize}`,
      c.base ? rate(c.base.steps) : `missed (${c.points[0].target.reached}/${c.points[0].target.runs})`,
      ratios.length === 0 ? '—' : ratios.join(', '),
      c.critical === null ? 'inconclusive' : `${c.atLeast ? '≥ ' : ''}b${c.critical}`,
      cell(c.reason),
    ];
  });
  return [
    '## Steps to target',
    '',
    `Ok runs with a target budget (${budgets.map(code).join(', ')}): optimizer steps until the first evaluation that met ${targets.length === 1 ? `the target, ${code(targets[0])}` : 'its target'}, mean ± sample std over the seeds that met it, then (seeds that met it / ok seeds). A run is only known to have met the target at an evaluation, so steps are resolved as finely as its evaluations are spaced. Diverged and failed runs are counted after a "+".`,
    '',
    targetTable(a, (t) => t.steps, rate),
    ...(chartsHref === null
      ? []
      : [
          '',
          `The charts (log–log): mean over the seeds that met the target, bars their range; dashed, each optimizer's perfect scaling from its smallest batch size; ×, a cell where most seeds missed the target, drawn at the steps it ran and left off the line${a.divergedTargets.length > 0 ? '; △, a cell where every seed diverged, drawn at the step it diverged (the latest over its seeds)' : ''}.`,
        ]),
    ...chartImage(chartsHref, targetChartFile('steps'), 'steps to target vs batch size'),
    '',
    'Training samples to target (steps × global batch size), the same way; perfect scaling keeps them constant:',
    '',
    targetTable(a, (t) => t.samples, rate),
    ...chartImage(chartsHref, targetChartFile('samples'), 'samples to target vs batch size'),
    '',
    "Training time to target (s, evaluation excluded), the same way. Steps and samples measure the algorithm; seconds measure it on this run's machine and load, so compare them only between runs timed side by side (the Environment section lists the machines):",
    '',
    targetTable(a, (t) => t.seconds, seconds),
    '',
    '### Critical batch size',
    '',
    `Perfect scaling from an optimizer's smallest batch size b0 needs steps(b0) × b0 / b steps at batch b. The critical batch size is the largest b such that every batch size from b0 up to b met the target in most seeds (more than half) with mean steps at most ${CRITICAL_FACTOR}× perfect scaling; "≥" when no batch size tested left that band. Inconclusive with target runs at fewer than 2 batch sizes, or when the target was missed at b0. Ratios are mean steps ÷ perfect scaling.`,
    '',
    table([['optimizer', 'b0', 'steps at b0', 'steps ÷ perfect scaling', 'critical batch size', 'why'], ...critical]),
  ];
}

export function matchedFitSection(a: Analysis): string[] {
  const fit = a.matchedFit;
  if (fit === null) return [];
  const setBy = fit.setBy;
  const notes = [
    fit.epochResolution > 0
      ? `${plural(fit.epochResolution, 'run')} recorded epoch ends only, so ${fit.epochResolution === 1 ? 'its' : 'their'} point may lie well below L* (see the train loss column).`
      : null,
    fit.withoutCurve.length > 0 ? `Left out (no finite train loss recorded): ${fit.withoutCurve.map((r) => code(r.id)).join(', ')}.` : null,
    fit.notReached.length > 0
      ? `Runs that missed their target set no L* and are compared only where they reach it; ${fit.notReached.length === 1 ? 'this one does' : 'these do'} not: ${fit.notReached.map((x) => `${code(x.run.id)} (lowest train loss ${num(x.lowest)})`).join(', ')}.`
      : null,
  ].filter((x) => x !== null);
  // No run measured a validation split (older results): no column for it.
  const validation = fit.cells.some((c) => c.validationAccuracy !== null);
  const rows = fit.cells.map((c) => [
    cell(c.cell.series.display),
    `b${c.cell.batchSize}`,
    String(c.points.length),
    count(c.step, rate),
    count(c.trainLoss, (x) => x.toFixed(4)),
    ...(validation ? [c.validationAccuracy ? pctSummary(c.validationAccuracy) : '—'] : []),
    pctSummary(c.testAccuracy),
    pctSummary(c.gap),
  ]);
  const head = [
    'optimizer',
    'batch',
    'seeds',
    'step',
    'train loss',
    ...(validation ? ['validation accuracy (%)'] : []),
    'test accuracy (%)',
    'train − test (points)',
  ];
  return [
    '## Generalization at matched fit',
    '',
    `Runs compared where they fit the training data equally well, not where their budgets ended. L* = **${num(fit.level)}** (train loss): the largest, over the ${fit.missedTarget > 0 ? `${plural(fit.levelRuns, 'ok run')} that met their target` : plural(fit.compared, 'compared ok run')}, of each run's lowest recorded train loss (set by ${code(setBy.id)}), so every compared run reaches it. Each run is read at its first evaluation with train loss ≤ L*: its step, train loss, ${validation ? 'validation and ' : ''}test accuracy and train − test accuracy gap, mean ± sample std over seeds.${notes.length > 0 ? ` ${notes.join(' ')}` : ''}`,
    '',
    table([head, ...rows]),
  ];
}
