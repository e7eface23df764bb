/**
 * What data-parallel training needs from its peers. Structurally a superset of the optimizers'
 * `ReplicaGroup` (src/optim/replicaGroup.ts), so a Collective can be passed where one is expected.
 */

export interface CollectiveStats {
  /** Bytes this rank wrote to its ring successor (frame headers included). */
  bytesSent: number;
  /** Wall-clock seconds spent inside collective calls. */
  seconds: number;
  calls: number;
}

export type FloatArray = Float32Array | Float64Array;

export interface Collective {
  readonly rank: number;
  readonly worldSize: number;
  /**
   * Replaces `data` IN PLACE by the element-wise mean over all ranks and returns it: the sum (below)
   * times 1/N (for float32, 1/N rounded to float32; exact when N is a power of two). Every rank ends
   * with bit-identical values. All ranks must call with arrays of the same length and type.
   */
  allreduceMean<T extends FloatArray>(data: T): Promise<T>;
  /** As allreduceMean, the sum. Sums are formed in the array's own precision (float32 for Float32Array). */
  allreduceSum<T extends FloatArray>(data: T): Promise<T>;
  /** Replaces `data` in place by rank `root`'s (default 0). */
  broadcast<T extends FloatArray>(data: T, root?: number): Promise<T>;
  /** Resolves once every rank has entered the barrier. */
  barrier(): Promise<void>;
  readonly stats: Readonly<CollectiveStats>;
  /** Says goodbye to the neighbours and closes every socket; safe to call twice. */
  close(): Promise<void>;
}
