/**
 * The BLAS conv kernels on their own, in GFLOP/s, so a step's time can be read against the sgemm rate
 * measured in the same run: the 2c2d/cnn conv2 layer (14x14x32 -> 5x5 'same' -> 64 channels; im2col +
 * sgemm) forward, input gradient and filter gradient, and conv1 (28x28x1 -> 32 channels; the direct
 * loops for few input channels) forward and filter gradient (its input gradient is never needed: its
 * input is the data).
 */
import { tf } from '../src/tf.js';
import { measure } from './measure.js';

export interface ConvTiming {
  layer: ConvLayerName;
  op: 'forward' | 'input gradient' | 'filter gradient';
  batchSize: number;
  meanMs: number;
  gflops: number;
}

export type ConvLayerName = 'conv1' | 'conv2';

/** The layers of cnn and 2c2d (both 5x5 'same'): input side and channels, output channels. */
export const CONV_LAYERS: Record<ConvLayerName, { side: number; cin: number; cout: number; ops: ConvTiming['op'][] }> = {
  conv1: { side: 28, cin: 1, cout: 32, ops: ['forward', 'filter gradient'] },
  conv2: { side: 14, cin: 32, cout: 64, ops: ['forward', 'input gradient', 'filter gradient'] },
};
const KERNEL = 5;

export async function timeConvKernels(layer: ConvLayerName, batchSize: number, iterations = 10): Promise<ConvTiming[]> {
  const { side: SIDE, cin: CIN, cout: COUT, ops: wanted } = CONV_LAYERS[layer];
  const flops = 2 * batchSize * SIDE * SIDE * KERNEL * KERNEL * CIN * COUT;
  const x = tf.randomNormal([batchSize, SIDE, SIDE, CIN], 0, 1, 'float32', 3) as tf.Tensor4D;
  const w = tf.randomNormal([KERNEL, KERNEL, CIN, COUT], 0, 0.05, 'float32', 4) as tf.Tensor4D;
  const dy = tf.randomNormal([batchSize, SIDE, SIDE, COUT], 0, 1, 'float32', 5) as tf.Tensor4D;
  const ops: [ConvTiming['op'], () => tf.Tensor][] = [
    ['forward', () => tf.conv2d(x, w, 1, 'same')],
    ['input gradient', () => tf.conv2dTranspose(dy, w, [batchSize, SIDE, SIDE, CIN], 1, 'same')],
    [
      'filter gradient',
      () =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x, dy },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, filterShape: [KERNEL, KERNEL, CIN, COUT] },
          ) as tf.Tensor,
    ],
  ];
  const rows: ConvTiming[] = [];
  try {
    for (const [op, run] of ops.filter(([op]) => wanted.includes(op))) {
      const m = await measure(
        `${layer} ${op} b${batchSize}`,
        async () => {
          // The CPU kernels run synchronously, so the output is complete here. It is not read back: an
          // array read out (data/dataSync) never returns to the output pool, so every call would land on
          // fresh pages (~3.5 ms/MB of page faults on this VM) that a training step, which disposes its
          // outputs unread, does not pay.
          run().dispose();
        },
        { iterations, warmupIterations: 1 },
      );
      rows.push({ layer, op, batchSize, meanMs: m.meanMs, gflops: flops / (m.meanMs * 1e6) });
    }
  } finally {
    tf.dispose([x, w, dy]);
  }
  return rows;
}
