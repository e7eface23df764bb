/**
 * Our SGD step against PyTorch's, interleaved: each round times ours, then PyTorch's, on the same model
 * and batch, so a burst of load on this shared machine lands on both sides of a round rather than on
 * one side of the whole comparison (PyTorch's oneDNN threads suffer most: its 2c2d b128 step ranged
 * 81-279 ms across five separate bench runs). The figure is the median of the rounds' ratios.
 */
import { median } from '../src/util/stats.js';
import { runTorchSteps } from './pytorch.js';
import type { StepModel } from './trainStep.js';
import { timeTrainingStep } from './trainStep.js';

export interface InterleavedRow {
  model: StepModel;
  batchSize: number;
  /** Per round: our mean ms/step, PyTorch's mean ms/step, and ours / PyTorch. */
  rounds: { oursMs: number; torchMs: number; ratio: number }[];
  medianRatio: number;
}

export async function interleavedSgdRatios(
  cases: { model: StepModel; batchSize: number }[],
  rounds: number,
  progress: (line: string) => void,
): Promise<InterleavedRow[] | { unavailable: string }> {
  const rows: InterleavedRow[] = [];
  for (const { model, batchSize } of cases) {
    const measured: InterleavedRow['rounds'] = [];
    for (let round = 1; round <= rounds; round++) {
      progress(`  interleaved ${model} sgd b${batchSize}, round ${round}/${rounds}...\n`);
      const ours = await timeTrainingStep({ model, optimizer: 'sgd', batchSize, kernels: 'blas' });
      const torch = runTorchSteps([{ model, batchSize, iterations: 5 }]);
      if (!torch.available) return { unavailable: torch.reason };
      const torchMs = torch.rows[0].meanMs;
      measured.push({ oursMs: ours.meanMs, torchMs, ratio: ours.meanMs / torchMs });
    }
    rows.push({ model, batchSize, rounds: measured, medianRatio: median(measured.map((r) => r.ratio)) });
  }
  return rows;
}
