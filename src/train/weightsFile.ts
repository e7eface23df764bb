/** Final weights as a small JSON file (name, shape, float32 bytes in base64): exact, diffable, portable. */
import { readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../results/writeJsonAtomic.js';
import type { Variable } from '../tf.js';

export interface SavedParam {
  name: string;
  shape: number[];
  values: Float32Array;
}

export async function writeWeightsFile(path: string, params: readonly Variable[]): Promise<void> {
  const all = await Promise.all(params.map((p) => p.data() as Promise<Float32Array>));
  writeJsonAtomic(path, {
    format: 'ngd-bench-weights/1',
    params: params.map((p, i) => {
      const values = all[i];
      return { name: p.name, shape: p.shape, float32: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64') };
    }),
  });
}

export function readWeightsFile(path: string): SavedParam[] {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { format?: string; params?: { name: string; shape: number[]; float32: string }[] };
  if (doc.format !== 'ngd-bench-weights/1' || !Array.isArray(doc.params)) throw new Error(`${path}: not an ngd-bench weights file`);
  return doc.params.map((p) => {
    const bytes = Buffer.from(p.float32, 'base64');
    return {
      name: p.name,
      shape: p.shape,
      values: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
    };
  });
}
