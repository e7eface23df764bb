/**
 * Learning-rate schedules shared by all optimizers: a batch-size scaling rule (Goyal et al. 2017's
 * linear rule, or the square-root rule), linear warmup, then constant / step / cosine / polynomial decay.
 */
import type { ScheduleConfig } from '../config/trainConfig.js';

export function batchScale(rule: ScheduleConfig['batchScaling'], batchSize: number, referenceBatchSize: number): number {
  const ratio = batchSize / referenceBatchSize;
  return rule === 'linear' ? ratio : rule === 'sqrt' ? Math.sqrt(ratio) : 1;
}

/** Peak lr after batch scaling. */
export function peakLearningRate(baseLr: number, schedule: ScheduleConfig, batchSize: number): number {
  return baseLr * batchScale(schedule.batchScaling, batchSize, schedule.referenceBatchSize);
}

/** lr at `step` (0-based) of `totalSteps`, with `stepsPerEpoch` to place warmup and milestones. */
export function learningRateAt(peak: number, schedule: ScheduleConfig, step: number, stepsPerEpoch: number, totalSteps: number): number {
  const warmupSteps = Math.round(schedule.warmupEpochs * stepsPerEpoch);
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const floor = peak * schedule.finalLrFraction;
  const decaySteps = Math.max(totalSteps - warmupSteps, 1);
  const t = Math.min((step - warmupSteps) / decaySteps, 1);
  switch (schedule.kind) {
    case 'constant':
      return peak;
    case 'step': {
      const epoch = step / stepsPerEpoch;
      const passed = schedule.stepMilestones.filter((m) => epoch >= m).length;
      return peak * schedule.stepFactor ** passed;
    }
    case 'cosine':
      return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
    case 'polynomial':
      return floor + (peak - floor) * (1 - t) ** schedule.power;
  }
}
