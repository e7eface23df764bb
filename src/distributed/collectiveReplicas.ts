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
