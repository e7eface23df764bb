/**
 * One TCP connection speaking frames: sends header + payload as one write, decodes what arrives,
 * queues control frames for `receive()` and streams data frames into `receiveData()` consumers. It
 * turns every way a connection can end into one error that names the peer, so callers have a single
 * failure path:
 *   - 'error' (ECONNRESET, EPIPE, ...), a FIN without a prior `bye` frame, a malformed frame;
 *   - an `abort` frame: the neighbour's world broke, and it says which rank it lost.
 * A `bye` frame is the peer closing normally: what was already received stays readable, and only a
 * receive that would need more fails.
 */
import type { Socket } from 'node:net';
import { FrameError, PeerLostError, RendezvousError } from './errors.js';
import { FrameDecoder } from './frameDecoder.js';
import type { ReadRelay } from './tcp.js';
import {
  decodeJsonPayload,
  encodeFrameHeader,
  encodeJsonFrame,
  FRAME_HEADER_BYTES,
  FRAME_TYPE,
  type Dtype,
  type Frame,
  type FrameHeader,
  type FrameType,
} from './frames.js';

/**
 * Takes a run of data frames, piece by piece, as they arrive. Everything happens inside the socket's
 * read callback, so a consumer can forward a finished chunk before the next one is even looked at.
 */
export interface DataConsumer {
  /** Checks a frame's header before any of its payload is delivered: the reason it is unacceptable, or null. */
  accept(header: FrameHeader): Error | null;
  /** The current frame's next payload bytes, in order; the view is only valid during the call. */
  write(piece: Buffer): void;
  /** The current frame is complete. Returns true when the consumer wants no more frames. */
  end(): boolean;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

interface ConsumerWaiter extends Waiter<void> {
  consumer: DataConsumer;
}

/** A data frame that arrived before anyone asked for it (the predecessor is ahead of us). */
interface QueuedData {
  header: FrameHeader;
  pieces: Buffer[];
  complete: boolean;
}

const CLOSE_GRACE_MS = 2_000;

export class FramedConnection {
  /** The peer's rank once its handshake succeeded; errors name it, and data frames are accepted only then. */
  peerRank: number | undefined;
  /** Bytes written (headers included). */
  bytesSent = 0;

  private readonly decoder: FrameDecoder;
  private readonly frames: Frame[] = [];
  private readonly receivers: Waiter<Frame>[] = [];
  private readonly queuedData: QueuedData[] = [];
  /** The queued entry the decoder is filling, when nobody consumes it yet. */
  private filling: QueuedData | null = null;
  /** The consumer that takes the data frames as they arrive. */
  private active: ConsumerWaiter | null = null;
  /** The frame being decoded goes to `active` (not to the queue). */
  private streaming = false;
  private readonly flushWaiters: Waiter<void>[] = [];
  private readonly lostListeners: ((error: Error) => void)[] = [];
  private unflushedWrites = 0;
  private failure: Error | null = null;
  /** The peer sent `bye`: it is leaving normally. */
  private peerLeft = false;
  private closedLocally = false;
  private readonly closed: Promise<void>;

  constructor(
    readonly socket: Socket,
    maxPayloadBytes: number,
    /** Describes the peer before its rank is known, e.g. 'connection from 127.0.0.1:51234'. */
    readonly label: string,
    /** Set when the socket was connected with `onread` (see ReadRelay): bytes come from it, not 'data' events. */
    relay?: ReadRelay,
  ) {
    this.decoder = new FrameDecoder(maxPayloadBytes, {
      frame: (frame) => this.onControlFrame(frame),
      dataStart: (header) => this.onDataStart(header),
      dataBytes: (piece) => this.onDataBytes(piece),
      dataEnd: () => this.onDataEnd(),
    });
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    if (relay) relay.attach((piece) => this.onData(piece));
    else socket.on('data', (piece: Buffer) => this.onData(piece));
    socket.on('error', (error: NodeJS.ErrnoException) => this.fail(this.lost(error.code ?? error.message)));
    socket.on('end', () => {
      if (!this.peerLeft && !this.closedLocally) this.fail(this.lost('connection closed by peer'));
      this.rejectWaiters();
    });
    socket.on('close', () => {
      if (!this.peerLeft && !this.closedLocally) this.fail(this.lost('connection closed'));
      this.rejectWaiters();
      this.settleFlushWaiters();
    });
  }

  /** Raises (or lowers) the frame size limit, e.g. once the peer has authenticated. */
  setMaxPayloadBytes(bytes: number): void {
    this.decoder.maxPayloadBytes = bytes;
  }

