/**
 * IDX, the MNIST file format: a big-endian header (magic 0x0000TTNN: type TT, NN dimensions, then one
 * uint32 per dimension) followed by the raw values. Only the uint8 variants MNIST-like data uses are read.
 */
import { FormatProblem } from './datasetError.js';
import { gunzipIfNeeded } from './gzip.js';

export interface IdxArray {
  dims: number[];
  /** Row-major values, a view into the (decompressed) file bytes. */
  data: Uint8Array;
}

export type IdxKind = 'images' | 'labels';

export interface IdxExpectation {
  kind: IdxKind;
  /** For labels: every value must be below this. */
  numClasses?: number;
}

const UINT8_TYPE = 0x08;
/** images: uint8, 3 dims (count, rows, cols); labels: uint8, 1 dim (count). */
const DIMS_BY_KIND: Record<IdxKind, number> = { images: 3, labels: 1 };

export function idxMagic(kind: IdxKind): number {
  return (UINT8_TYPE << 8) | DIMS_BY_KIND[kind];
}

export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** Parses and validates an IDX file (gzip or raw); any inconsistency is a FormatProblem. */
export function parseIdx(fileBytes: Uint8Array, expect: IdxExpectation): IdxArray {
  const bytes = gunzipIfNeeded(fileBytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = idxMagic(expect.kind);
  if (bytes.length < 4) {
    throw new FormatProblem(`truncated: ${bytes.length} bytes, too short for the IDX magic number`);
  }
  const found = view.getUint32(0);
  if (found !== magic) {
    throw new FormatProblem(`bad magic number ${hex32(found)} (expected ${hex32(magic)} for IDX uint8 ${expect.kind})`);
  }
  const headerSize = 4 + 4 * DIMS_BY_KIND[expect.kind];
  if (bytes.length < headerSize) {
    throw new FormatProblem(`truncated header: ${bytes.length} bytes, expected at least ${headerSize}`);
  }
  const dims = Array.from({ length: DIMS_BY_KIND[expect.kind] }, (_, i) => view.getUint32(4 + 4 * i));
  if (dims.some((d) => d === 0)) throw new FormatProblem(`declared dimensions ${dims.join('x')} include a zero`);
  const expectedSize = headerSize + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expectedSize) {
    const what = bytes.length < expectedSize ? 'truncated' : `${bytes.length - expectedSize} trailing bytes`;
    throw new FormatProblem(`${what}: ${bytes.length} bytes, expected ${expectedSize} (header ${headerSize} + ${dims.join('x')} values)`);
  }
  const data = bytes.subarray(headerSize);
  if (expect.numClasses !== undefined) checkLabels(data, expect.numClasses);
  return { dims, data };
}

/** Every label must name one of the classes. */
export function checkLabels(labels: Uint8Array, numClasses: number): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new FormatProblem(`label ${labels[i]} at index ${i} is out of range (expected 0..${numClasses - 1})`);
    }
  }
}
