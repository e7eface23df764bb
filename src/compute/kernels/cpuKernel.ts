/**
 * Our custom kernels' typed-array versions for tfjs's plain 'cpu' backend: what such a kernel sees of the
 * backend, its float32 inputs, and its registration (the BLAS layer replaces these with C).
 */
import { getKernel, registerKernel, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';

export interface CpuBackendData {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): TensorInfo;
}

export type CpuKernelFunc = (args: {
  inputs: Record<string, TensorInfo>;
  cpu: CpuBackendData;
  attrs: NamedAttrMap;
}) => TensorInfo | TensorInfo[];

/** Registers `kernelFunc` for backend 'cpu' unless the name already has one there (ours, or the BLAS layer's). */
export function registerCpuKernel(kernelName: string, kernelFunc: CpuKernelFunc): void {
  if (getKernel(kernelName, 'cpu')) return;
  registerKernel({
    kernelName,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) =>
      kernelFunc({ inputs: inputs as Record<string, TensorInfo>, cpu: backend as unknown as CpuBackendData, attrs: attrs ?? {} }),
  });
}

/** The float32 arrays of `tensors`, all of one length; else an error naming the kernel and what it expects. */
export function float32OfOneLength(cpu: CpuBackendData, kernelName: string, tensors: readonly TensorInfo[]): Float32Array[] {
  const values = tensors.map((t) => cpu.data.get(t.dataId).values);
  const first = values[0];
  if (!values.every((v): v is Float32Array => v instanceof Float32Array && first instanceof Float32Array && v.length === first.length)) {
    throw new Error(`${kernelName}: expects ${tensors.length} float32 tensors of one shape`);
  }
  return values;
}
