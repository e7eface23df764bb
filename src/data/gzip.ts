/** Transparent gzip: distributions ship the dataset files either compressed or raw. */
import { gunzipSync } from 'node:zlib';
import { FormatProblem } from './datasetError.js';

/** gzip streams start with the two magic bytes 0x1f 0x8b (RFC 1952). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The decompressed bytes if `bytes` is gzip, else `bytes` unchanged. */
export function gunzipIfNeeded(bytes: Uint8Array): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (error) {
    throw new FormatProblem(`corrupt gzip stream (${(error as Error).message})`);
  }
}
