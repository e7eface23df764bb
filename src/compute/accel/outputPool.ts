/**
 * Output arrays of the BLAS kernels, recycled when tfjs disposes their tensors. A disposed tensor's
 * array is freed only when V8 collects it, so each step's new tensors land on fresh pages, and the
 * first touch of a fresh page is a fault: ~3.5 ms per MB on a Firecracker microVM (a 1024-image conv1
 * activation, 103 MB: 0.35 s to fill, 4 ms to refill). Reusing the arrays of disposed outputs makes a
 * step's memory warm. Values are unchanged: a recycled array is zeroed before it is handed out again.
 *
 * Only arrays a kernel here allocated are ever recycled, and only while nothing outside the backend
 * can see them: an array read out (tfjs's dataSync/data hand out the backing array itself), stored
 * under a second tensor, or aliased by a view (slice's subarray) is never recycled.
 *
 * The free arrays are bounded (a quarter of memory, at most 8 GiB): a 2c2d SGD step at batch 2048
 * hands out 2 GB of outputs, so a fixed 1 GiB left half of them on fresh pages (7 s instead of 3 s per
 * step). When the bound is reached, arrays of sizes nobody has asked for lately (an evaluation's
 * batch size, a finished bench case) make room; arrays in use all along are never evicted for one
 * another, so a working set larger than the bound keeps a fixed part of itself warm, never thrashes.
 */
import os from 'node:os';

/** Smaller arrays are cheap to fault in; they are allocated plainly. */
const MIN_ELEMENTS = 1 << 16;

/** The default bound on free arrays (bytes): a quarter of the memory this process may use, at most 8 GiB. */
function defaultMaxFreeBytes(): number {
  const constrained = process.constrainedMemory?.() || Number.POSITIVE_INFINITY;
  return Math.min(2 ** 33, Math.floor(Math.min(os.totalmem(), constrained) / 4));
}

type State = 'handed-out' | 'stored' | 'exposed' | 'free';

interface BackendHooks {
  data: { get(dataId: object): { values?: unknown } | undefined; has(dataId: object): boolean };
  write(values: unknown, shape: number[], dtype: string): object;
  move(dataId: object, values: unknown, shape: number[], dtype: string, refCount: number): void;
  readSync(dataId: object): unknown;
  disposeData(dataId: object, force?: boolean): boolean;
}

export class OutputPool {
  private readonly state = new WeakMap<Float32Array, State>();
  /** The pool's array that owns an ArrayBuffer, to catch views on it. */
  private readonly owners = new WeakMap<ArrayBufferLike, Float32Array>();
  private readonly free = new Map<number, Float32Array[]>();
  private freeBytes = 0;
  private readonly hooked = new WeakSet<object>();
  /** Bytes of pooled outputs handed out so far: the clock that ages sizes. */
  private takenBytes = 0;
  /** `takenBytes` when each size was last asked for. */
  private readonly lastTaken = new Map<number, number>();

  constructor(private maxFreeBytes = defaultMaxFreeBytes()) {}

  /** Sets the bound on free arrays (bytes), evicting what no longer fits; returns the previous bound. */
  limitFreeBytes(bytes: number): number {
    const previous = this.maxFreeBytes;
    this.maxFreeBytes = bytes;
    while (this.freeBytes > bytes && this.evictOne(false));
    return previous;
  }

  /** A zeroed float32 array of `length` elements for a kernel's output. */
  take(length: number): Float32Array {
    if (length < MIN_ELEMENTS) return new Float32Array(length);
    this.takenBytes += 4 * length;
    this.lastTaken.set(length, this.takenBytes);
    const recycled = this.free.get(length)?.pop();
    if (recycled) {
      this.freeBytes -= recycled.byteLength;
      recycled.fill(0);
      this.state.set(recycled, 'handed-out');
      return recycled;
    }
    const fresh = new Float32Array(length);
    this.state.set(fresh, 'handed-out');
    this.owners.set(fresh.buffer, fresh);
    return fresh;
  }

  /** Free arrays held now (for tests and diagnostics). */
  get freeArrays(): number {
    let n = 0;
    for (const list of this.free.values()) n += list.length;
    return n;
  }

  /** Drops every free array (disable / tests). */
  clear(): void {
    this.free.clear();
    this.freeBytes = 0;
  }

  /** An array a tensor now holds: the first time it is stored; any view on it or second use exposes it. */
  private stored(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const state = this.state.get(values);
    if (state === undefined) {
      const owner = this.owners.get(values.buffer);
      if (owner) this.state.set(owner, 'exposed');
      return;
    }
    this.state.set(values, state === 'handed-out' ? 'stored' : 'exposed');
  }

  private exposed(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const owner = this.state.has(values) ? values : this.owners.get(values.buffer);
    if (owner) this.state.set(owner, 'exposed');
  }

  /**
   * Drops one free array of the size asked for longest ago; with `staleOnly`, only of a size not asked
   * for while twice the bound's bytes were handed out. False when there is none.
   */
  private evictOne(staleOnly: boolean): boolean {
    let oldest: number | undefined;
    for (const [length, list] of this.free) {
      if (list.length === 0) continue;
      const at = this.lastTaken.get(length) ?? 0;
      if (staleOnly && this.takenBytes - at <= 2 * this.maxFreeBytes) continue;
      if (oldest === undefined || at < (this.lastTaken.get(oldest) ?? 0)) oldest = length;
    }
    if (oldest === undefined) return false;
    const list = this.free.get(oldest) as Float32Array[];
    const dropped = list.pop() as Float32Array;
    if (list.length === 0) this.free.delete(oldest);
    this.freeBytes -= dropped.byteLength;
    this.state.set(dropped, 'exposed'); // left to the garbage collector
    return true;
  }

  private recycle(values: unknown): void {
    if (!(values instanceof Float32Array) || this.state.get(values) !== 'stored') return;
    while (this.freeBytes + values.byteLength > this.maxFreeBytes && this.evictOne(true));
    if (this.freeBytes + values.byteLength > this.maxFreeBytes) {
      this.state.set(values, 'exposed'); // left to the garbage collector
      return;
    }
    this.state.set(values, 'free');
    const list = this.free.get(values.length) ?? [];
    list.push(values);
    this.free.set(values.length, list);
    this.freeBytes += values.byteLength;
  }

  /** Watches a backend's own entry points (where arrays are stored, read out and freed); idempotent. */
  attach(backend: object): void {
    if (this.hooked.has(backend)) return;
    this.hooked.add(backend);
    const b = backend as BackendHooks;
    const { write, move, readSync, disposeData } = b;
    b.write = (values, shape, dtype) => {
      this.stored(values);
      return write.call(b, values, shape, dtype);
    };
    b.move = (dataId, values, shape, dtype, refCount) => {
      this.exposed(values); // moved in from another backend: someone else has seen it
      move.call(b, dataId, values, shape, dtype, refCount);
    };
    b.readSync = (dataId) => {
      const values = readSync.call(b, dataId);
      this.exposed(values);
      return values;
    };
    b.disposeData = (dataId, force) => {
      const values = b.data.get(dataId)?.values;
      const result = disposeData.call(b, dataId, force);
      if (values !== undefined && !b.data.has(dataId)) this.recycle(values);
      return result;
    };
  }
}

/** The one pool of the BLAS kernels. */
export const outputPool = new OutputPool();
