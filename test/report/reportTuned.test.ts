/**
 * The report of a tuned, target-budget result set: the tuning section from a fixture tuning.json,
 * loading (and rejecting) tuning.json, and `ngd-bench report` on a small crafted results directory:
 * the new sections, their tables, and the steps-to-target chart as a valid SVG.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { reportCommand } from '../../src/cli/reportCommand.js';
import { readResultsDirectory as loadResultSet, ResultsDirectoryError } from '../../src/results/resultsDirectory.js';
import { tuningSection } from '../../src/report/tuningSection.js';
import type { TuningSelection } from '../../src/results/tuningSelection.js';
import { writeJsonAtomic } from '../../src/results/writeJsonAtomic.js';
import { targetRuns } from '../fixtures/report-protocols/build.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/report-protocols/', import.meta.url));
const TUNING = join(FIXTURE, 'tuning.json');
const tmp = mkdtempSync(join(tmpdir(), 'ngd-bench-report-tuned-'));
const tuning = () => JSON.parse(readFileSync(TUNING, 'utf8')) as TuningSelection;

describe('the tuning section', () => {
  const md = tuningSection(tuning(), 'results/x', 'validationAccuracy >= 0.8').join('\n');

  it('says which split selected what, by which metric over which seeds, and that test is only reported', () => {
    assert.match(md, /^## Tuning$/m);
    assert.match(
      md,
      /`optimizer\.lr` selected per optimizer and batch size on the \*\*validation split\*\*, by fewest mean steps to the target \(validationAccuracy >= 0\.8\) over tuning seeds 100, 101;/,
    );
    assert.match(md, /The test split is only reported, never used to select\./);
    assert.match(md, /^\*\*Incomplete:\*\* some tuning runs have no result yet/m);
  });

  it('a row per optimizer and batch size: chosen value, score, ties and grid edges, every candidate', () => {
    assert.match(
      md,
      /^\| sgd \| b128 \| lr=0\.01 \| 400 \| tie: lr=0\.1; grid edge: lowest lr tried \| 0\.01: \*\*400\*\* · 0\.1: 400 · 1: missed \(best 0\.52\) \|$/m,
    );
    assert.match(
      md,
      /^\| sgd \| b512 \| lr=0\.1 \| 150\.5 \| — \| 0\.01: missed \(best 0\.71\) · 0\.1: \*\*150\.5\*\* · 1: excluded \(seed 100 diverged, seed 101 missing\) \|$/m,
    );
    assert.match(
      md,
      /^\| ngd \| b128 \| none: no candidate left: optimizer\.lr=0\.001: seed 100 failed; optimizer\.lr=0\.01: seed 100 diverged \| — \| — \|/m,
    );
  });

  it('a selection made once is shown with the batch size it was made at', () => {
    const once = { ...tuning(), perBatchSize: false, cells: tuning().cells.map((c) => ({ ...c, batchSize: null })) };
    const text = tuningSection(once, 'r', null).join('\n');
    assert.match(text, /selected per optimizer, once \(at the batch size shown\), and used at every batch size/);
    assert.match(text, /^\| sgd \| all \(at b128\) \|/m);
    assert.match(text, /by fewest mean steps to the target over tuning seeds/);
  });
});

describe('tuning.json in a results directory', () => {
  const dirWith = (name: string, tuningText: string) => {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    for (const r of targetRuns({ sgd: { 128: [10] } })) writeJsonAtomic(join(dir, r.file), r.result);
    writeFileSync(join(dir, 'tuning.json'), tuningText);
    return dir;
  };

  it('is loaded and validated, and never read as a run result', () => {
    const set = loadResultSet(dirWith('valid', readFileSync(TUNING, 'utf8')));
    assert.equal(set.runs.length, 1);
    assert.equal(set.tuning?.cells.length, 3);
  });

  it('an invalid one stops the load with a one-line error naming it', () => {
    const dir = dirWith('invalid', JSON.stringify({ ...tuning(), split: 'test' }));
    assert.throws(
      () => loadResultSet(dir),
      (e: unknown) =>
        e instanceof ResultsDirectoryError && /tuning\.json: invalid tuning selection/.test(e.message) && !e.message.includes('\n'),
    );
  });
});

describe('ngd-bench report on a tuned target-budget result set', () => {
  // SGD misses the target at b8192 in 2 of 3 seeds; NGD scales; smoothed NGD is in between.
  const grid = {
    sgd: { 128: [800, 810, 790], 1024: [120, 118, 125], 8192: [null, null, 40] },
    ngd: { 128: [200, 205, 210], 1024: [30, 31, 29], 8192: [6, 6, 7] },
    'smoothed-ngd': { 128: [220, 215, 225], 1024: [40, 41, 39], 8192: [12, 11, 12] },
  };

  async function render(): Promise<{ md: string; out: string }> {
    const dir = join(tmp, 'tuned');
    mkdirSync(dir, { recursive: true });
    for (const r of targetRuns(grid, (name, b) => (name === 'ngd' && b === 8192 ? 0.78 : 0.82)))
      writeJsonAtomic(join(dir, r.file), r.result);
    copyFileSync(TUNING, join(dir, 'tuning.json'));
    const out = join(tmp, 'reports', 'tuned.md');
    await reportCommand().exitOverride().parseAsync(['node', 'report', dir, '--out', out], { from: 'node' });
    return { md: readFileSync(out, 'utf8'), out };
  }

  it('has the protocol sections, in order, with their tables and stated rules', async () => {
    const { md } = await render();
    const headings = md.split('\n').filter((l) => /^#{2,3} /.test(l));
    const order = [
      "## The paper's claims",
      '### Claims under each protocol',
      '## Tuning',
      '## Steps to target',
      '### Critical batch size',
      '## Generalization at matched fit',
      '## Test accuracy',
    ];
    assert.deepEqual(
      headings.filter((h) => order.includes(h)),
      order,
    );
    // Steps to target: mean ± std over the seeds that met it, (met/ok).
    assert.match(md, /^\| sgd +\| 800 ± 10 \(3\/3\) +\| 121 ± 4 \(3\/3\) +\| 40 \(1\/3\) +\|$/m);
    // Training seconds to target, the same way (the fixture's runs train 100 steps a second).
    assert.match(md, /^Training time to target \(s, evaluation excluded\), the same way\./m);
    assert.match(md, /^\| sgd +\| 8\.00 ± 0\.10 \(3\/3\) +\| 1\.21 ± 0\.04 \(3\/3\) +\| 0\.40 \(1\/3\) +\|$/m);
    // Runs that stop at their target: no epoch-end test-accuracy target to time, throughput instead; curves by step.
    assert.doesNotMatch(md, /^## Time to target accuracy$/m);
    assert.match(
      md,
      /^## Throughput\n\nEvery run stopped at its validation target: its training time to the target is in \[Steps to target\]/m,
    );
    assert.match(md, /^Validation accuracy at every evaluation against optimizer steps \(log scale\), one line per ok run/m);
    // Critical batch size: SGD leaves the band at b8192 (mostly missed); NGD never does.
    assert.match(
      md,
      /^\| sgd +\| b128 \| 800 +\| b1024 1\.21×, b8192 missed \(1\/3\) +\| b1024 +\| b8192 met the target in 1 of 3 seeds +\|$/m,
    );
    assert.match(
      md,
      /^\| ngd +\| b128 \| 205 +\| b1024 1\.17×, b8192 1\.98× +\| ≥ b8192 +\| every batch size tested stays within 2× of perfect scaling \|$/m,
    );
    assert.match(
      md,
      /largest b such that every batch size from b0 up to b met the target in most seeds \(more than half\) with mean steps at most 2× perfect scaling/,
    );
    // Matched fit: L* printed, validation column present.
    assert.match(
      md,
      /L\* = \*\*0\.5\*\* \(train loss\): the largest, over the 25 ok runs that met their target, of each run's lowest recorded train loss/,
    );
    assert.match(
      md,
      /\| optimizer +\| batch \| seeds \| step +\| train loss +\| validation accuracy \(%\) \| test accuracy \(%\) \| train − test \(points\) \|/,
    );
    // Claims x protocol: the matrix, an unsupported protocol with why, and the target protocol's verdicts.
    assert.match(
      md,
      /^\| C1 SGD degrades with batch size +\| inconclusive +\| inconclusive +\| \*\*holds\*\* +\| \*\*does not hold\*\* +\|$/m,
    );
    assert.match(md, /^\| C1–C3 \| fixed epochs \| inconclusive \| no run has an epoch budget/m);
    assert.match(
      md,
      /^\* \*\*steps to target\*\* \(27 runs\): Accuracy is the test accuracy at the evaluation where a run first met validationAccuracy >= 0\.8/m,
    );
    // The final tables say what point they are at; the claims rule says where configurations are picked.
    assert.match(
      md,
      /^Final test accuracy \(%\) at the stop \(target met or budget exhausted: validationAccuracy >= 0\.8 within 1000 steps\), by global batch size/m,
    );
    assert.match(md, /picked on the validation split \(the test split is only reported\)/);
  });

  it('writes the steps- and samples-to-target charts and the curves by step as valid SVG, linked from the report', async () => {
    const { md, out } = await render();
    assert.match(readFileSync(join(tmp, 'reports', 'tuned', 'learning-curves.svg'), 'utf8'), />optimizer steps</);
    const charts = join(tmp, 'reports', 'tuned');
    for (const file of ['steps-to-target.svg', 'samples-to-target.svg', 'learning-curves.svg']) {
      assert.ok(existsSync(join(charts, file)), file);
      assert.match(md, new RegExp(`\\]\\(tuned/${file.replace('.', '\\.')}\\)`));
      const svg = readFileSync(join(charts, file), 'utf8');
      assert.equal(XMLValidator.validate(svg), true);
      const doc = new XMLParser({ ignoreAttributes: false }).parse(svg) as Record<string, unknown>;
      assert.ok(doc.svg, 'root <svg>');
      for (const name of ['sgd', 'ngd', 'smoothed-ngd']) assert.match(svg, new RegExp(`>${name}<`), `legend names ${name}`);
    }
    assert.ok(out.endsWith('tuned.md'));
  });
});
