/**
 * The arithmetic of the collectives: `target[i] += source[i]` (reduce), and for a mean's last
 * addition `target[i] = (target[i] + source[i]) * scale` (scale = 1/N), in the array's precision:
 * for float32 each operation is rounded to float32 (so scale = fround(1/N)). Plain JavaScript manages about 2.5 GB/s of float32 (each element widened to
 * float64 and rounded back); a 200-byte WebAssembly module with 128-bit SIMD handles four float32
 * (two float64) per instruction and, copies into and out of its memory included, is about 3.5x faster.
 * Both compute IEEE-754 operations rounded to nearest even (float64 arithmetic rounded to float32 is
 * exact for + and *), so they give the same bits (tested): ranks with and without SIMD agree bit for bit.
 *
 * Source bytes may sit at any offset (they are slices of socket reads): the SIMD path copies them
 * into its own aligned memory anyway, the portable path copies only misaligned slices.
 */

/** Bytes per block moved through the WebAssembly memory: [0, BLOCK) target, [BLOCK, 2 BLOCK) source. */
const BLOCK = 64 * 1024;

export interface SimdKernels {
  bytes: Uint8Array;
  f32: Float32Array;
  f64: Float64Array;
  /** In WebAssembly memory: [dst, dst + n) += [src, src + n); n a multiple of 16 bytes. */
  add32: (dst: number, src: number, n: number) => void;
  add64: (dst: number, src: number, n: number) => void;
  /** In WebAssembly memory: [dst, dst + n) = ([dst, dst + n) + [src, src + n)) * scale; n a multiple of 16 bytes. */
  addScale32: (dst: number, src: number, n: number, scale: number) => void;
  addScale64: (dst: number, src: number, n: number, scale: number) => void;
}

let simd: SimdKernels | null | undefined;

/** The SIMD kernels, or null where WebAssembly SIMD is unavailable or NGD_BENCH_COLLECTIVE_SIMD=0. */
export function simdKernels(): SimdKernels | null {
  simd ??= process.env.NGD_BENCH_COLLECTIVE_SIMD === '0' ? null : loadSimdKernels();
  return simd;
}

/**
 * Adds the elements in `source` (raw bytes, a whole number of elements) into target[offset...], and
 * multiplies each sum by `scale` when given (use `meanScale` for it).
 */
export function addBytesInto(target: Float32Array | Float64Array, offset: number, source: Uint8Array, scale?: number): void {
  const kernels = simdKernels();
  if (kernels) addWithSimd(kernels, target, offset, source, scale);
  else addPortable(target, offset, source, scale);
}

/** 1/N in the array's precision: both paths then multiply by exactly the same number. */
export function meanScale(data: Float32Array | Float64Array, worldSize: number): number {
  return data instanceof Float32Array ? Math.fround(1 / worldSize) : 1 / worldSize;
}

export function addWithSimd(
  kernels: SimdKernels,
  target: Float32Array | Float64Array,
  offset: number,
  source: Uint8Array,
  scale?: number,
): void {
  const elementBytes = target.BYTES_PER_ELEMENT;
  const targetBytes = new Uint8Array(target.buffer, target.byteOffset + offset * elementBytes, source.byteLength);
  for (let at = 0; at < source.byteLength; at += BLOCK) {
    const length = Math.min(BLOCK, source.byteLength - at);
    kernels.bytes.set(targetBytes.subarray(at, at + length), 0);
    kernels.bytes.set(source.subarray(at, at + length), BLOCK);
    const vectorBytes = length & ~15;
    if (elementBytes === 8) {
      if (scale === undefined) kernels.add64(0, BLOCK, vectorBytes);
      else kernels.addScale64(0, BLOCK, vectorBytes, scale);
      // The last element, past the last whole 16-byte vector.
      const { f64 } = kernels;
      for (let i = vectorBytes / 8; i < length / 8; i++)
        f64[i] = scale === undefined ? f64[i] + f64[BLOCK / 8 + i] : (f64[i] + f64[BLOCK / 8 + i]) * scale;
    } else {
      if (scale === undefined) kernels.add32(0, BLOCK, vectorBytes);
      else kernels.addScale32(0, BLOCK, vectorBytes, scale);
      // The last elements (up to three), past the last whole 16-byte vector.
      const { f32 } = kernels;
      for (let i = vectorBytes / 4; i < length / 4; i++)
        f32[i] = scale === undefined ? f32[i] + f32[BLOCK / 4 + i] : Math.fround(f32[i] + f32[BLOCK / 4 + i]) * scale;
    }
    targetBytes.set(kernels.bytes.subarray(0, length), at);
  }
}

