/**
 * The training side's view of a TCP collective: a ReplicaGroup that counts time and payload, and
 * turns the collective's faults (a lost peer, a timeout) into ReplicaGroupError so that a run records
 * them as infrastructure failures, not as failures of the math.
 */
import type { Collective } from './collective/collective.js';
import { ReplicaGroupError, type ReplicaGroup } from '../optim/replicaGroup.js';

export interface MeteredReplicas {
  readonly group: ReplicaGroup;
  communication(): { seconds: number; payloadBytes: number };
}

export function replicasOverCollective(collective: Collective): MeteredReplicas {
  let seconds = 0;
  let payloadBytes = 0;
  const metered =
    (op: 'allreduceMean' | 'allreduceSum') =>
    async <T extends Float32Array | Float64Array>(data: T): Promise<T> => {
      const start = performance.now();
      try {
        return await collective[op](data);
      } catch (error) {
        throw new ReplicaGroupError((error as Error).message);
      } finally {
        seconds += (performance.now() - start) / 1000;
        payloadBytes += data.byteLength;
      }
    };
  return {
    group: {
      rank: collective.rank,
      worldSize: collective.worldSize,
      allreduceMean: metered('allreduceMean'),
      allreduceSum: metered('allreduceSum'),
    },
    communication: () => ({ seconds, payloadBytes }),
  };
}

/** Bytes of UTF-8 each rank may contribute to `gatherText`; longer text is cut. */
export const GATHER_TEXT_BYTES = 4096;

/**
 * Every rank's `text`, by rank, with the one reduction the collective has: each rank writes its bytes
 * into its own slot of a zeroed buffer and the sum over ranks leaves every slot filled (adding zeros to
 * a byte is exact in float32).
 */
export async function gatherText(collective: Collective, text: string): Promise<string[]> {
  const slot = GATHER_TEXT_BYTES + 1;
  const bytes = new TextEncoder().encode(text).subarray(0, GATHER_TEXT_BYTES);
  const buffer = new Float32Array(collective.worldSize * slot);
  buffer[collective.rank * slot] = bytes.length;
  buffer.set(bytes, collective.rank * slot + 1);
  const summed = await collective.allreduceSum(buffer);
  const decoder = new TextDecoder();
  return Array.from({ length: collective.worldSize }, (_, rank) => {
    const start = rank * slot;
    return decoder.decode(Uint8Array.from(summed.subarray(start + 1, start + 1 + summed[start])));
  });
}
