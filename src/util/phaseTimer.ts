/** Wall-clock time per training phase. tfjs CPU kernels run synchronously, so timing a call times its work. */
export const PHASES = ['samAscent', 'forwardBackward', 'curvature', 'inversion', 'preconditioning', 'update', 'evaluation'] as const;
export type Phase = (typeof PHASES)[number];

export class PhaseTimer {
  private readonly totals = new Map<Phase, number>(PHASES.map((p) => [p, 0]));

  time<T>(phase: Phase, work: () => T): T {
    const start = performance.now();
    try {
      return work();
    } finally {
      this.totals.set(phase, (this.totals.get(phase) ?? 0) + (performance.now() - start) / 1000);
    }
  }

  async timeAsync<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.totals.set(phase, (this.totals.get(phase) ?? 0) + (performance.now() - start) / 1000);
    }
  }

  /** Seconds per phase. */
  snapshot(): Record<Phase, number> {
    return Object.fromEntries(PHASES.map((p) => [p, this.totals.get(p) ?? 0])) as Record<Phase, number>;
  }
}
