/**
 * The paper's claims judged once per protocol (src/report/protocols.ts): the same C1–C3 rule, each
 * time on the runs the protocol applies to and the per-run accuracy it compares. A protocol the
 * results cannot support gives three inconclusive claims that say why. Pure.
 */
import type { RunResult } from '../results/runResult.js';
import { groupRuns, type Cell, type Grouped } from './groupRuns.js';
import type { LoadedRun } from './resultSet.js';
import type { MatchedFit } from './matchedFit.js';
import {
  CLAIMS,
  evaluateClaims,
  finalScorer,
  type ClaimId,
  type ClaimOptions,
  type ClaimResult,
  type ClaimScorer,
  type CellOutcome,
} from './paperClaims.js';
import { finalPointPhrase, noRunsReason, PROTOCOL_IDS, PROTOCOL_NAMES, takesPart, type ProtocolId } from './protocols.js';
import { pointAtStep, type CurvePoint } from './runCurve.js';
import { num } from '../util/format.js';
import { summarize } from '../util/stats.js';
import { targetsOf, targetCells } from './stepsToTarget.js';

export interface ProtocolClaims {
  id: ProtocolId;
  name: string;
  /** Runs the protocol applies to (any status); 0 when unsupported. */
  runs: number;
  /** Why the results cannot support it; null when they can. */
  unsupported: string | null;
  /** Null when unsupported. */
  scorer: ClaimScorer | null;
  claims: ClaimResult[];
}

const splitOf = (metric: string) => (metric.startsWith('validation') ? 'validation' : metric.startsWith('train') ? 'training' : 'test');

/** The point where a run first met its target: its evaluation at that step (a run that stopped there: its final metrics). */
function targetPoint(result: RunResult): Pick<CurvePoint, 'testAccuracy' | 'trainAccuracy'> | null {
  const t = result.target;
  if (!t?.reached || t.stepsToTarget === null) return null;
  const p = pointAtStep(result, t.stepsToTarget);
  if (p) return p;
  return result.stopReason === 'target' && result.final ? result.final : null;
}

/** Steps to target: accuracy where the target was met; a cell where at most half the seeds met it counts as a miss. */
export function targetScorer(grouped: Grouped): ClaimScorer {
  const targets = targetsOf(targetCells(grouped));
  const what = targets.length === 1 ? targets[0] : targets.length === 0 ? 'its target' : `its target (${targets.join('; ')})`;
  const metric = targets.length === 1 ? targets[0].split(' ')[0] : '';
  const split = targets.length === 1 ? `the ${splitOf(metric)} split` : "each target's split";
  return {
    accuracy: `the test accuracy at the evaluation where a run first met ${what}, over the seeds that met it`,
    selection: `the one with the fewest mean steps to the target there is used (the target is measured on ${split}; the test split is only reported).`,
    notes: [
      'A cell counts as missing the target when at most half its ok seeds met it. A miss ranks below any accuracy: C1 holds if SGD meets the target at small batch and misses it at large; C2 holds if NGD misses it at large batch where SGD does not; C3 does not hold if smoothed NGD misses it at large batch; a claim is inconclusive where both cells whose drop it measures missed it.',
    ],
    goal: 'meet the target',
    outcome: (c: Cell): CellOutcome | null => {
      const runs = c.ok.filter((r) => r.result.target !== undefined);
      if (runs.length === 0) return null;
      const met = runs.filter((r) => r.result.target!.reached && r.result.target!.stepsToTarget !== null);
      const points = met.flatMap((r) => targetPoint(r.result) ?? []);
      const mostly = 2 * met.length > runs.length;
      const steps = summarize(met.map((r) => r.result.target!.stepsToTarget!));
      return {
        runs: runs.length,
        accuracy: summarize(points.map((p) => p.testAccuracy)),
        gap: summarize(points.map((p) => p.trainAccuracy - p.testAccuracy)),
        rank: mostly && steps ? -steps.mean : -Infinity,
        missed: mostly ? null : { count: runs.length - met.length, what: 'missed the target' },
      };
    },
  };
}

/** Matched fit: accuracy at each run's first evaluation with train loss ≤ L*. */
export function matchedFitScorer(fit: MatchedFit): ClaimScorer {
  const all = [...fit.points.values()];
  const onValidation = all.every((p) => p.validationAccuracy !== null);
  return {
    accuracy: `the test accuracy at a run's first evaluation with train loss ≤ L* = ${num(fit.level)}`,
    selection: onValidation
      ? 'the one with the best mean validation accuracy at that point is used (picked on the validation split; the test split is only reported).'
      : 'the one with the best mean test accuracy at that point is used: picked on the test set (no validation split was measured).',
    outcome: (c: Cell): CellOutcome | null => {
      const points = c.ok.flatMap((r) => fit.points.get(r.id) ?? []);
      if (points.length === 0) return null;
      const test = summarize(points.map((p) => p.testAccuracy))!;
      return {
        runs: points.length,
        accuracy: test,
        gap: summarize(points.map((p) => p.trainAccuracy - p.testAccuracy)),
        rank: onValidation ? summarize(points.map((p) => p.validationAccuracy!))!.mean : test.mean,
        missed: null,
      };
    },
  };
}

function unsupported(id: ProtocolId, why: string): ProtocolClaims {
  const claims = (Object.keys(CLAIMS) as ClaimId[]).map((c) => ({
    id: c,
    claim: CLAIMS[c],
    verdict: 'inconclusive' as const,
    numbers: [],
    reason: why,
    batchSizes: null,
  }));
  return { id, name: PROTOCOL_NAMES[id], runs: 0, unsupported: why, scorer: null, claims };
}

/** C1–C3 under every protocol, in PROTOCOL_IDS order; `grouped` holds every run, `fit` the set's matched fit. */
export function protocolClaims(
  runs: readonly LoadedRun[],
  grouped: Grouped,
  fit: MatchedFit | null,
  options: ClaimOptions = {},
): ProtocolClaims[] {
  return PROTOCOL_IDS.map((id) => {
    if (id === 'matched-fit') {
      if (fit === null) return unsupported(id, 'no ok run recorded a finite train loss');
      const scorer = matchedFitScorer(fit);
      return {
        id,
        name: PROTOCOL_NAMES[id],
        runs: fit.compared,
        unsupported: null,
        scorer,
        claims: evaluateClaims(grouped.cells, options, scorer),
      };
    }
    const mine = runs.filter((r) => takesPart(r.result.config, id));
    if (mine.length === 0) return unsupported(id, noRunsReason(id));
    const sub = groupRuns(mine);
    const scorer = id === 'target' ? targetScorer(sub) : finalScorer(sub.cells, ` ${finalPointPhrase(mine.map((r) => r.result.config))}`);
    return {
      id,
      name: PROTOCOL_NAMES[id],
      runs: mine.length,
      unsupported: null,
      scorer,
      claims: evaluateClaims(sub.cells, options, scorer),
    };
  });
}
