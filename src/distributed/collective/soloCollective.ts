/** A world of one: every collective is the identity, and there are no sockets. */
import type { Collective, CollectiveStats, FloatArray } from './collective.js';

export class SoloCollective implements Collective {
  readonly rank = 0;
  readonly worldSize = 1;
  readonly stats: CollectiveStats = { bytesSent: 0, seconds: 0, calls: 0 };

  async allreduceMean<T extends FloatArray>(data: T): Promise<T> {
    this.stats.calls++;
    return data;
  }

  async allreduceSum<T extends FloatArray>(data: T): Promise<T> {
    this.stats.calls++;
    return data;
  }

  async broadcast<T extends FloatArray>(data: T, root = 0): Promise<T> {
    if (root !== 0) throw new RangeError(`broadcast root ${root} is not a rank of a world of 1`);
    this.stats.calls++;
    return data;
  }

  async barrier(): Promise<void> {
    this.stats.calls++;
  }

  async close(): Promise<void> {}
}
