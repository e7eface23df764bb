/**
 * The wire format: every message is a 16-byte header and a payload.
 *
 *   offset  size  field
 *        0     4  magic 'NGDC' (0x4e474443, little-endian u32)
 *        4     1  version (1)
 *        5     1  type (FRAME_TYPE)
 *        6     1  dtype (DTYPE): element type of a data payload, 0 for JSON control payloads
 *        7     1  reserved, 0
 *        8     4  tag: the collective call's sequence number (data), 0 otherwise
 *       12     4  payload length in bytes
 *
 * A header is validated completely (including length <= the connection's limit) before any payload
 * byte is buffered for it, so a peer cannot make us allocate what it merely claims.
 */
import { FrameError } from './errors.js';

export const FRAME_MAGIC = 0x4e474443;
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 16;
/** Default limit on one frame's payload (data chunks are far smaller; see chunkBytes). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Limit before a peer has authenticated: handshakes are small JSON documents. */
export const HANDSHAKE_MAX_MESSAGE_BYTES = 64 * 1024;

export const FRAME_TYPE = {
  /** Rendezvous: a rank introduces itself to rank 0 (JSON Hello). */
  hello: 1,
  /** Rendezvous: rank 0's answer once everyone joined (JSON Welcome: the ring table). */
  welcome: 2,
  /** Rendezvous or ring: the connection is refused (JSON Refusal), then closed. */
  refuse: 3,
  /** Ring: a rank introduces itself to its successor (JSON RingHello). */
  ringHello: 4,
  /** Ring: the successor accepted (empty JSON object). */
  ringWelcome: 5,
  /** A chunk of a collective's array (binary, `dtype`, `tag`). */
  data: 6,
  /** The sender is closing its collective normally (empty JSON object). */
  bye: 7,
  /** The sender's world broke; it names the rank it lost (JSON Abort), then closes. */
  abort: 8,
  /** Rendezvous: rank 0 accepted a hello at once (empty JSON object); the welcome follows when everyone joined. */
  helloAccepted: 9,
} as const;
export type FrameType = (typeof FRAME_TYPE)[keyof typeof FRAME_TYPE];

export const DTYPE = { none: 0, float32: 1, float64: 2 } as const;
export type Dtype = (typeof DTYPE)[keyof typeof DTYPE];

const FRAME_TYPES = new Set<number>(Object.values(FRAME_TYPE));
const BYTES_PER_ELEMENT: Record<Dtype, number> = { [DTYPE.none]: 1, [DTYPE.float32]: 4, [DTYPE.float64]: 8 };

export interface FrameHeader {
  type: FrameType;
  dtype: Dtype;
  tag: number;
  payloadBytes: number;
}

export interface Frame extends FrameHeader {
  /** Exactly `payloadBytes` bytes; may be a view into a larger socket buffer. */
  payload: Buffer;
}

export function bytesPerElement(dtype: Dtype): number {
  return BYTES_PER_ELEMENT[dtype];
}

export function dtypeOf(data: Float32Array | Float64Array): Dtype {
  return data instanceof Float64Array ? DTYPE.float64 : DTYPE.float32;
}

export function encodeFrameHeader({ type, dtype, tag, payloadBytes }: FrameHeader): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(FRAME_MAGIC, 0);
  header.writeUInt8(FRAME_VERSION, 4);
  header.writeUInt8(type, 5);
  header.writeUInt8(dtype, 6);
  header.writeUInt8(0, 7);
  header.writeUInt32LE(tag >>> 0, 8);
  header.writeUInt32LE(payloadBytes, 12);
  return header;
}

/** Parses and validates a header (exactly FRAME_HEADER_BYTES bytes); throws FrameError. */
export function decodeFrameHeader(bytes: Buffer, maxPayloadBytes: number): FrameHeader {
  const magic = bytes.readUInt32LE(0);
  if (magic !== FRAME_MAGIC) throw new FrameError(`bad magic 0x${magic.toString(16).padStart(8, '0')} (not an ngd-bench collective peer)`);
  const version = bytes.readUInt8(4);
  if (version !== FRAME_VERSION) throw new FrameError(`unsupported protocol version ${version} (this build speaks ${FRAME_VERSION})`);
  const type = bytes.readUInt8(5);
  if (!FRAME_TYPES.has(type)) throw new FrameError(`unknown frame type ${type}`);
  const dtype = bytes.readUInt8(6);
  if (dtype !== DTYPE.none && dtype !== DTYPE.float32 && dtype !== DTYPE.float64) throw new FrameError(`unknown dtype ${dtype}`);
  if ((type === FRAME_TYPE.data) !== (dtype !== DTYPE.none)) throw new FrameError(`dtype ${dtype} does not fit frame type ${type}`);
  if (bytes.readUInt8(7) !== 0) throw new FrameError('reserved header byte is not 0');
  const tag = bytes.readUInt32LE(8);
  const payloadBytes = bytes.readUInt32LE(12);
  if (payloadBytes > maxPayloadBytes) throw new FrameError(`frame too large: claims ${payloadBytes} bytes, limit ${maxPayloadBytes}`);
  if (payloadBytes % bytesPerElement(dtype as Dtype) !== 0)
    throw new FrameError(`payload of ${payloadBytes} bytes is not a whole number of dtype ${dtype} elements`);
  return { type: type as FrameType, dtype: dtype as Dtype, tag, payloadBytes };
}

/** A control frame: header + UTF-8 JSON. */
export function encodeJsonFrame(type: FrameType, body: object): Buffer[] {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  return [encodeFrameHeader({ type, dtype: DTYPE.none, tag: 0, payloadBytes: payload.length }), payload];
}

/** The JSON object in a control frame's payload; throws FrameError if it is not one. */
export function decodeJsonPayload(frame: Frame): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(frame.payload.toString('utf8'));
  } catch {
    throw new FrameError(`frame type ${frame.type} does not carry valid JSON`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new FrameError(`frame type ${frame.type} does not carry a JSON object`);
  return body as Record<string, unknown>;
}
