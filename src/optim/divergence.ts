/**
 * Training blew up (non-finite weights or curvature) somewhere a loss value does not show it yet:
 * e.g. a K-FAC factor built from overflowing activations. The run records it as 'diverged', like a
 * non-finite loss, not as a failure of the tool.
 */
export class DivergenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DivergenceError';
  }
}

/** Index of the first non-finite entry, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}
