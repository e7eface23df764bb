/**
 * Proof that data-parallel replicas hold bit-identical weights: each hashes its parameters' bytes and
 * the group compares the hashes with two sums. For 16-bit words w_r of the hash on N replicas,
 *   N * sum(w_r^2) == (sum w_r)^2   iff all w_r are equal   (Cauchy-Schwarz; exact in float64).
 */
import { createHash } from 'node:crypto';
import type { ReplicaGroup } from '../optim/replicaGroup.js';
import type { Variable } from '../tf.js';

export class ReplicaMismatchError extends Error {
  constructor(step: number) {
    super(`data-parallel replicas hold different weights after step ${step} (hashes differ across ranks)`);
    this.name = 'ReplicaMismatchError';
  }
}

/** sha256 over every parameter's float32 bytes, in parameter order. */
export async function weightsDigest(params: readonly Variable[]): Promise<Buffer> {
  const hash = createHash('sha256');
  for (const p of params) {
    const values = (await p.data()) as Float32Array;
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest();
}

/** Every rank calls this after the same step; rejects on every rank if any two differ. */
export async function assertReplicasAgree(params: readonly Variable[], replicas: ReplicaGroup, step: number): Promise<void> {
  if (replicas.worldSize === 1) return;
  const digest = await weightsDigest(params);
  const words = digest.length / 2;
  const sums = new Float64Array(2 * words);
  for (let i = 0; i < words; i++) {
    const w = digest.readUInt16BE(2 * i);
    sums[i] = w;
    sums[words + i] = w * w;
  }
  const total = await replicas.allreduceSum(sums);
  for (let i = 0; i < words; i++) {
    if (replicas.worldSize * total[words + i] !== total[i] * total[i]) throw new ReplicaMismatchError(step);
  }
}
