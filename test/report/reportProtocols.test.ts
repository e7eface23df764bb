/**
 * The reporter's protocols on crafted results (no training): steps to target per cell with unreached
 * runs, the critical batch size, matched fit (L* and each run's point), which runs each protocol takes,
 * and the claims judged under each protocol, inconclusive cells included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupRuns } from '../../src/report/groupRuns.js';
import type { LoadedRun } from '../../src/report/resultSet.js';
import { matchedFit } from '../../src/report/matchedFit.js';
import { claimRules, evaluateClaims, finalScorer, type ClaimResult } from '../../src/report/paperClaims.js';
import { protocolClaims, type ProtocolClaims } from '../../src/report/protocolClaims.js';
import { finalPointPhrase, takesPart } from '../../src/report/protocols.js';
import { criticalBatchSizes, divergedTargetCells, targetCells } from '../../src/report/stepsToTarget.js';
import { targetChart } from '../../src/report/targetCharts.js';
import { buildRun, MAX_STEPS, targetRuns, type Point } from '../fixtures/report-protocols/build.js';

const byId = (claims: ClaimResult[]) => Object.fromEntries(claims.map((c) => [c.id, c])) as Record<'C1' | 'C2' | 'C3', ClaimResult>;

function claimsUnder(runs: LoadedRun[]): Record<string, ProtocolClaims> {
  const grouped = groupRuns(runs);
  return Object.fromEntries(protocolClaims(runs, grouped, matchedFit(grouped)).map((p) => [p.id, p]));
}

describe('steps to target', () => {
  it('averages steps over the seeds that met the target and counts the rest', () => {
    const runs = [
      ...targetRuns({ sgd: { 128: [400, null, 420], 512: [null, null, 100] } }),
      buildRun({ name: 'sgd', batch: 128, seed: 7, status: 'diverged' }),
    ];
    const [b128, b512] = targetCells(groupRuns(runs));
    assert.equal(b128.runs, 3, 'the diverged run is not an ok target run');
    assert.equal(b128.reached, 2);
    assert.deepEqual([b128.steps!.mean, b128.steps!.n], [410, 2]);
    assert.equal(b128.samples!.mean, 410 * 128);
    assert.equal(b128.mostlyReached, true);
    assert.equal(b512.reached, 1);
    assert.equal(b512.mostlyReached, false, 'one seed of three is not most');
    assert.equal(b512.stepsRun, MAX_STEPS, 'a miss ran its whole budget');
  });

  it('ignores runs without a target budget', () => {
    const runs = [
      buildRun({ name: 'sgd', batch: 128, seed: 0, budget: 'steps' }),
      buildRun({ name: 'sgd', batch: 128, seed: 1, budget: 'epochs' }),
    ];
    assert.deepEqual(targetCells(groupRuns(runs)), []);
  });
});

describe('cells whose every target run diverged', () => {
  const runs = [
    ...targetRuns({ sgd: { 128: [100, 100], 512: [50, 50] }, ngd: { 128: [40, 40] } }),
    buildRun({ name: 'ngd', batch: 512, seed: 0, status: 'diverged' }),
    buildRun({ name: 'ngd', batch: 512, seed: 1, status: 'diverged' }),
    buildRun({ name: 'sgd', batch: 512, seed: 2, status: 'diverged' }),
    ...targetRuns({ 'smoothed-ngd': { 128: [40, 40] } }),
    buildRun({ name: 'smoothed-ngd', batch: 512, seed: 0, status: 'diverged' }),
    buildRun({ name: 'smoothed-ngd', batch: 512, seed: 1, status: 'failed' }),
  ];
  const grouped = groupRuns(runs);

  it('are recorded with the latest step they diverged at; a cell with an ok or a failed target run is not one', () => {
    const diverged = divergedTargetCells(grouped);
    assert.deepEqual(
      diverged.map((d) => [d.cell.series.display, d.cell.batchSize, d.diverged, d.step]),
      [['ngd', 512, 2, 3]],
    );
    assert.equal(targetCells(grouped).filter((t) => t.cell.batchSize === 512).length, 1, 'only sgd has an ok target cell at b512');
  });

  it('are drawn in the steps and samples charts at that step, and named in the subtitle only when there are some', () => {
    const values = (measure: 'steps' | 'samples') => {
      const spec = targetChart(targetCells(grouped), measure, divergedTargetCells(grouped)).spec as {
        data: { values: { kind: string; optimizer: string; batch: number; y: number }[] };
        title: { subtitle: string };
      };
      return { rows: spec.data.values.filter((r) => r.kind === 'diverged'), subtitle: spec.title.subtitle };
    };
    assert.deepEqual(values('steps').rows, [{ kind: 'diverged', optimizer: 'ngd', batch: 512, y: 3 }]);
    assert.deepEqual(values('samples').rows[0].y, 3 * 512);
    assert.match(values('steps').subtitle, /△: every seed diverged/);
    const plain = targetChart(targetCells(grouped), 'steps').spec as { title: { subtitle: string } };
    assert.doesNotMatch(plain.title.subtitle, /diverged/);
  });
});

describe('the critical batch size', () => {
  const critical = (grid: Parameters<typeof targetRuns>[0]) =>
    Object.fromEntries(criticalBatchSizes(targetCells(groupRuns(targetRuns(grid)))).map((c) => [c.series.display, c]));

  it('is the largest batch size still within 2x of perfect scaling from the smallest', () => {
    const c = critical({
      sgd: { 128: [800, 800], 512: [220, 220], 2048: [90, 90], 8192: [60, 60] },
      ngd: { 128: [100, 100], 512: [30, 30] },
    });
    assert.deepEqual(c.sgd.base, { batchSize: 128, steps: 800 });
    assert.deepEqual(
      c.sgd.points.map((p) => p.ratio),
      [1, 1.1, 1.8, 4.8],
    );
    assert.equal(c.sgd.critical, 2048);
    assert.equal(c.sgd.atLeast, false);
    assert.equal(c.sgd.reason, 'b8192 needs 4.80× perfect scaling');
    assert.equal(c.ngd.critical, 512);
    assert.equal(c.ngd.atLeast, true, 'no batch size tested left the band');
  });

  it('stops at a batch size that mostly missed the target, even if a larger one is back within the band', () => {
    const c = critical({ ngd: { 128: [100, 100], 512: [null, null], 2048: [10, 10] } });
    assert.equal(c.ngd.critical, 128);
    assert.equal(c.ngd.reason, 'b512 met the target in 0 of 2 seeds');
    assert.equal(c.ngd.points[1].ratio, null);
  });

  it('is inconclusive with one batch size, or when the smallest missed the target', () => {
    const c = critical({ 'smoothed-ngd': { 128: [null, null], 512: [50, 50] }, 'smoothed-sgd': { 512: [50, 50] } });
    assert.equal(c['smoothed-ngd'].critical, null);
    assert.equal(c['smoothed-ngd'].base, null);
    assert.match(c['smoothed-ngd'].reason, /smallest batch size, b128, the target was met in 0 of 2 seeds/);
    assert.equal(c['smoothed-sgd'].critical, null);
    assert.match(c['smoothed-sgd'].reason, /one batch size only/);
  });
});

describe('matched fit', () => {
  const curve = (...points: [number, number | null, number][]): Point[] =>
    points.map(([step, trainLoss, test]) => ({ step, trainLoss: trainLoss as number, test, train: test + 0.1, validation: test + 0.01 }));

  it('L* is the largest lowest train loss; each run is read at its first evaluation at or below it', () => {
    const runs = [
      buildRun({ name: 'sgd', batch: 128, seed: 0, budget: 'steps', curve: curve([10, 1, 0.5], [20, 0.45, 0.7], [40, 0.3, 0.8]) }),
      buildRun({ name: 'sgd', batch: 512, seed: 0, budget: 'steps', curve: curve([5, 1.2, 0.5], [10, 0.6, 0.6], [20, 0.45, 0.65]) }),
      buildRun({ name: 'ngd', batch: 128, seed: 0, budget: 'steps', curve: curve([4, 0.9, 0.6], [8, 0.44, 0.75], [16, 0.2, 0.85]) }),
      buildRun({ name: 'ngd', batch: 512, seed: 0, budget: 'steps', curve: curve([4, null, 0.6], [8, null, 0.7]) }),
      buildRun({ name: 'ngd', batch: 512, seed: 1, status: 'diverged' }),
    ];
    const fit = matchedFit(groupRuns(runs))!;
    assert.equal(fit.level, 0.45);
    assert.equal(fit.setBy.name, 'sgd-b512-w1-s0', 'the first run in cell order with the largest lowest loss');
    assert.equal(fit.compared, 3);
    assert.deepEqual(
      fit.withoutCurve.map((r) => r.name),
      ['ngd-b512-w1-s0'],
    );
    const at = (name: string) => [...fit.points.values()].find((p) => p.run.name === name)!;
    assert.deepEqual([at('sgd-b128-w1-s0').step, at('sgd-b512-w1-s0').step, at('ngd-b128-w1-s0').step], [20, 20, 8]);
    assert.equal(at('ngd-b128-w1-s0').testAccuracy, 0.75);
    const ngd = fit.cells.find((c) => c.cell.series.display === 'ngd')!;
    assert.ok(Math.abs(ngd.gap.mean - 0.1) < 1e-12);
    assert.ok(Math.abs(ngd.validationAccuracy!.mean - 0.76) < 1e-12);
  });

  it('uses epoch ends for results without evaluations, and says so', () => {
    const runs = [
      buildRun({ name: 'sgd', batch: 128, seed: 0, budget: 'epochs', curve: curve([32, 0.6, 0.7], [64, 0.4, 0.8]) }),
      buildRun({ name: 'sgd', batch: 128, seed: 1, budget: 'steps', curve: curve([32, 0.5, 0.7], [64, 0.45, 0.75]) }),
    ];
    const fit = matchedFit(groupRuns(runs))!;
    assert.equal(fit.level, 0.45);
    assert.equal(fit.epochResolution, 1);
    assert.equal(fit.cells[0].validationAccuracy, null, 'the epoch-only run measured no validation split');
  });

  it('runs that missed their target set no L*; they are compared where they reach it and named where they do not', () => {
    const runs = [
      buildRun({ name: 'sgd', batch: 128, seed: 0, steps: 40, curve: curve([10, 1, 0.5], [20, 0.45, 0.7], [40, 0.3, 0.8]) }),
      buildRun({ name: 'sgd', batch: 512, seed: 0, steps: 20, curve: curve([5, 1.2, 0.5], [10, 0.6, 0.6], [20, 0.45, 0.65]) }),
      // Collapsed after step 4 (paper-cnn's SGD at b4096): its lowest loss would have put L* at 1.3.
      buildRun({ name: 'sgd', batch: 2048, seed: 0, steps: null, curve: curve([4, 1.3, 0.55], [8, 2.3, 0.1]) }),
      // Missed the target but fits as well as the others: read at L*.
      buildRun({ name: 'ngd', batch: 512, seed: 0, steps: null, curve: curve([4, 0.9, 0.6], [8, 0.4, 0.75]) }),
    ];
    const fit = matchedFit(groupRuns(runs))!;
    assert.equal(fit.level, 0.45);
    assert.equal(fit.setBy.name, 'sgd-b512-w1-s0');
    assert.equal(fit.compared, 3);
    assert.equal(fit.missedTarget, 2);
    assert.equal(fit.levelRuns, 2, 'L* is the largest lowest loss of the two runs that met their target');
    assert.deepEqual(
      fit.notReached.map((x) => [x.run.name, x.lowest]),
      [['sgd-b2048-w1-s0', 1.3]],
    );
    assert.equal([...fit.points.values()].find((p) => p.run.name === 'ngd-b512-w1-s0')!.step, 8);
    assert.ok(!fit.cells.some((c) => c.cell.batchSize === 2048), 'no cell without a run at L*');

    const allMissed = matchedFit(groupRuns(runs.slice(2)))!;
    assert.equal(allMissed.level, 1.3, 'where every run missed its target, they all set L*');
    assert.equal(allMissed.missedTarget, 0);
    assert.deepEqual(allMissed.notReached, []);
  });

  it('is null when no ok run recorded a train loss', () => {
    assert.equal(matchedFit(groupRuns([buildRun({ name: 'sgd', batch: 128, seed: 0, status: 'failed' })])), null);
  });
});

describe('which runs a protocol takes, and how the final tables are labelled', () => {
  it('a target run serves the fixed-steps protocol only when it trained on past the target', () => {
    const stops = buildRun({ name: 'sgd', batch: 128, seed: 0, steps: 100 }).result.config;
    const trainsOn = buildRun({ name: 'sgd', batch: 128, seed: 0, steps: 100, stopAtTarget: false }).result.config;
    assert.deepEqual([takesPart(stops, 'target'), takesPart(stops, 'steps'), takesPart(stops, 'epochs')], [true, false, false]);
    assert.deepEqual([takesPart(trainsOn, 'target'), takesPart(trainsOn, 'steps')], [true, true]);
    const epochs = buildRun({ name: 'sgd', batch: 128, seed: 0, budget: 'epochs' }).result.config;
    assert.deepEqual([takesPart(epochs, 'epochs'), takesPart(epochs, 'steps'), takesPart(epochs, 'target')], [true, false, false]);
  });

  it('names the point the final metrics were taken at', () => {
    const config = (spec: Parameters<typeof buildRun>[0]) => buildRun(spec).result.config;
    assert.equal(finalPointPhrase([config({ name: 'sgd', batch: 128, seed: 0, budget: 'epochs' })]), 'after 2 epochs');
    assert.equal(finalPointPhrase([config({ name: 'sgd', batch: 128, seed: 0, budget: 'steps' })]), `after ${MAX_STEPS} steps`);
    assert.equal(
      finalPointPhrase([config({ name: 'sgd', batch: 128, seed: 0, steps: 5 })]),
      `at the stop (target met or budget exhausted: validationAccuracy >= 0.8 within ${MAX_STEPS} steps)`,
    );
    assert.match(
      finalPointPhrase([
        config({ name: 'sgd', batch: 128, seed: 0, budget: 'epochs' }),
        config({ name: 'sgd', batch: 128, seed: 0, budget: 'steps' }),
      ]),
      /^at the end of each run's budget \("1000 steps" and "2 epochs"/,
    );
  });
});

describe('the claims under each protocol', () => {
  // Test accuracy at the target: ngd drops 3 points, sgd and smoothed-ngd miss the target at b2048.
  const test = (name: string, batch: number) => (name === 'ngd' && batch === 2048 ? 0.8 : 0.83);
  const runs = () =>
    targetRuns(
      {
        sgd: { 128: [400, 410, 420], 2048: [null, null, 30] },
        ngd: { 128: [100, 110, 105], 2048: [20, 22, 21] },
        'smoothed-ngd': { 128: [120, 118, 119], 2048: [null, null, null] },
      },
      test,
    );

  it('a protocol the results cannot support is inconclusive, with why', () => {
    const p = claimsUnder(runs());
    assert.equal(p.epochs.unsupported, 'no run has an epoch budget (a target run counts only with stopAtTarget: false)');
    assert.match(p.steps.unsupported!, /^no run has a steps budget/);
    for (const id of ['epochs', 'steps'] as const)
      assert.deepEqual(
        p[id].claims.map((c) => c.verdict),
        ['inconclusive', 'inconclusive', 'inconclusive'],
      );
    assert.equal(p.target.unsupported, null);
    assert.equal(p.target.runs, 18);
  });

  it('steps to target: a miss ranks below any accuracy, and smoothed NGD cannot recover with one', () => {
    const c = byId(claimsUnder(runs()).target.claims);
    assert.equal(c.C1.verdict, 'holds');
    assert.match(
      c.C1.reason,
      /^SGD loses the ability to meet the target \(met at the small batch, missed in most seeds at the large\) from b128 to b2048: more than m/,
    );
    assert.match(c.C1.numbers[0], /^sgd b128: 83\.20 ± 0\.20 % \(n=3\) → sgd b2048: missed the target in 2 of 3 seeds$/);
    assert.equal(c.C2.verdict, 'does not hold', "SGD's loss of the target outweighs NGD's 3 points");
    assert.match(c.C2.reason, /NGD's extra loss is negative: not more than m/);
    assert.equal(c.C3.verdict, 'does not hold');
    assert.equal(c.C3.reason, 'at b2048 smoothed NGD fails to meet the target in most seeds');
  });

  it('steps to target: inconclusive where both cells of a drop missed the target', () => {
    const missBoth = targetRuns({ sgd: { 128: [null, null], 2048: [null, null] }, ngd: { 128: [50, 50], 2048: [null, null] } });
    const c = byId(claimsUnder(missBoth).target.claims);
    assert.equal(c.C1.verdict, 'inconclusive');
    assert.match(c.C1.reason, /SGD fails to meet the target in most seeds at both b128 and b2048/);
    assert.equal(c.C2.verdict, 'inconclusive');
    assert.deepEqual(c.C1.batchSizes, { small: 128, large: 2048 });
    const bothLarge = targetRuns({ sgd: { 128: [50, 50], 2048: [null, null] }, ngd: { 128: [50, 50], 2048: [null, null] } });
    assert.match(byId(claimsUnder(bothLarge).target.claims).C2.reason, /both NGD and SGD fail to meet the target in most seeds at b2048/);
  });

  it('the target accuracy is read at the evaluation where the target was met, not at the stop', () => {
    const trainsOn = (seed: number, batch: number, name: 'sgd' | 'ngd') =>
      buildRun({
        name,
        batch,
        seed,
        steps: 10,
        stopAtTarget: false,
        curve: [
          { step: 10, trainLoss: 0.5, validation: 0.81, test: 0.7 },
          { step: MAX_STEPS, trainLoss: 0.1, validation: 0.85, test: 0.9 },
        ],
      });
    const set = [0, 1].flatMap((s) => [trainsOn(s, 128, 'sgd'), trainsOn(s, 1024, 'sgd')]);
    const p = claimsUnder(set);
    assert.match(byId(p.target.claims).C1.numbers[0], /^sgd b128: 70\.00 ± 0\.00 % \(n=2\)/);
    assert.match(byId(p.steps.claims).C1.numbers[0], /^sgd b128: 90\.00 ± 0\.00 % \(n=2\)/, 'the fixed-steps protocol reads the end');
    assert.equal(p.steps.runs, 4);
  });

  it('matched fit: judged at L*, with the level in the rule', () => {
    const p = claimsUnder(runs());
    assert.equal(p['matched-fit'].unsupported, null);
    assert.match(
      claimRules({}, p['matched-fit'].scorer!)[0],
      /^Accuracy is the test accuracy at a run's first evaluation with train loss ≤ L\* = 0\.5,/,
    );
    assert.equal(byId(p['matched-fit'].claims).C1.verdict, 'does not hold', 'every run reads 83 % at L* but ngd b2048');
  });

  it('several configurations: picked on the validation split when the runs measured it, and the rule says so', () => {
    const at = (label: string, batch: number, seed: number, validation: number, test: number) =>
      buildRun({ name: 'sgd', label, batch, seed, budget: 'steps', curve: [{ step: MAX_STEPS, trainLoss: 0.3, validation, test }] });
    // sgd-a has the better test accuracy, sgd-b the better validation accuracy.
    const set = [0, 1].flatMap((s) => [
      at('sgd-a', 128, s, 0.8, 0.9),
      at('sgd-b', 128, s, 0.85, 0.86),
      at('sgd-a', 1024, s, 0.8, 0.9),
      at('sgd-b', 1024, s, 0.85, 0.85),
    ]);
    const cells = groupRuns(set).cells;
    const c = byId(evaluateClaims(cells, {}, finalScorer(cells)));
    assert.match(c.C1.numbers[0], /^sgd-b b128: 86\.00 ± 0\.00 % \(n=2, best of 2\) → sgd-b b1024: 85\.00 ± 0\.00 % \(n=2, best of 2\)$/);
    assert.match(
      claimRules({}, finalScorer(cells))[2],
      /best mean final validation accuracy there is used: picked on the validation split \(the test split is only reported\)/,
    );
    const epochOnly = groupRuns([buildRun({ name: 'sgd', batch: 128, seed: 0, budget: 'epochs' })]).cells;
    assert.match(claimRules({}, finalScorer(epochOnly))[2], /picked on the test set/);
  });
});