  /** Called once if the connection fails (not when the peer leaves with `bye`). */
  onLost(listener: (error: Error) => void): void {
    this.lostListeners.push(listener);
  }

  /**
   * Queues one frame; `payload` is referenced, not copied, until the write completes (see flushed()).
   * Throws if the connection is already unusable.
   */
  send(type: FrameType, dtype: Dtype, tag: number, payload: Uint8Array): void {
    this.assertWritable();
    const header = encodeFrameHeader({ type, dtype, tag, payloadBytes: payload.byteLength });
    this.unflushedWrites++;
    this.bytesSent += FRAME_HEADER_BYTES + payload.byteLength;
    const done = (error?: Error | null) => this.onWriteDone(error);
    if (payload.byteLength === 0) {
      this.socket.write(header, done);
      return;
    }
    // cork: header and payload leave in one writev.
    this.socket.cork();
    this.socket.write(header);
    this.socket.write(payload, done);
    this.socket.uncork();
  }

  sendJson(type: FrameType, body: object): void {
    this.assertWritable();
    const [header, payload] = encodeJsonFrame(type, body);
    this.unflushedWrites++;
    this.bytesSent += header.length + payload.length;
    this.socket.write(Buffer.concat([header, payload]), (error) => this.onWriteDone(error));
  }

  /** The next control frame. Rejects once the connection failed, or the peer left and none is queued. */
  receive(): Promise<Frame> {
    const frame = this.frames.shift();
    if (frame) return Promise.resolve(frame);
    const unusable = this.unusableError();
    if (unusable) return Promise.reject(unusable);
    return new Promise((resolve, reject) => this.receivers.push({ resolve, reject }));
  }

