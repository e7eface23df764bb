/**
 * Puts one incoming chunk into its place in the caller's array while it arrives: adding (reduce-
 * scatter) or copying (all-gather, broadcast). Socket reads split the stream anywhere, also inside
 * an element, so a split element is carried over to the next piece; alignment is vectorKernels' concern.
 */
import { CollectiveMismatchError } from './errors.js';
import { bytesPerElement, dtypeOf, FRAME_TYPE, type FrameHeader } from './frames.js';
import type { Span } from './ringPlan.js';
import { addBytesInto } from './vectorKernels.js';

export type ChunkMode = 'add' | 'copy';

/**
 * A writer for `chunk` of `data`: call it with the chunk's payload bytes, in order, in pieces of any
 * size. In 'add' mode with `scale`, each sum is multiplied by it (a mean's last addition).
 */
export function chunkWriter(data: Float32Array | Float64Array, chunk: Span, mode: ChunkMode, scale?: number): (piece: Uint8Array) => void {
  const elementBytes = data.BYTES_PER_ELEMENT;
  const targetBytes = new Uint8Array(data.buffer, data.byteOffset + chunk.start * elementBytes, (chunk.end - chunk.start) * elementBytes);
  let written = 0; // bytes of the chunk done
  if (mode === 'copy') {
    return (piece) => {
      targetBytes.set(piece, written);
      written += piece.byteLength;
    };
  }
  const carry = new Uint8Array(8);
  let carried = 0;
  const addElements = (bytes: Uint8Array) => {
    addBytesInto(data, chunk.start + written / elementBytes, bytes, scale);
    written += bytes.byteLength;
  };
  return (piece) => {
    let at = 0;
    if (carried > 0) {
      at = Math.min(elementBytes - carried, piece.byteLength);
      carry.set(piece.subarray(0, at), carried);
      carried += at;
      if (carried < elementBytes) return;
      addElements(carry.subarray(0, elementBytes));
      carried = 0;
    }
    const whole = Math.floor((piece.byteLength - at) / elementBytes) * elementBytes;
    if (whole > 0) addElements(piece.subarray(at, at + whole));
    at += whole;
    if (at < piece.byteLength) {
      carry.set(piece.subarray(at), 0);
      carried = piece.byteLength - at;
    }
  };
}

export interface ChunkExpectation {
  tag: number;
  /** For messages: 'allreduce #12'. */
  label: string;
  /** The sender's rank. */
  from: number | undefined;
}

/** Why a data frame's header does not fit the chunk this rank expects next, or null. */
export function chunkHeaderProblem(
  header: FrameHeader,
  data: Float32Array | Float64Array,
  chunk: Span,
  expected: ChunkExpectation,
): Error | null {
  const hint = 'every rank must make the same collective calls, in the same order, with arrays of the same length and type';
  const { label, from } = expected;
  if (header.type !== FRAME_TYPE.data)
    return new CollectiveMismatchError(`${label}: rank ${from} sent frame type ${header.type} instead of data; ${hint}`);
  if (header.tag !== expected.tag >>> 0) return new CollectiveMismatchError(`${label}: rank ${from} is in call #${header.tag}; ${hint}`);
  const dtype = dtypeOf(data);
  if (header.dtype !== dtype) {
    return new CollectiveMismatchError(
      `${label}: rank ${from} sent ${bytesPerElement(header.dtype) * 8}-bit floats, this rank has ${bytesPerElement(dtype) * 8}-bit; ${hint}`,
    );
  }
  const byteLength = (chunk.end - chunk.start) * data.BYTES_PER_ELEMENT;
  if (header.payloadBytes !== byteLength) {
    return new CollectiveMismatchError(
      `${label}: rank ${from} sent a chunk of ${header.payloadBytes} bytes where ${byteLength} were expected; ${hint}`,
    );
  }
  return null;
}
