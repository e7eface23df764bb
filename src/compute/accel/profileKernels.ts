/**
 * Where the time of a piece of tfjs work goes, per kernel: wraps `tf.profile` and sums the wall
 * time of every kernel call by name (on the CPU backend, kernelTimeMs is the synchronous run time).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface KernelTiming {
  kernel: string;
  calls: number;
  ms: number;
  /** Share of the summed kernel time, 0..1. */
  share: number;
}

/** Runs `f` once under tf.profile; kernels sorted by total time, largest first. */
export async function profileKernels(f: () => void | Promise<void>): Promise<{ totalMs: number; wallMs: number; kernels: KernelTiming[] }> {
  const start = performance.now();
  const info = await tf.profile(async () => {
    await f();
    return [];
  });
  const wallMs = performance.now() - start;
  const byName = new Map<string, { calls: number; ms: number }>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0; // { error } when timing is unavailable
    const entry = byName.get(k.name) ?? { calls: 0, ms: 0 };
    entry.calls += 1;
    entry.ms += ms;
    byName.set(k.name, entry);
  }
  const totalMs = [...byName.values()].reduce((s, e) => s + e.ms, 0);
  const kernels = [...byName.entries()]
    .map(([kernel, e]) => ({ kernel, calls: e.calls, ms: e.ms, share: totalMs > 0 ? e.ms / totalMs : 0 }))
    .sort((a, b) => b.ms - a.ms);
  return { totalMs, wallMs, kernels };
}
