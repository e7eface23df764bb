/**
 * The compute limit step times sit next to: an N x N float32 matMul on the active backend, timed with
 * its host read (a GPU backend only finishes when the result is read), so a step's FLOP rate can be
 * read against it.
 */
import type { ProbeReport } from '../results/probeReport.js';
import { tf } from '../tf.js';
import { timeCalls } from './figure.js';

export async function probeMatmul(size: number, iterations: number): Promise<NonNullable<ProbeReport['matmul']>> {
  const a = tf.randomUniform([size, size], -1, 1, 'float32', 1);
  const b = tf.randomUniform([size, size], -1, 1, 'float32', 2);
  try {
    const time = await timeCalls(
      `matmul ${size}`,
      async () => {
        const c = tf.matMul(a, b);
        await c.data();
        c.dispose();
      },
      iterations,
      2,
    );
    const flops = 2 * size ** 3;
    return { size, flops, gflops: flops / (time.medianMs * 1e6), time };
  } finally {
    tf.dispose([a, b]);
  }
}
