/**
 * Data-parallel collectives over TCP for N worker processes: who is who (worldFromEnv), joining
 * (joinWorld), ring allreduce, our one-host launcher, and probes. Pure Node: no tfjs.
 */
export type { Collective, CollectiveStats, FloatArray } from './collective.js';
export { CollectiveMismatchError, CollectiveTimeoutError, FrameError, PeerLostError, RendezvousError, WorldConfigError } from './errors.js';
export { DEFAULT_CHUNK_BYTES, joinWorld, type JoinOptions } from './joinWorld.js';
export { collectiveTimeoutFromEnv, DEFAULT_COLLECTIVE_TIMEOUT_MS, worldFromEnv, type Launcher, type WorldInfo } from './worldInfo.js';
export { launchLocalWorld, type LocalWorldOptions, type LocalWorldOutcome } from './launchLocalWorld.js';
export { findFreePort } from './freePort.js';
export { DEFAULT_PROBE_SIZES, probeAllreduce, type AllreduceProbeOptions, type AllreduceProbeResult, type AllreduceSizeResult } from './allreduceProbe.js';
export { measureLoopbackThroughput, type LoopbackThroughputOptions, type LoopbackThroughputResult } from './loopbackThroughput.js';
export type { LatencySummary } from './latencyStats.js';
