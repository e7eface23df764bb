/**
 * The collectives of a world of two or more ranks, over its ring links. Calls run one at a time in
 * the order they were made (every rank must make the same calls in the same order). Any failure (a
 * peer lost, a call timed out, ranks out of step) breaks the world for good: the neighbours are told
 * which rank was lost (`abort` frame), and every pending and later call rejects with that first error.
 */
import type { Collective, CollectiveStats, FloatArray } from './collective.js';
import { formatSeconds } from './deadline.js';
import { CollectiveTimeoutError } from './errors.js';
import type { RingLinks } from './ring.js';
import { ringAllreduceSum, ringBroadcast, type RingCall } from './ringAllreduce.js';
import { meanScale } from './vectorKernels.js';

export interface SocketCollectiveOptions {
  /** Per call. */
  timeoutMs: number;
  chunkBytes: number;
}

export class SocketCollective implements Collective {
  readonly stats: CollectiveStats = { bytesSent: 0, seconds: 0, calls: 0 };
  private failure: Error | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private callsStarted = 0;
  private busy = false;
  private closing: Promise<void> | null = null;

  constructor(
    readonly rank: number,
    readonly worldSize: number,
    private readonly links: RingLinks,
    private readonly options: SocketCollectiveOptions,
  ) {
    links.prev.onLost((error) => this.fail(error));
    links.next.onLost((error) => this.fail(error));
  }

  allreduceSum<T extends FloatArray>(data: T): Promise<T> {
    return this.run('allreduce', async (call) => {
      await ringAllreduceSum(data, call);
      return data;
    });
  }

  allreduceMean<T extends FloatArray>(data: T): Promise<T> {
    return this.run('allreduce', async (call) => {
      await ringAllreduceSum(data, call, meanScale(data, this.worldSize));
      return data;
    });
  }

  broadcast<T extends FloatArray>(data: T, root = 0): Promise<T> {
    if (!Number.isInteger(root) || root < 0 || root >= this.worldSize) {
      return Promise.reject(new RangeError(`broadcast root ${root} is not a rank of a world of ${this.worldSize}`));
    }
    return this.run('broadcast', async (call) => {
      await ringBroadcast(data, root, call);
      return data;
    });
  }

  /** A one-element allreduce: no rank can finish it before every rank has started it. */
  async barrier(): Promise<void> {
    await this.run('barrier', (call) => ringAllreduceSum(new Float64Array(1), call));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.busy) this.fail(new Error(`rank ${this.rank} closed its collective during a call`));
      await Promise.all([this.links.prev.close(true), this.links.next.close(true)]);
      this.failure ??= new Error(`the collective of rank ${this.rank} is closed`);
    })();
    return this.closing;
  }

  private run<R>(name: string, work: (call: RingCall) => Promise<R>): Promise<R> {
    const result = this.queue.then(() => this.execute(name, work));
    this.queue = result.catch(() => {});
    return result;
  }

  private async execute<R>(name: string, work: (call: RingCall) => Promise<R>): Promise<R> {
    if (this.failure) throw this.failure;
    if (this.closing) throw new Error(`the collective of rank ${this.rank} is closed`);
    const tag = this.callsStarted++;
    const call: RingCall = {
      rank: this.rank,
      worldSize: this.worldSize,
      links: this.links,
      tag,
      label: `${name} #${tag}`,
      chunkBytes: this.options.chunkBytes,
    };
    const started = performance.now();
    const timer = setTimeout(() => {
      this.fail(
        new CollectiveTimeoutError(
          `${call.label} on rank ${this.rank} timed out after ${formatSeconds(this.options.timeoutMs)} (a rank is stuck or never made the call)`,
        ),
      );
    }, this.options.timeoutMs);
    this.busy = true;
    try {
      return await work(call);
    } catch (error) {
      this.fail(error as Error);
      throw this.failure ?? error;
    } finally {
      clearTimeout(timer);
      this.busy = false;
      this.stats.calls++;
      this.stats.seconds += (performance.now() - started) / 1000;
      this.stats.bytesSent = this.links.next.bytesSent;
    }
  }

  /** First failure wins: both links are aborted with it, so whatever a call is waiting on rejects. */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    void this.links.prev.abort(error);
    void this.links.next.abort(error);
  }
}
