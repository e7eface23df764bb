/**
 * Writes one incoming chunk into its place in the caller's array while it arrives: adding (reduce-
 * scatter) or copying (all-gather, broadcast). Socket pieces split the stream anywhere, also inside
 * an element and at offsets a Float32Array/Float64Array view cannot start at, so a split element is
 * carried over to the next piece and a misaligned piece is first copied into reusable scratch space.
 */
import { CollectiveMismatchError } from './errors.js';
import type { DataConsumer } from './framedConnection.js';
import { bytesPerElement, dtypeOf, FRAME_TYPE, type FrameHeader } from './frames.js';
import type { Span } from './ringPlan.js';

export type ChunkMode = 'add' | 'copy';

export interface ChunkExpectation {
  tag: number;
  /** For messages: 'allreduce #12'. */
  label: string;
  /** The sender's rank. */
  from: number | undefined;
}

/** Reusable scratch bytes, 8-byte aligned. */
export class Scratch {
  private bytes = new Uint8Array(64 * 1024);

  get(byteLength: number): Uint8Array {
    if (this.bytes.byteLength < byteLength) this.bytes = new Uint8Array(Math.max(byteLength, 2 * this.bytes.byteLength));
    return this.bytes;
  }
}

export function chunkConsumer(data: Float32Array | Float64Array, chunk: Span, mode: ChunkMode, expected: ChunkExpectation, scratch: Scratch): DataConsumer {
  const elementBytes = data.BYTES_PER_ELEMENT;
  const byteLength = (chunk.end - chunk.start) * elementBytes;
  const targetBytes = new Uint8Array(data.buffer, data.byteOffset + chunk.start * elementBytes, byteLength);
  const add = data instanceof Float64Array ? addFloat64 : addFloat32;
  const carry = new Uint8Array(8);
  let carried = 0;
  let written = 0; // bytes of the chunk done

  const addElements = (bytes: Uint8Array) => {
    let source = bytes;
    if (bytes.byteOffset % elementBytes !== 0) {
      source = scratch.get(bytes.byteLength).subarray(0, bytes.byteLength);
      source.set(bytes);
    }
    add(data, chunk.start + written / elementBytes, source.buffer, source.byteOffset, source.byteLength / elementBytes);
    written += bytes.byteLength;
  };

  return {
    accept: (header) => checkHeader(header, data, byteLength, expected),
    write(piece) {
      if (mode === 'copy') {
        targetBytes.set(piece, written);
        written += piece.byteLength;
        return;
      }
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
    },
  };
}

function checkHeader(header: FrameHeader, data: Float32Array | Float64Array, byteLength: number, expected: ChunkExpectation): Error | null {
  const hint = 'every rank must make the same collective calls, in the same order, with arrays of the same length and type';
  const { label, from } = expected;
  if (header.type !== FRAME_TYPE.data) return new CollectiveMismatchError(`${label}: rank ${from} sent frame type ${header.type} instead of data; ${hint}`);
  if (header.tag !== expected.tag >>> 0) return new CollectiveMismatchError(`${label}: rank ${from} is in call #${header.tag}; ${hint}`);
  const dtype = dtypeOf(data);
  if (header.dtype !== dtype) {
    return new CollectiveMismatchError(`${label}: rank ${from} sent ${bytesPerElement(header.dtype) * 8}-bit floats, this rank has ${bytesPerElement(dtype) * 8}-bit; ${hint}`);
  }
  if (header.payloadBytes !== byteLength) {
    return new CollectiveMismatchError(`${label}: rank ${from} sent a chunk of ${header.payloadBytes} bytes where ${byteLength} were expected; ${hint}`);
  }
  return null;
}

// One loop per element type keeps each monomorphic for the JIT. `+=` on a Float32Array rounds every
// sum to float32: the same bits on every machine.
function addFloat32(target: Float32Array | Float64Array, offset: number, buffer: ArrayBufferLike, byteOffset: number, count: number): void {
  const out = target as Float32Array;
  const src = new Float32Array(buffer, byteOffset, count);
  for (let i = 0; i < count; i++) out[offset + i] += src[i];
}

function addFloat64(target: Float32Array | Float64Array, offset: number, buffer: ArrayBufferLike, byteOffset: number, count: number): void {
  const out = target as Float64Array;
  const src = new Float64Array(buffer, byteOffset, count);
  for (let i = 0; i < count; i++) out[offset + i] += src[i];
}
