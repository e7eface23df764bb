/**
 * The bias + activation tail of the fused kernels (_FusedMatMul, FusedConv2D), with the semantics
 * of tfjs's `add` then `applyActivation`. The common case — a float32 bias along the last axis and
 * one of the simple activations — runs in place in C on the output we just produced; anything else
 * (broadcasting biases, prelu, other dtypes) goes through the registered cpu kernels themselves.
 */
import { getKernel, type TensorInfo } from '@tensorflow/tfjs-core';
import { float32Values, type CpuBackendLike } from './cpuBackend.js';
import type { NativeBlas } from './native.js';

const ACTIVATION_CODES: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, elu: 4, sigmoid: 5 };

/** Activations tfjs's applyActivation knows (prelu included); others make the original kernel throw. */
export function isKnownActivation(activation: unknown): boolean {
  return (
    activation === undefined ||
    activation === null ||
    activation === 'prelu' ||
    (typeof activation === 'string' && activation in ACTIVATION_CODES)
  );
}

/** True when `bias` broadcasts over `outShape` along its last axis only (shape [..1.., n]). */
function isLastAxisBias(bias: TensorInfo, outShape: readonly number[]): boolean {
  const n = outShape[outShape.length - 1];
  if (bias.shape.length === 0 || bias.shape.length > outShape.length) return false;
  if (bias.shape[bias.shape.length - 1] !== n) return false;
  return bias.shape.slice(0, -1).every((d) => d === 1);
}

function runKernel(
  name: string,
  backend: CpuBackendLike,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const kernel = getKernel(name, 'cpu');
  if (!kernel) throw new Error(`accel: cpu kernel '${name}' is not registered`);
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as never }) as TensorInfo;
}

/**
 * Applies bias and activation to `result`, a fresh float32 output of ours holding `values`.
 * Returns the final TensorInfo; intermediates are disposed.
 */
export function applyEpilogue(
  blas: NativeBlas,
  backend: CpuBackendLike,
  result: TensorInfo,
  values: Float32Array,
  bias: TensorInfo | undefined,
  activation: string | undefined,
  preluWeights: TensorInfo | undefined,
  leakyreluAlpha: number | undefined,
): TensorInfo {
  const shape = result.shape;
  const cols = shape.length ? shape[shape.length - 1] : 1;
  const rows = cols === 0 ? 0 : values.length / cols;
  let code: number | undefined = activation === undefined || activation === null ? 0 : ACTIVATION_CODES[activation];
  // An alpha-less leakyrelu is whatever the LeakyRelu kernel makes of it (NaN): leave it to that kernel.
  if (activation === 'leakyrelu' && typeof leakyreluAlpha !== 'number') code = undefined;
  const biasValues = bias ? float32Values(backend, bias) : undefined;
  const fastBias = !bias || (biasValues !== undefined && isLastAxisBias(bias, shape));

  if (fastBias && code !== undefined) {
    if (biasValues || code !== 0) blas.biasActivation(values, rows, cols, biasValues ?? null, code, leakyreluAlpha ?? 0);
    return result;
  }
  let current = result;
  if (bias) {
    if (fastBias) blas.biasActivation(values, rows, cols, biasValues ?? null, 0, 0);
    else {
      const added = runKernel('Add', backend, { a: current, b: bias });
      backend.disposeIntermediateTensorInfo(current);
      current = added;
    }
  }
  if (activation && activation !== 'linear') {
    let next: TensorInfo;
    if (activation === 'prelu') {
      if (!preluWeights) throw new Error('accel: prelu activation without preluActivationWeights');
      next = runKernel('Prelu', backend, { x: current, alpha: preluWeights });
    } else if (activation === 'leakyrelu') next = runKernel('LeakyRelu', backend, { x: current }, { alpha: leakyreluAlpha });
    else {
      const names: Record<string, string> = { relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid' };
      const name = names[activation];
      if (!name) throw new Error(`Activation ${activation} has not been implemented for the CPU backend.`);
      next = runKernel(name, backend, { x: current });
    }
    backend.disposeIntermediateTensorInfo(current);
    current = next;
  }
  return current;
}
