/**
 * Scaling of uint8 pixels. Statistics come from a 256-bin histogram (exact, one pass, no floats per
 * pixel), and conversion is a 256-entry lookup table, so normalizing 47M pixels stays cheap.
 */
import type { PixelScaling } from './dataset.js';

/** Adds the byte values of `bytes` to `hist` (256 bins). */
export function addToHistogram(hist: Float64Array, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) hist[bytes[i]]++;
}

export interface Standardization {
  /** Mean of pixel/255. */
  mean: number;
  /** Population standard deviation of pixel/255 (1 if the data is constant, to avoid dividing by 0). */
  std: number;
}

/** Mean and std of value/255 over the histogrammed bytes. */
export function statsFromHistogram(hist: Float64Array): Standardization {
  let n = 0;
  let sum = 0;
  for (let v = 0; v < 256; v++) {
    n += hist[v];
    sum += hist[v] * (v / 255);
  }
  const mean = n > 0 ? sum / n : 0;
  let sq = 0;
  for (let v = 0; v < 256; v++) sq += hist[v] * (v / 255 - mean) ** 2;
  const std = n > 0 ? Math.sqrt(sq / n) : 0;
  return { mean, std: std > 0 ? std : 1 };
}

/** table[v] = (v/255 - mean) / std: the normalized value of byte v. */
export function standardizingTable({ mean, std }: Standardization): Float32Array {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = (v / 255 - mean) / std;
  return table;
}

/** The lookup table of a scaling: standardizing with `stats`, or byte / 255 (which ignores them). */
export function scalingTable(scaling: PixelScaling, stats: Standardization): Float32Array {
  return standardizingTable(scaling === 'unit-interval' ? { mean: 0, std: 1 } : stats);
}

/** Maps bytes through a lookup table into `out` starting at `offset`. */
export function mapBytes(bytes: Uint8Array, table: Float32Array, out: Float32Array, offset = 0): void {
  for (let i = 0; i < bytes.length; i++) out[offset + i] = table[bytes[i]];
}
