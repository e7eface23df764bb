/**
 * Swapping kernels in tfjs's global registry: our implementations over backend 'cpu', and back to
 * the originals. Each replacement receives the original kernel function and hands it every case it
 * does not handle. Gradients are registered per kernel name, independently of the implementation,
 * so autodiff runs through the replacements unchanged.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import type { AccelKernel, KernelArgs } from './cpuBackend.js';
import { releaseScratch } from './cpuBackend.js';
import type { NativeBlas } from './native.js';
import { outputPool } from './outputPool.js';

const BACKEND = 'cpu';
const originals = new Map<string, KernelConfig>();

/** Registers `kernels` over the cpu backend; returns the names replaced (kernels the backend lacks are skipped). */
export function replaceKernels(blas: NativeBlas, kernels: ReadonlyArray<readonly [string, AccelKernel]>): string[] {
  const replaced: string[] = [];
  for (const [name, impl] of kernels) {
    if (originals.has(name)) {
      replaced.push(name);
      continue;
    }
    const original = getKernel(name, BACKEND);
    if (!original) continue;
    const originalFunc = original.kernelFunc;
    unregisterKernel(name, BACKEND);
    registerKernel({
      ...original,
      kernelFunc: (args) => {
        outputPool.attach(args.backend);
        return impl(blas, args as unknown as KernelArgs, originalFunc);
      },
    });
    originals.set(name, original);
    replaced.push(name);
  }
  return replaced;
}

/** Puts the original cpu kernels back. */
export function restoreKernels(): void {
  for (const [name, original] of originals) {
    unregisterKernel(name, BACKEND);
    registerKernel(original);
  }
  originals.clear();
  releaseScratch();
  outputPool.clear();
}

/** The original cpu kernel while it is replaced, else the registered one. */
export function originalKernel(name: string): KernelConfig | undefined {
  return originals.get(name) ?? getKernel(name, BACKEND);
}
