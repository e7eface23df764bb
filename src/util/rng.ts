/** Seeded randomness: every random choice in a run derives from the run's seed, so runs reproduce. */
import seedrandom from 'seedrandom';

/** Uniform [0, 1) generator for `seed`. */
export function makeRng(seed: number | string): () => number {
  return seedrandom(String(seed));
}

/** A permutation of 0..n-1 (Fisher-Yates) determined by `seed`. */
export function shuffledIndices(n: number, seed: number): Int32Array {
  const rng = makeRng(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/** A stable 31-bit seed for a sub-purpose (FNV-1a over the parts), e.g. deriveSeed(seed, 'noise', step). */
export function deriveSeed(base: number, ...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const ch of [base, ...parts].join('/')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}
