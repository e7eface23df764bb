/**
 * Data-parallel collectives over TCP for N worker processes. Pure Node (bytes, sockets, processes).
 *
 *   const world = worldFromEnv();                  // rank, size, rank 0's address, token, launcher
 *   const collective = await joinWorld(world);     // rendezvous at rank 0, then a ring of sockets
 *   await collective.allreduceMean(gradients);     // in place; bit-identical on every rank
 *   await collective.close();
 *
 * Worlds are started by `launchLocalWorld` (one host), or by mpirun, srun or torchrun (several hosts:
 * set NGD_BENCH_TOKEN to a shared secret and NGD_BENCH_BIND_ADDR to a reachable interface on every
 * rank). Every connection is token-checked and every frame size-checked before anything is allocated
 * for it; traffic is not encrypted, so keep multi-host worlds on a private network.
 *
 * Allreduce is a pipelined ring (reduce-scatter, then all-gather) with a fixed summation order per
 * segment, so every rank ends with the same bits. A lost peer, a timed-out call or ranks out of step
 * break the world: every pending and later call rejects with one error that names the rank.
 */
export type { Collective, CollectiveStats, FloatArray } from './collective.js';
export { CollectiveMismatchError, CollectiveTimeoutError, FrameError, PeerLostError, RendezvousError, WorldConfigError } from './errors.js';
export { DEFAULT_CHUNK_BYTES, joinWorld, type JoinOptions } from './joinWorld.js';
export { collectiveTimeoutFromEnv, DEFAULT_COLLECTIVE_TIMEOUT_MS, worldFromEnv, type Launcher, type WorldInfo } from './worldInfo.js';
export { launchLocalWorld, type LocalWorldOptions, type LocalWorldOutcome } from './launchLocalWorld.js';
export { findFreePort } from './freePort.js';
export {
  DEFAULT_PROBE_SIZES,
  probeAllreduce,
  type AllreduceProbeOptions,
  type AllreduceProbeResult,
  type AllreduceSizeResult,
} from './allreduceProbe.js';
export { measureLoopbackThroughput, type LoopbackThroughputOptions, type LoopbackThroughputResult } from './loopbackThroughput.js';
export type { LatencySummary } from './latencyStats.js';
