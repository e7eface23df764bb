/**
 * Ring allreduce (sum) and ring broadcast over a rank's two ring links, in place and streamed: the
 * incoming chunks are processed inside the socket's read callback, each byte added (or copied) into
 * the array as it arrives and each chunk forwarded to the successor the moment it is complete, so
 * sending, receiving and adding overlap. Chunks are sent straight from the caller's array without a
 * copy, so an operation waits until its last write has left before returning (the caller may then
 * change the array).
 */
import { chunkHeaderProblem, chunkWriter, type ChunkMode } from './chunkWriter.js';
import type { DataConsumer } from './framedConnection.js';
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
}

/** One chunk this rank receives, in arrival order, and what it does with it. */
interface IncomingChunk {
  chunk: Span;
  mode: ChunkMode;
  /** Multiply each sum by this as it is formed (a mean's 1/N, on the rank that completes the segment). */
  scale?: number;
  /** Send the finished chunk on to the successor. */
  forward: boolean;
}

/**
 * Sums `data` over the ranks, in place. With `scale` (a mean's 1/N), each segment is scaled by the one
 * rank that completes its sum, in the same pass as its last addition, before the all-gather spreads
 * it: the mean costs nothing extra, and every rank still gets the same bits.
 */
export async function ringAllreduceSum(data: Float32Array | Float64Array, call: RingCall, scale?: number): Promise<void> {
  const { rank, worldSize } = call;
  const chunksOf = segmentSpans(data.length, worldSize).map((segment) => chunkSpans(segment, chunkElements(data, call)));
  const steps = allreduceSteps(worldSize);
  const lastReduceStep = worldSize - 2;
  const incoming: IncomingChunk[] = [];
  for (let step = 0; step < steps; step++) {
    const mode: ChunkMode = isReduceStep(worldSize, step) ? 'add' : 'copy';
    for (const chunk of chunksOf[segmentReceivedAt(rank, worldSize, step)]) {
      incoming.push({ chunk, mode, forward: step + 1 < steps, scale: step === lastReduceStep ? scale : undefined });
    }
  }
  for (const chunk of chunksOf[segmentSentAt(rank, worldSize, 0)]) sendChunk(data, chunk, call);
  await receiveAll(data, incoming, call);
  await call.links.next.flushed();
}

/** `data` from rank `root` to every rank, forwarded chunk by chunk along the ring. */
export async function ringBroadcast(data: Float32Array | Float64Array, root: number, call: RingCall): Promise<void> {
  const { rank, worldSize } = call;
  const chunks = chunkSpans({ start: 0, end: data.length }, chunkElements(data, call));
  const forward = rank !== (root - 1 + worldSize) % worldSize; // the last rank of the ring keeps it
  if (rank === root) {
    for (const chunk of chunks) sendChunk(data, chunk, call);
  } else {
    await receiveAll(
      data,
      chunks.map((chunk) => ({ chunk, mode: 'copy' as const, forward })),
      call,
    );
  }
  await call.links.next.flushed();
}

function chunkElements(data: Float32Array | Float64Array, call: RingCall): number {
  return Math.max(1, Math.floor(call.chunkBytes / data.BYTES_PER_ELEMENT));
}

function sendChunk(data: Float32Array | Float64Array, chunk: Span, call: RingCall): void {
  const bytes = new Uint8Array(
    data.buffer,
    data.byteOffset + chunk.start * data.BYTES_PER_ELEMENT,
    (chunk.end - chunk.start) * data.BYTES_PER_ELEMENT,
  );
  call.links.next.send(FRAME_TYPE.data, dtypeOf(data), call.tag, bytes);
}

/** Receives `incoming` in order from the predecessor, writing (and forwarding) each chunk as it completes. */
function receiveAll(data: Float32Array | Float64Array, incoming: readonly IncomingChunk[], call: RingCall): Promise<void> {
  if (incoming.length === 0) return Promise.resolve();
  const expected = { tag: call.tag, label: call.label, from: call.links.prev.peerRank };
  let index = 0;
  const writerFor = ({ chunk, mode, scale }: IncomingChunk) => chunkWriter(data, chunk, mode, scale);
  let write = writerFor(incoming[0]);
  const consumer: DataConsumer = {
    accept: (header) => chunkHeaderProblem(header, data, incoming[index].chunk, expected),
    write: (piece) => write(piece),
    end: () => {
      const done = incoming[index];
      if (done.forward) sendChunk(data, done.chunk, call);
      index++;
      if (index === incoming.length) return true;
      write = writerFor(incoming[index]);
      return false;
    },
  };
  return call.links.prev.receiveData(consumer);
}
