/**
 * The error kinds of the collectives. Each message is one line that names what broke (the variable,
 * the rank, the address) so a launcher can quote it as the reason a run failed.
 */
import { BadInputError } from '../../util/errors.js';

/** A launcher variable (NGD_BENCH_RANK, RANK, SLURM_PROCID, ...) is missing or malformed. */
export class WorldConfigError extends BadInputError {
  override readonly name = 'WorldConfigError';
}

/** Joining the world failed: refused by rank 0 or a ring neighbour, or nobody answered in time. */
export class RendezvousError extends Error {
  override readonly name = 'RendezvousError';
}

/**
 * A peer's connection closed or failed, or a neighbour reported that it lost one. The world is
 * broken from then on: every pending and later call rejects with this error.
 */
export class PeerLostError extends Error {
  override readonly name = 'PeerLostError';

  constructor(
    /** The rank that was lost. */
    readonly peerRank: number,
    /** Why, e.g. 'ECONNRESET' or 'connection closed by peer'. */
    readonly reason: string,
    /** The rank that observed the loss when it is not this process (reported over the ring). */
    readonly reportedBy?: number,
  ) {
    super(`lost connection to rank ${peerRank} (${reason})${reportedBy === undefined ? '' : `, reported by rank ${reportedBy}`}`);
  }
}

/** A collective call did not complete within its timeout. The world is broken from then on. */
export class CollectiveTimeoutError extends Error {
  override readonly name = 'CollectiveTimeoutError';
}

/**
 * Ranks disagreed about a call: a different collective, array length or element type. A programming
 * error in the caller (every rank must make the same calls in the same order).
 */
export class CollectiveMismatchError extends Error {
  override readonly name = 'CollectiveMismatchError';
}

/** A frame violated the wire format (bad magic, version, type, length). */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}
