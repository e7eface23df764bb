/**
 * The BLAS acceleration layer for the tfjs CPU backend: re-registers its hot kernels (matmul,
 * convolution and its gradients, max pooling, and the elementwise ops, sums and concatenations of a
 * training step) over our OpenBLAS addon, and restores the originals on demand. Without the addon everything keeps working on the plain kernels, and the status says
 * why and how to fix it.
 */
import '@tensorflow/tfjs-backend-cpu';
import {
  Add,
  BatchMatMul,
  Concat,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  FusedConv2D,
  MaxPool,
  MaxPoolGrad,
  Multiply,
  Relu,
  Step,
  Sub,
  Sum,
  _FusedMatMul,
} from '@tensorflow/tfjs-core';
import { EXTRACT_PATCHES_KERNEL } from '../kernels/extractPatches.js';
import { MOMENTUM_STEP_KERNEL } from '../kernels/momentumStep.js';
import { RELU_BACKPROP_KERNEL } from '../kernels/reluBackprop.js';
import { conv2d, conv2dBackpropFilterKernel, conv2dBackpropInputKernel, fusedConv2d } from './conv2d.js';
import type { AccelKernel } from './cpuBackend.js';
import { concat } from './concat.js';
import { add, momentumStep, multiply, relu, reluBackprop, step, sub } from './elementwise.js';
import { extractPatches } from './extractPatches.js';
import { batchMatMul, fusedMatMul } from './matmul.js';
import { maxPool, maxPoolGrad } from './maxPool.js';
import { describeLibrary, nativeBlas as loadedBlas, nativeLoadError, type NativeBlas } from './native.js';
import { sum } from './reduceSum.js';
import { replaceKernels, restoreKernels } from './registry.js';
import { blasSelfTest } from './selfTest.js';
import { firstLine } from '../../util/errors.js';

export type AccelStatus = { enabled: true; library: string; kernels: string[] } | { enabled: false; reason: string };

export type { NativeBlas, NativeBlasInfo, ConvGeometry } from './native.js';

/** Raw access to the addon (sgemm, dgemm, LAPACK, ...) for benchmarks and the K-FAC linear algebra. */
export const nativeBlas: NativeBlas | undefined = loadedBlas;

const KERNELS: ReadonlyArray<readonly [string, AccelKernel]> = [
  [BatchMatMul, batchMatMul],
  [_FusedMatMul, fusedMatMul],
  [Conv2D, conv2d],
  [FusedConv2D, fusedConv2d],
  [Conv2DBackpropInput, conv2dBackpropInputKernel],
  [Conv2DBackpropFilter, conv2dBackpropFilterKernel],
  [MaxPool, maxPool],
  [MaxPoolGrad, maxPoolGrad],
  [Add, add],
  [Sub, sub],
  [Multiply, multiply],
  [Relu, relu],
  [Step, step],
  [Sum, sum],
  [Concat, concat],
  [EXTRACT_PATCHES_KERNEL, extractPatches],
  [RELU_BACKPROP_KERNEL, reluBackprop],
  [MOMENTUM_STEP_KERNEL, momentumStep],
];

let active: Extract<AccelStatus, { enabled: true }> | undefined;
let selfTestFailure: string | undefined;
let selfTested = false;

/** Registers the accelerated kernels over backend 'cpu'. Idempotent; never throws. */
export function enableBlasKernels(): AccelStatus {
  if (active) return active;
  if (!nativeBlas) return { enabled: false, reason: nativeLoadError ?? 'native BLAS addon unavailable' };
  try {
    if (!selfTested) {
      selfTestFailure = blasSelfTest(nativeBlas);
      selfTested = true;
    }
    if (selfTestFailure) return { enabled: false, reason: selfTestFailure };
    const kernels = replaceKernels(nativeBlas, KERNELS);
    if (kernels.length === 0) {
      return { enabled: false, reason: "the tfjs CPU backend has no kernels registered (is '@tensorflow/tfjs-backend-cpu' installed?)" };
    }
    active = { enabled: true, library: describeLibrary(nativeBlas), kernels };
    return active;
  } catch (error) {
    try {
      restoreKernels();
    } catch {
      // keep the first error
    }
    return { enabled: false, reason: `accel: enabling BLAS kernels failed: ${firstLine(error)}` };
  }
}

/** Restores the original cpu kernels (no-op when not enabled). */
export function disableBlasKernels(): void {
  restoreKernels();
  active = undefined;
}

/** Whether the accelerated kernels are registered now, and if not, why. */
export function blasStatus(): AccelStatus {
  if (active) return active;
  if (!nativeBlas) return { enabled: false, reason: nativeLoadError ?? 'native BLAS addon unavailable' };
  if (selfTestFailure) return { enabled: false, reason: selfTestFailure };
  return { enabled: false, reason: 'BLAS kernels available but not enabled (call enableBlasKernels())' };
}
