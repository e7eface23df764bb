/**
 * Which part of the array moves at each step of a ring allreduce. The array is cut into N segments
 * (N = world size). Reduce-scatter, steps 0..N-2: rank r sends segment (r - s) mod N to r+1 and adds
 * the segment (r - s - 1) mod N it receives from r-1 into its own. After it, rank r holds the complete
 * sum of segment (r + 1) mod N. All-gather, steps N-1..2N-3: the complete segments travel once more
 * around the ring, overwriting. The segment received at step s is always the one sent at step s + 1,
 * which is what lets every chunk be forwarded the moment it has been processed (pipelining).
 *
 * Determinism: segment k is summed in one fixed order, along the ring starting at rank k
 * (x_k + x_{k+1}, then + x_{k+2}, ...), by exactly one rank per addition, and the all-gather copies
 * those bits; so every rank ends with bit-identical results, and the same inputs give the same
 * bits on every run.
 */

/** Element range [start, end). */
export interface Span {
  start: number;
  end: number;
}

/** N contiguous segments covering [0, length); the first (length mod N) are one element longer. */
export function segmentSpans(length: number, worldSize: number): Span[] {
  const base = Math.floor(length / worldSize);
  const longer = length % worldSize;
  const spans: Span[] = [];
  let start = 0;
  for (let k = 0; k < worldSize; k++) {
    const end = start + base + (k < longer ? 1 : 0);
    spans.push({ start, end });
    start = end;
  }
  return spans;
}

/** `span` cut into pieces of at most `chunkElements`; an empty span has no chunks. */
export function chunkSpans(span: Span, chunkElements: number): Span[] {
  const chunks: Span[] = [];
  for (let start = span.start; start < span.end; start += chunkElements)
    chunks.push({ start, end: Math.min(start + chunkElements, span.end) });
  return chunks;
}

export function allreduceSteps(worldSize: number): number {
  return 2 * (worldSize - 1);
}

/** The segment rank `rank` sends at `step` (0 <= step <= 2N-2; step 2N-2 is only used as "received at 2N-3"). */
export function segmentSentAt(rank: number, worldSize: number, step: number): number {
  const offset = step < worldSize - 1 ? -step : 1 - (step - (worldSize - 1));
  return (((rank + offset) % worldSize) + worldSize) % worldSize;
}

export function segmentReceivedAt(rank: number, worldSize: number, step: number): number {
  return segmentSentAt(rank, worldSize, step + 1);
}

/** Reduce-scatter steps add what arrives; all-gather steps copy it. */
export function isReduceStep(worldSize: number, step: number): boolean {
  return step < worldSize - 1;
}
