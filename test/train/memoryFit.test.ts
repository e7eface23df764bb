/** The memory check before the first step: the measured pass, the verdict, and that checking changes no run. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resolveTrainConfig } from '../../src/config/resolveConfig.js';
import { createModel } from '../../src/models/createModel.js';
import { executeRun } from '../../src/train/executeRun.js';
import { type FitQuestion, measurePassMemory, memoryFitProblem } from '../../src/train/memoryFit.js';
import { tf, usePlainCpu } from '../helpers/setup.js';

before(usePlainCpu);

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('memoryFitProblem', () => {
  const question = (over: Partial<FitQuestion> = {}): FitQuestion => ({
    pass: { perExampleBytes: 1 * MiB, fixedBytes: 100 * MiB },
    residentBytes: 412 * MiB,
    perWorkerBatch: 8192,
    budgetBytes: 6 * GiB,
    canMicroBatch: true,
    ...over,
  });

  it('a pass that fits is no problem, whole or in micro-batches', () => {
    assert.equal(memoryFitProblem(question({ perWorkerBatch: 4096 })), null);
    assert.equal(memoryFitProblem(question({ microBatchSize: 2048 })), null);
  });

  it('a pass that does not fit names the estimate, the budget, and the largest micro-batch that fits', () => {
    const problem = memoryFitProblem(question());
    // 412 MiB + 100 MiB + 8192 MiB = 8.5 GiB; room for (6144 - 512) MiB / 1 MiB = 5632 examples.
    assert.match(
      problem ?? '',
      /a training pass of 8192 examples needs about 8\.5 GiB .* memory budget is 6\.0 GiB: set --micro-batch-size 5632 or lower/,
    );
    assert.equal(memoryFitProblem(question({ microBatchSize: 5632 })), null, 'the suggestion fits');
    assert.notEqual(memoryFitProblem(question({ microBatchSize: 5633 })), null, 'one more does not');
  });

  it('a model with batch norm is told to lower the batch; a budget below the process itself, to raise it', () => {
    assert.match(
      memoryFitProblem(question({ canMicroBatch: false })) ?? '',
      /batch norm, so lower the batch size .* to 5632 examples per process/,
    );
    assert.match(memoryFitProblem(question({ budgetBytes: 400 * MiB })) ?? '', /not even one example fits; raise --memory-budget/);
  });
});

describe('measurePassMemory', () => {
  it('grows with the rows of a pass (a conv net more per example than an mlp), the same on every call', async () => {
    const cnn = createModel({ name: 'cnn' }, [28, 28, 1], 10, 0);
    const mlp = createModel({ name: 'mlp', hiddenWidths: [32] }, [28, 28, 1], 10, 0);
    const tensors = tf.memory().numTensors;
    const a = await measurePassMemory(cnn, [28, 28, 1], true);
    const b = await measurePassMemory(cnn, [28, 28, 1], true);
    const m = await measurePassMemory(mlp, [28, 28, 1], false);
    assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind');
    assert.deepEqual(a, b);
    // cnn: conv1's output alone is 28*28*32 floats (98 KiB) per example, kept for the backward pass.
    assert.ok(a.perExampleBytes > 98 * 1024, `cnn ${a.perExampleBytes} bytes per example`);
    assert.ok(m.perExampleBytes < a.perExampleBytes / 10, `mlp ${m.perExampleBytes} vs cnn ${a.perExampleBytes}`);
    cnn.dispose();
    mlp.dispose();
  });

  it('checking memory before training leaves the run bit for bit the same', async () => {
    const config = resolveTrainConfig({
      dataset: { name: 'synthetic' },
      model: { name: 'mlp', hiddenWidths: [16] },
      optimizer: { name: 'smoothed-ngd', lr: 0.05 },
      batchSize: 64,
      epochs: 1,
      backend: 'cpu',
    });
    const plain = await executeRun(config);
    const checked = await executeRun(config, { memoryBudgetBytes: 64 * GiB });
    assert.equal(checked.status, 'ok');
    const numbers = (r: typeof plain) => (r.evaluations ?? []).map(({ trainSeconds, ...metrics }) => metrics); // timings are the machine's
    assert.deepEqual(numbers(checked), numbers(plain));
    assert.ok(numbers(plain).length > 0);
  });
});
