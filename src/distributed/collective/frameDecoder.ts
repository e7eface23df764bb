/**
 * Incremental frame parsing for a byte stream that arrives in arbitrary pieces.
 *
 * A header is validated as soon as its 16 bytes are in (including length <= the limit), before any
 * payload byte is kept for it. Data payloads are not assembled at all: their bytes are handed on,
 * in order, as views of the arriving pieces (`dataBytes`), so a consumer can add them into place while
 * the rest is still on the wire; nothing is allocated per data frame. Control payloads (small JSON)
 * are collected and delivered whole, allocated only as their bytes arrive. Every byte is touched a
 * bounded number of times, so the cost is linear in the stream.
 */
import { FrameError } from './errors.js';
import { decodeFrameHeader, FRAME_HEADER_BYTES, FRAME_TYPE, type Frame, type FrameHeader } from './frames.js';

export interface FrameHandlers {
  /** A complete control (non-data) frame. */
  frame(frame: Frame): void;
  /** A data frame's header; its payload follows in `dataBytes` calls, then `dataEnd`. */
  dataStart(header: FrameHeader): void;
  /** The next bytes of the current data payload: a view valid only during the call. */
  dataBytes(piece: Buffer): void;
  dataEnd(): void;
}

export class FrameDecoder {
  private readonly headerBytes = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  /** The control frame whose payload is being collected. */
  private control: FrameHeader | null = null;
  private controlPieces: Buffer[] = [];
  private controlFill = 0;
  private dataRemaining = 0;
  private broken: FrameError | null = null;

  /** `maxPayloadBytes` is read at every header, so a connection may raise it after authentication. */
  constructor(
    public maxPayloadBytes: number,
    private readonly handlers: FrameHandlers,
  ) {}

  /** Consumes received bytes. Throws FrameError on a bad header, and keeps throwing after. */
  push(piece: Buffer): void {
    if (this.broken) throw this.broken;
    let at = 0;
    while (at < piece.length) {
      if (this.dataRemaining > 0) {
        const count = Math.min(this.dataRemaining, piece.length - at);
        this.dataRemaining -= count;
        this.handlers.dataBytes(piece.subarray(at, at + count));
        at += count;
        if (this.dataRemaining === 0) this.handlers.dataEnd();
      } else if (this.control !== null) {
        const count = Math.min(this.control.payloadBytes - this.controlFill, piece.length - at);
        this.controlPieces.push(Buffer.from(piece.subarray(at, at + count))); // a copy: the piece may be reused
        this.controlFill += count;
        at += count;
        if (this.controlFill === this.control.payloadBytes) this.finishControl();
      } else {
        const count = Math.min(FRAME_HEADER_BYTES - this.headerFill, piece.length - at);
        piece.copy(this.headerBytes, this.headerFill, at, at + count);
        this.headerFill += count;
        at += count;
        if (this.headerFill === FRAME_HEADER_BYTES) this.startFrame();
      }
    }
  }

  private startFrame(): void {
    this.headerFill = 0;
    let header: FrameHeader;
    try {
      header = decodeFrameHeader(this.headerBytes, this.maxPayloadBytes);
    } catch (error) {
      this.broken = error instanceof FrameError ? error : new FrameError(String(error));
      throw this.broken;
    }
    if (header.type === FRAME_TYPE.data) {
      this.handlers.dataStart(header);
      this.dataRemaining = header.payloadBytes;
      if (header.payloadBytes === 0) this.handlers.dataEnd();
      return;
    }
    this.control = header;
    this.controlFill = 0;
    if (header.payloadBytes === 0) this.finishControl();
  }

  private finishControl(): void {
    const header = this.control!;
    const payload = this.controlPieces.length === 1 ? this.controlPieces[0] : Buffer.concat(this.controlPieces, header.payloadBytes);
    this.control = null;
    this.controlPieces = [];
    this.handlers.frame({ ...header, payload });
  }
}
