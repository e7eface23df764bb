/**
 * Ring allreduce (sum) and ring broadcast over a rank's two ring links, in place, streamed: incoming
 * bytes are added (or copied) into the array as they arrive, and each chunk is forwarded as soon as
 * it is complete, so sending, receiving and adding overlap. Chunks are sent straight from the
 * caller's array without a copy, so each operation waits until its last write has left before
 * returning (the caller may then change the array).
 */
import { chunkConsumer, type ChunkMode, type Scratch } from './chunkConsumer.js';
import { dtypeOf, FRAME_TYPE } from './frames.js';
import type { RingLinks } from './ring.js';
import { allreduceSteps, chunkSpans, isReduceStep, segmentReceivedAt, segmentSentAt, segmentSpans, type Span } from './ringPlan.js';

export interface RingCall {
  rank: number;
  worldSize: number;
  links: RingLinks;
  /** Sequence number of this call, carried by every frame so ranks that got out of step are caught. */
  tag: number;
  /** What the call is, for error messages: 'allreduce #12'. */
  label: string;
  chunkBytes: number;
  scratch: Scratch;
}

export async function ringAllreduceSum(data: Float32Array | Float64Array, call: RingCall): Promise<void> {
  const { rank, worldSize } = call;
  const chunkElements = Math.max(1, Math.floor(call.chunkBytes / data.BYTES_PER_ELEMENT));
  const chunksOf = segmentSpans(data.length, worldSize).map((segment) => chunkSpans(segment, chunkElements));
  const steps = allreduceSteps(worldSize);

  for (const chunk of chunksOf[segmentSentAt(rank, worldSize, 0)]) sendChunk(data, chunk, call);
  for (let step = 0; step < steps; step++) {
    const mode: ChunkMode = isReduceStep(worldSize, step) ? 'add' : 'copy';
    for (const chunk of chunksOf[segmentReceivedAt(rank, worldSize, step)]) {
      await receiveChunk(data, chunk, mode, call);
      if (step + 1 < steps) sendChunk(data, chunk, call);
    }
  }
  await call.links.next.flushed();
}

/** `data` from rank `root` to every rank, forwarded chunk by chunk along the ring. */
export async function ringBroadcast(data: Float32Array | Float64Array, root: number, call: RingCall): Promise<void> {
  const { rank, worldSize } = call;
  const chunks = chunkSpans({ start: 0, end: data.length }, Math.max(1, Math.floor(call.chunkBytes / data.BYTES_PER_ELEMENT)));
  const lastInRing = (root - 1 + worldSize) % worldSize;
  for (const chunk of chunks) {
    if (rank !== root) await receiveChunk(data, chunk, 'copy', call);
    if (rank !== lastInRing) sendChunk(data, chunk, call);
  }
  await call.links.next.flushed();
}

function sendChunk(data: Float32Array | Float64Array, chunk: Span, call: RingCall): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset + chunk.start * data.BYTES_PER_ELEMENT, (chunk.end - chunk.start) * data.BYTES_PER_ELEMENT);
  call.links.next.send(FRAME_TYPE.data, dtypeOf(data), call.tag, bytes);
}

function receiveChunk(data: Float32Array | Float64Array, chunk: Span, mode: ChunkMode, call: RingCall): Promise<void> {
  const expected = { tag: call.tag, label: call.label, from: call.links.prev.peerRank };
  return call.links.prev.receiveData(chunkConsumer(data, chunk, mode, expected, call.scratch));
}