let scratch = new Uint8Array(BLOCK);

export function addPortable(target: Float32Array | Float64Array, offset: number, source: Uint8Array, scale?: number): void {
  const elementBytes = target.BYTES_PER_ELEMENT;
  let aligned = source;
  if (source.byteOffset % elementBytes !== 0) {
    if (scratch.byteLength < source.byteLength) scratch = new Uint8Array(source.byteLength);
    aligned = scratch.subarray(0, source.byteLength);
    aligned.set(source);
  }
  const count = source.byteLength / elementBytes;
  if (elementBytes === 8) {
    const src = new Float64Array(aligned.buffer, aligned.byteOffset, count);
    if (scale === undefined) addFloat64(target as Float64Array, offset, src);
    else addScaleFloat64(target as Float64Array, offset, src, scale);
  } else {
    const src = new Float32Array(aligned.buffer, aligned.byteOffset, count);
    if (scale === undefined) addFloat32(target as Float32Array, offset, src);
    else addScaleFloat32(target as Float32Array, offset, src, scale);
  }
}

// One loop per element type keeps each monomorphic for the JIT. Storing into a Float32Array rounds to
// float32; Math.fround rounds the sum before the scaling, as float32 SIMD does.
function addFloat32(out: Float32Array, offset: number, src: Float32Array): void {
  for (let i = 0; i < src.length; i++) out[offset + i] += src[i];
}

function addScaleFloat32(out: Float32Array, offset: number, src: Float32Array, scale: number): void {
  for (let i = 0; i < src.length; i++) out[offset + i] = Math.fround(out[offset + i] + src[i]) * scale;
}

function addFloat64(out: Float64Array, offset: number, src: Float64Array): void {
  for (let i = 0; i < src.length; i++) out[offset + i] += src[i];
}

function addScaleFloat64(out: Float64Array, offset: number, src: Float64Array, scale: number): void {
  for (let i = 0; i < src.length; i++) out[offset + i] = (out[offset + i] + src[i]) * scale;
}

function loadSimdKernels(): SimdKernels | null {
  if (typeof WebAssembly === 'undefined') return null;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(simdModuleBytes()));
    const exports = instance.exports as unknown as Omit<SimdKernels, 'bytes' | 'f32' | 'f64'> & { memory: WebAssembly.Memory };
    const buffer = exports.memory.buffer; // fixed size: the memory never grows, so these views stay valid
    return { ...pick(exports), bytes: new Uint8Array(buffer), f32: new Float32Array(buffer), f64: new Float64Array(buffer) };
  } catch {
    return null; // no SIMD support in this engine
  }
}

function pick({
  add32,
  add64,
  addScale32,
  addScale64,
}: Omit<SimdKernels, 'bytes' | 'f32' | 'f64'>): Omit<SimdKernels, 'bytes' | 'f32' | 'f64'> {
  return { add32, add64, addScale32, addScale64 };
}

/**
 * The module, assembled here rather than shipped as a binary. It exports `memory` (2 pages: one
 * block of target, one of source) and four functions:
 *   add32/add64 (dst, src, n):             while (dst < dst0 + n) { store(dst, load(dst) + load(src)); dst += 16; src += 16 }
 *   addScale32/addScale64 (dst, src, n, s): the same, storing (load(dst) + load(src)) * splat(s)
 * with f32x4 or f64x2 lanes.
 */
