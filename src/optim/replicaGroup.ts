/**
 * What an optimizer needs from data parallelism: a mean over the replicas' buffers, identical bits on
 * every replica. The TCP collectives implement it; a single process uses `SINGLE_REPLICA`. Defined here
 * so that optimizers depend on this contract, not on sockets.
 */
import { tf, type Tensor } from '../tf.js';

export interface ReplicaGroup {
  readonly rank: number;
  readonly worldSize: number;
  allreduceMean<T extends Float32Array | Float64Array>(data: T): Promise<T>;
  allreduceSum<T extends Float32Array | Float64Array>(data: T): Promise<T>;
}

/**
 * The group itself broke (a peer lost, a collective timed out): an infrastructure failure, worth a
 * retry, unlike a failure of the training math.
 */
export class ReplicaGroupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicaGroupError';
  }
}

export const SINGLE_REPLICA: ReplicaGroup = {
  rank: 0,
  worldSize: 1,
  allreduceMean: async (data) => data,
  allreduceSum: async (data) => data,
};

/**
 * Replaces each tensor and scalar by its mean over the replicas, in one message (one latency per
 * step). Takes ownership of `tensors`: they are disposed and new ones returned in the same order.
 */
export async function meanOverReplicas(
  group: ReplicaGroup,
  tensors: readonly Tensor[],
  scalars: readonly number[],
): Promise<{ tensors: Tensor[]; scalars: number[] }> {
  if (group.worldSize === 1) return { tensors: [...tensors], scalars: [...scalars] };
  const total = scalars.length + tensors.reduce((n, t) => n + t.size, 0);
  const buffer = new Float32Array(total);
  buffer.set(scalars, 0);
  let offset = scalars.length;
  // One read per tensor, all in flight at once: a GPU backend copies them back in one wait.
  const values = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
  for (const v of values) {
    buffer.set(v, offset);
    offset += v.length;
  }
  const shapes = tensors.map((t) => t.shape);
  for (const t of tensors) t.dispose();
  const mean = await group.allreduceMean(buffer);
  offset = scalars.length;
  const out = shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(mean.slice(offset, offset + size), shape, 'float32');
    offset += size;
    return t;
  });
  return { tensors: out, scalars: Array.from(mean.subarray(0, scalars.length)) };
}