  /**
   * Streams data frames into `consumer` (first those that arrived early) until its `end()` returns
   * true. One consumer at a time. A header the consumer refuses, or an error it throws, breaks the
   * connection with that error.
   */
  receiveData(consumer: DataConsumer): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.active) return Promise.reject(new Error(`${this.describePeer()}: receiveData is already active`));
    try {
      for (let queued = this.queuedData.shift(); queued; queued = this.queuedData.shift()) {
        const refusal = consumer.accept(queued.header);
        if (refusal) throw refusal;
        for (const piece of queued.pieces) consumer.write(piece);
        if (!queued.complete) {
          // Still arriving: the rest streams straight into the consumer.
          this.filling = null;
          this.streaming = true;
          break;
        }
        if (consumer.end()) return Promise.resolve();
      }
    } catch (error) {
      this.fail(error as Error);
      return Promise.reject(this.failure);
    }
    const unusable = this.streaming ? null : this.unusableError();
    if (unusable) return Promise.reject(unusable);
    return new Promise((resolve, reject) => (this.active = { consumer, resolve, reject }));
  }

  /** Resolves when every frame sent so far has been handed to the kernel (its payload may be reused). */
  flushed(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.unflushedWrites === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.flushWaiters.push({ resolve, reject }));
  }

  /**
   * Marks the connection broken with `error` (pending and later receives reject with it), tells the
   * peer why with an `abort` frame (naming the rank that was lost, when that is the reason), and closes.
   */
  abort(error: Error): Promise<void> {
    this.fail(error, false);
    if (!this.socket.destroyed && this.socket.writable) {
      const report = error instanceof PeerLostError ? { lostRank: error.peerRank, reason: error.reason } : { reason: error.message };
      const [header, payload] = encodeJsonFrame(FRAME_TYPE.abort, report);
      this.socket.write(Buffer.concat([header, payload]), () => {});
    }
    return this.close();
  }

  /** Says `bye` if asked (and still healthy), ends the connection and waits until it closed (destroying it after a grace period). */
  async close(sayBye = false): Promise<void> {
    if (sayBye && !this.failure && !this.closedLocally && this.socket.writable) {
      const [header, payload] = encodeJsonFrame(FRAME_TYPE.bye, {});
      this.socket.write(Buffer.concat([header, payload]), () => {});
    }
    this.closedLocally = true;
    this.rejectWaiters();
    if (!this.socket.destroyed) this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    await this.closed;
    clearTimeout(timer);
  }

  /** Closes at once, discarding unsent data (for refused or timed-out handshakes). */
  destroy(): void {
    this.closedLocally = true;
    this.socket.destroy();
    this.rejectWaiters();
  }

  private onData(piece: Buffer): void {
    try {
      this.decoder.push(piece);
    } catch (error) {
      this.fail(this.lost(`malformed frame: ${(error as Error).message}`));
      this.socket.destroy();
    }
  }

  private onControlFrame(frame: Frame): void {
    if (frame.type === FRAME_TYPE.bye) {
      this.peerLeft = true;
      return;
    }
    if (frame.type === FRAME_TYPE.abort) {
      this.fail(this.reportedLoss(frame));
      return;
    }
    const receiver = this.receivers.shift();
    if (receiver) receiver.resolve(frame);
    else this.frames.push(frame);
  }

  private onDataStart(header: FrameHeader): void {
    if (this.peerRank === undefined) throw new FrameError('data frame before the handshake');
    if (this.failure) return;
    if (this.active) {
      this.streaming = true;
      const refusal = this.consumerCall(() => this.active!.consumer.accept(header));
      if (refusal) this.fail(refusal);
      return;
    }
    this.filling = { header, pieces: [], complete: false };
    this.queuedData.push(this.filling);
  }

  private onDataBytes(piece: Buffer): void {
    if (this.failure) return;
    if (this.streaming) this.consumerCall(() => this.active!.consumer.write(piece));
    else this.filling?.pieces.push(Buffer.from(piece)); // a copy: the piece may be a view into a reused read buffer
  }

  private onDataEnd(): void {
    if (this.failure) return;
    if (this.streaming) {
      this.streaming = false;
      const consumer = this.active!;
      if (this.consumerCall(() => consumer.consumer.end())) {
        this.active = null;
        consumer.resolve();
      }
    } else if (this.filling) {
      this.filling.complete = true;
      this.filling = null;
    }
  }

  /** Runs a consumer callback; an exception from it breaks the connection (not a malformed frame). */
  private consumerCall<T>(call: () => T): T | undefined {
    try {
      return call();
    } catch (error) {
      this.fail(error as Error);
      return undefined;
    }
  }

  /** The error an `abort` frame reports: the rank the neighbour lost, or the neighbour's own failure. */
  private reportedLoss(frame: Frame): Error {
    let lostRank: unknown;
    let reason: unknown;
    try {
      ({ lostRank, reason } = decodeJsonPayload(frame));
    } catch {
      // an abort we cannot read still breaks the connection
    }
    const why = typeof reason === 'string' ? reason.slice(0, 300) : 'unknown reason';
    if (this.peerRank === undefined) return this.lost(`aborted: ${why}`);
    if (typeof lostRank === 'number' && Number.isInteger(lostRank)) return new PeerLostError(lostRank, why, this.peerRank);
    return new PeerLostError(this.peerRank, `it failed: ${why}`);
  }

  private lost(reason: string): Error {
    if (this.peerRank !== undefined) return new PeerLostError(this.peerRank, reason);
    return new RendezvousError(`${this.label}: ${reason}`);
  }

  /** First failure wins; everything pending rejects with it. */
  private fail(error: Error, notify = true): void {
    if (this.failure) return;
    this.failure = error;
    this.queuedData.length = 0;
    this.filling = null;
    this.rejectWaiters();
    this.settleFlushWaiters();
    if (notify) for (const listener of this.lostListeners) listener(error);
  }

  private unusableError(): Error | null {
    if (this.failure) return this.failure;
    if (this.peerLeft && (this.socket.readableEnded || this.socket.destroyed)) return this.lost('it closed its collective');
    if (this.peerLeft) return null; // its last frames may still be in flight
    if (this.closedLocally) return new Error(`${this.describePeer()}: connection closed locally`);
    return null;
  }

  /** Rejects pending receives once nothing more can arrive for them. */
  private rejectWaiters(): void {
    const error = this.unusableError();
    if (!error) return;
    for (const receiver of this.receivers.splice(0)) receiver.reject(error);
    this.active?.reject(error);
    this.active = null;
    this.streaming = false;
  }

  private assertWritable(): void {
    const unusable =
      this.failure ?? (this.closedLocally || this.peerLeft || !this.socket.writable ? this.lost('connection is closed') : null);
    if (unusable) throw unusable;
  }

  private onWriteDone(error: Error | null | undefined): void {
    this.unflushedWrites--;
    if (error) this.fail(this.lost((error as NodeJS.ErrnoException).code ?? error.message));
    this.settleFlushWaiters();
  }

  private settleFlushWaiters(): void {
    if (this.failure) {
      for (const waiter of this.flushWaiters.splice(0)) waiter.reject(this.failure);
    } else if (this.unflushedWrites === 0) {
      for (const waiter of this.flushWaiters.splice(0)) waiter.resolve();
    }
  }

  private describePeer(): string {
    return this.peerRank === undefined ? this.label : `rank ${this.peerRank}`;
  }
}
