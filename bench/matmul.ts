/**
 * Matrix-multiply throughput, side by side in one run: raw cblas_sgemm through our addon (the
 * physical limit of this machine), tfjs `matMul` on the plain CPU kernels, and tfjs `matMul` on the
 * BLAS kernels (src/compute/accel). Run: npx tsx bench/matmul.ts [size]   (default 1024)
 *
 * Timing: performance.now around single calls after warm-up; the median of the repetitions is
 * reported (the plain kernel is ~100x slower, so it gets fewer repetitions).
 */
import { pathToFileURL } from 'node:url';
import { blasStatus, disableBlasKernels, enableBlasKernels, nativeBlas } from '../src/compute/accel/index.js';
import { tf } from '../src/tf.js';
import { median } from '../src/util/stats.js';

export interface MatmulTiming {
  /** Median milliseconds per multiply. */
  ms: number;
  gflops: number;
  repetitions: number;
}

export interface MatmulBenchResult {
  size: number;
  flopsPerMultiply: number;
  library: string | null;
  /** cblas_sgemm on Float32Arrays: the physical limit. */
  rawSgemm: MatmulTiming | null;
  /** tfjs matMul on the original CPU kernels. */
  tfjsPlain: MatmulTiming;
  /** tfjs matMul on the BLAS kernels (tensor creation and output allocation included). */
  tfjsAccelerated: MatmulTiming | null;
  /** tfjsAccelerated / tfjsPlain throughput. */
  speedup: number | null;
  /** tfjsAccelerated / rawSgemm throughput (target >= 0.7). */
  fastPathEfficiency: number | null;
  /** Why the accelerated rows are missing, when they are. */
  unavailable?: string;
}

export interface MatmulBenchOptions {
  size?: number;
  /** Wall-clock budget per measured variant (ms); at least `minRepetitions` runs are made. */
  budgetMs?: number;
  minRepetitions?: number;
  /** Repetitions of the plain kernel (slow: ~3 s each at 1024). */
  plainRepetitions?: number;
  log?: (line: string) => void;
}

function time(run: () => void, warmup: number, minReps: number, budgetMs: number, maxReps = 1000): number[] {
  for (let i = 0; i < warmup; i++) run();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minReps || (performance.now() - start < budgetMs && samples.length < maxReps)) {
    const t0 = performance.now();
    run();
    samples.push(performance.now() - t0);
  }
  return samples;
}

function timing(samples: number[], flops: number): MatmulTiming {
  const ms = median(samples);
  return { ms, gflops: flops / (ms * 1e6), repetitions: samples.length };
}

/** Measures the three variants; restores whichever kernel state (plain or accelerated) it found. */
export async function runMatmulBench(options: MatmulBenchOptions = {}): Promise<MatmulBenchResult> {
  const size = options.size ?? 1024;
  const budgetMs = options.budgetMs ?? 2000;
  const minReps = options.minRepetitions ?? 5;
  const plainReps = options.plainRepetitions ?? (size >= 1024 ? 2 : 5);
  const log = options.log ?? (() => {});
  const flops = 2 * size * size * size;
  const wasEnabled = blasStatus().enabled;
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');

  const a = tf.randomUniform([size, size], -1, 1, 'float32', 1);
  const b = tf.randomUniform([size, size], -1, 1, 'float32', 2);
  const multiply = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };

  try {
    let rawSgemm: MatmulTiming | null = null;
    if (nativeBlas) {
      const blas = nativeBlas;
      const av = a.dataSync() as Float32Array;
      const bv = b.dataSync() as Float32Array;
      const cv = new Float32Array(size * size);
      rawSgemm = timing(
        time(() => blas.sgemm(false, false, size, size, size, 1, av, size, bv, size, 0, cv, size), 3, minReps, budgetMs),
        flops,
      );
      log(
        `raw sgemm          ${size}x${size}: ${rawSgemm.gflops.toFixed(1)} GFLOP/s (${rawSgemm.ms.toFixed(2)} ms, ${rawSgemm.repetitions} runs)`,
      );
    }

    let tfjsAccelerated: MatmulTiming | null = null;
    let library: string | null = null;
    let unavailable: string | undefined;
    const status = enableBlasKernels();
    if (status.enabled) {
      library = status.library;
      tfjsAccelerated = timing(time(multiply, 3, minReps, budgetMs), flops);
      log(
        `tfjs matMul (BLAS) ${size}x${size}: ${tfjsAccelerated.gflops.toFixed(1)} GFLOP/s (${tfjsAccelerated.ms.toFixed(2)} ms, ${tfjsAccelerated.repetitions} runs)`,
      );
    } else {
      unavailable = status.reason;
      log(`tfjs matMul (BLAS): unavailable: ${status.reason}`);
    }

    disableBlasKernels();
    const tfjsPlain = timing(time(multiply, 1, plainReps, 0, plainReps), flops);
    log(
      `tfjs matMul (plain) ${size}x${size}: ${tfjsPlain.gflops.toFixed(2)} GFLOP/s (${tfjsPlain.ms.toFixed(0)} ms, ${tfjsPlain.repetitions} runs)`,
    );

    const speedup = tfjsAccelerated ? tfjsAccelerated.gflops / tfjsPlain.gflops : null;
    const fastPathEfficiency = tfjsAccelerated && rawSgemm ? tfjsAccelerated.gflops / rawSgemm.gflops : null;
    if (speedup !== null) log(`speedup accelerated / plain: ${speedup.toFixed(0)}x`);
    if (fastPathEfficiency !== null) log(`tfjs fast path / raw sgemm: ${(100 * fastPathEfficiency).toFixed(0)}% (target >= 70%)`);
    return {
      size,
      flopsPerMultiply: flops,
      library,
      rawSgemm,
      tfjsPlain,
      tfjsAccelerated,
      speedup,
      fastPathEfficiency,
      ...(unavailable ? { unavailable } : {}),
    };
  } finally {
    a.dispose();
    b.dispose();
    if (wasEnabled) enableBlasKernels();
    else disableBlasKernels();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  tf.env().set('PROD', true);
  const size = process.argv[2] ? Number(process.argv[2]) : 1024;
  const result = await runMatmulBench({ size, log: (line) => console.log(line) });
  if (result.library) console.log(`library: ${result.library}`);
}
