/**
 * Joining the world: rendezvous at rank 0 (who is where), then the ring (who talks to whom). In a
 * world of one nothing is opened. Every rank must pass the same `chunkBytes` (checked at rendezvous).
 */
import type { Collective } from './collective.js';
import { WorldConfigError } from './errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './frames.js';
import { isWildcardAddress, type RingEndpoint } from './handshake.js';
import { hostRendezvous, joinRendezvous } from './rendezvous.js';
import { connectRing, RingListener } from './ring.js';
import { SocketCollective } from './socketCollective.js';
import { SoloCollective } from './soloCollective.js';
import { collectiveTimeoutFromEnv, type WorldInfo } from './worldInfo.js';

export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface JoinOptions {
  /** Budget for joining and, separately, for each collective call (default: NGD_BENCH_COLLECTIVE_TIMEOUT_MS or 300 s). */
  timeoutMs?: number;
  /** Largest frame accepted from an authenticated neighbour (default 64 MiB); must be >= chunkBytes. */
  maxMessageBytes?: number;
  /** Pipelining granularity of the ring (default 1 MiB); the same on every rank. */
  chunkBytes?: number;
  /** Where refused or dropped connections are reported (default: stderr). */
  warn?: (line: string) => void;
  /** How long rank 0 may take to acknowledge a hello (default 10 s; see rendezvous.ts). */
  ackTimeoutMs?: number;
}

export async function joinWorld(world: WorldInfo, options: JoinOptions = {}): Promise<Collective> {
  checkWorld(world);
  const timeoutMs = options.timeoutMs ?? collectiveTimeoutFromEnv();
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const chunkBytes = options.chunkBytes ?? Math.min(DEFAULT_CHUNK_BYTES, maxMessageBytes);
  checkOptions(timeoutMs, maxMessageBytes, chunkBytes);
  if (world.worldSize === 1) return new SoloCollective();
  const warn = options.warn ?? ((line: string) => process.stderr.write(`[rank ${world.rank}] ${line}\n`));
  const deadline = Date.now() + timeoutMs;

  const listener = await RingListener.open(world.bindAddr);
  try {
    const own: RingEndpoint = { host: advertisedHost(world), port: listener.port };
    const rendezvousOptions = { deadline, timeoutMs, chunkBytes, warn, ackTimeoutMs: options.ackTimeoutMs };
    const table =
      world.rank === 0 ? await hostRendezvous(world, own, rendezvousOptions) : await joinRendezvous(world, own, rendezvousOptions);
    const links = await connectRing(world, table, listener, { deadline, timeoutMs, maxMessageBytes, warn });
    return new SocketCollective(world.rank, world.worldSize, links, { timeoutMs, chunkBytes });
  } finally {
    listener.close();
  }
}

/**
 * The address others reach our ring listener at. A wildcard bind is advertised as '' ("the address
 * rank 0 sees you at"); rank 0 itself is reached at masterAddr.
 */
function advertisedHost(world: WorldInfo): string {
  if (!isWildcardAddress(world.bindAddr)) return world.bindAddr;
  return world.rank === 0 ? world.masterAddr : '';
}

function checkWorld(world: WorldInfo): void {
  const { rank, worldSize, masterPort } = world;
  if (!Number.isSafeInteger(worldSize) || worldSize < 1) throw new WorldConfigError(`worldSize ${worldSize} must be a positive integer`);
  if (!Number.isSafeInteger(rank) || rank < 0 || rank >= worldSize)
    throw new WorldConfigError(`rank ${rank} is not in 0..${worldSize - 1}`);
  if (worldSize > 1 && (!Number.isInteger(masterPort) || masterPort < 1 || masterPort > 65535)) {
    throw new WorldConfigError(`masterPort ${masterPort} is not a TCP port (a world of ${worldSize} needs rank 0's fixed rendezvous port)`);
  }
}

function checkOptions(timeoutMs: number, maxMessageBytes: number, chunkBytes: number): void {
  if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS))
    throw new RangeError(`timeoutMs ${timeoutMs} must be in 1..${MAX_TIMER_MS} (Node's longest timer)`);
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1024 || maxMessageBytes > 0xffffffff) {
    throw new RangeError(`maxMessageBytes ${maxMessageBytes} must be an integer in 1 KiB..4 GiB`);
  }
  if (!Number.isInteger(chunkBytes) || chunkBytes < 8 || chunkBytes > maxMessageBytes) {
    throw new RangeError(`chunkBytes ${chunkBytes} must be an integer in 8..maxMessageBytes (${maxMessageBytes})`);
  }
}