function simdModuleBytes(): Uint8Array<ArrayBuffer> {
  const uleb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let byte = n & 0x7f;
      n >>>= 7;
      if (n !== 0) byte |= 0x80;
      out.push(byte);
    } while (n !== 0);
    return out;
  };
  const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (text: string) => [...uleb(text.length), ...Buffer.from(text, 'utf8')];
  const [I32, F32, F64] = [0x7f, 0x7d, 0x7c];
  const [localGet, localSet, i32Const, i32Add, i32GeU, block, loop, br, brIf, end] = [
    0x20, 0x21, 0x41, 0x6a, 0x4f, 0x02, 0x03, 0x0c, 0x0d, 0x0b,
  ];
  const simdOp = (opcode: number) => [0xfd, ...uleb(opcode)];
  const v128Load = [...simdOp(0x00), 0x04, 0x00]; // memarg: align 2^4, offset 0
  const v128Store = [...simdOp(0x0b), 0x04, 0x00];
  const [F32X4_SPLAT, F64X2_SPLAT, F32X4_ADD, F32X4_MUL, F64X2_ADD, F64X2_MUL] = [0x13, 0x14, 0xe4, 0xe6, 0xf0, 0xf2];
  const advance = (local: number) => [localGet, local, i32Const, 16, i32Add, localSet, local];
  // Locals: 0 = dst, 1 = src, 2 = n, 3 = scale (addScale only), then the declared extra i32: end.
  const loopUntilEnd = (endLocal: number, step: number[]) => [
    0x01,
    0x01,
    I32, // one extra local: end
    localGet,
    0,
    localGet,
    2,
    i32Add,
    localSet,
    endLocal,
    block,
    0x40,
    loop,
    0x40,
    localGet,
    0,
    localGet,
    endLocal,
    i32GeU,
    brIf,
    1,
    ...step,
    ...advance(0),
    ...advance(1),
    br,
    0,
    end,
    end,
    end,
  ];
  const sum = (add: number) => [localGet, 0, ...v128Load, localGet, 1, ...v128Load, ...simdOp(add)];
  const addBody = (add: number) => loopUntilEnd(3, [localGet, 0, ...sum(add), ...v128Store]);
  const addScaleBody = (add: number, splat: number, mul: number) =>
    loopUntilEnd(4, [localGet, 0, ...sum(add), localGet, 3, ...simdOp(splat), ...simdOp(mul), ...v128Store]);
  const sized = (code: number[]) => [...uleb(code.length), ...code];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // "\0asm", version 1
    // types: 0 = (i32, i32, i32) -> (), 1 = (i32, i32, i32, f32) -> (), 2 = (i32, i32, i32, f64) -> ()
    ...section(
      1,
      vector([
        [0x60, 3, I32, I32, I32, 0],
        [0x60, 4, I32, I32, I32, F32, 0],
        [0x60, 4, I32, I32, I32, F64, 0],
      ]),
    ),
    ...section(3, vector([[0], [0], [1], [2]])), // add32, add64, addScale32, addScale64
    ...section(5, vector([[0x00, (2 * BLOCK) / 65536]])), // memory: 2 pages, no maximum
    ...section(
      7,
      vector([
        [...name('memory'), 0x02, 0],
        [...name('add32'), 0x00, 0],
        [...name('add64'), 0x00, 1],
        [...name('addScale32'), 0x00, 2],
        [...name('addScale64'), 0x00, 3],
      ]),
    ),
    ...section(
      10,
      vector([
        sized(addBody(F32X4_ADD)),
        sized(addBody(F64X2_ADD)),
        sized(addScaleBody(F32X4_ADD, F32X4_SPLAT, F32X4_MUL)),
        sized(addScaleBody(F64X2_ADD, F64X2_SPLAT, F64X2_MUL)),
      ]),
    ),
  ]);
}
