/**
 * TCP collectives: who is who (worldFromEnv), the wire format, the ring schedule, the arithmetic
 * kernels, worlds of several ranks inside this process (handshakes, refusals, timeouts, faults), and
 * worlds of real processes started by launchLocalWorld (results, bit-identity, a killed worker).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import {
  CollectiveMismatchError,
  CollectiveTimeoutError,
  findFreePort,
  joinWorld,
  launchLocalWorld,
  measureLoopbackThroughput,
  PeerLostError,
  probeAllreduce,
  RendezvousError,
  WorldConfigError,
  worldFromEnv,
  type Collective,
  type JoinOptions,
  type LocalWorldOutcome,
  type WorldInfo,
} from '../../src/distributed/collective/index.js';
import { FrameDecoder } from '../../src/distributed/collective/frameDecoder.js';
import {
  encodeFrameHeader,
  encodeJsonFrame,
  DTYPE,
  FRAME_TYPE,
  type Frame,
  type FrameHeader,
} from '../../src/distributed/collective/frames.js';
import { FrameError } from '../../src/distributed/collective/errors.js';
import { lastMeaningfulLine } from '../../src/util/lastMeaningfulLine.js';
import { summarizeLatencies } from '../../src/distributed/collective/latencyStats.js';
import { RingListener } from '../../src/distributed/collective/ring.js';
import { allreduceSteps, isReduceStep, segmentReceivedAt, segmentSentAt, segmentSpans } from '../../src/distributed/collective/ringPlan.js';
import { addPortable, addWithSimd, meanScale, simdKernels } from '../../src/distributed/collective/vectorKernels.js';
import { collectiveTimeoutFromEnv } from '../../src/distributed/collective/worldInfo.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/collective/${name}`, import.meta.url));
const NODE_TSX = ['--import', 'tsx'];

// ---------------------------------------------------------------------------------------------------

describe('worldFromEnv', () => {
  it('is a world of one without launcher variables', () => {
    assert.deepEqual(worldFromEnv({}), {
      rank: 0,
      worldSize: 1,
      masterAddr: '127.0.0.1',
      masterPort: 0,
      bindAddr: '127.0.0.1',
      token: '',
      launcher: 'single',
      localRank: 0,
    });
  });

  it('reads our own launcher, which wins over the others', () => {
    const env = {
      NGD_BENCH_RANK: '1',
      NGD_BENCH_WORLD_SIZE: '3',
      NGD_BENCH_MASTER_ADDR: '10.0.0.5',
      NGD_BENCH_MASTER_PORT: '29500',
      NGD_BENCH_TOKEN: 'secret',
      NGD_BENCH_BIND_ADDR: '0.0.0.0',
      OMPI_COMM_WORLD_RANK: '0',
      OMPI_COMM_WORLD_SIZE: '8',
    };
    assert.deepEqual(worldFromEnv(env), {
      rank: 1,
      worldSize: 3,
      masterAddr: '10.0.0.5',
      masterPort: 29500,
      bindAddr: '0.0.0.0',
      token: 'secret',
      launcher: 'ngd-bench',
      localRank: 1,
    });
    assert.equal(worldFromEnv({ ...env, NGD_BENCH_LOCAL_RANK: '0' }).localRank, 0);
  });

  it('reads Open MPI, deriving the token from the job when NGD_BENCH_TOKEN is unset', () => {
    const env = {
      OMPI_COMM_WORLD_RANK: '2',
      OMPI_COMM_WORLD_SIZE: '4',
      MASTER_ADDR: 'node1',
      MASTER_PORT: '4000',
      PMIX_NAMESPACE: 'prterun-node1-123@1',
    };
    const world = worldFromEnv(env);
    assert.equal(world.launcher, 'mpirun');
    assert.deepEqual([world.rank, world.worldSize, world.masterAddr, world.masterPort], [2, 4, 'node1', 4000]);
    assert.equal(world.token, 'mpirun:prterun-node1-123@1');
    assert.equal(world.localRank, 0);
    assert.equal(worldFromEnv({ ...env, OMPI_COMM_WORLD_LOCAL_RANK: '1' }).localRank, 1);
    assert.equal(worldFromEnv({ ...env, NGD_BENCH_TOKEN: 'mine' }).token, 'mine');
  });

  it('reads Slurm, with the job and step as the fallback token', () => {
    const world = worldFromEnv({ SLURM_PROCID: '0', SLURM_NTASKS: '2', MASTER_PORT: '5000', SLURM_JOB_ID: '777', SLURM_STEP_ID: '3' });
    assert.equal(world.launcher, 'slurm');
    assert.deepEqual(
      [world.rank, world.worldSize, world.masterAddr, world.masterPort, world.token],
      [0, 2, '127.0.0.1', 5000, 'slurm:777:3'],
    );
    assert.equal(
      worldFromEnv({ SLURM_PROCID: '1', SLURM_NTASKS: '2', MASTER_PORT: '5000', SLURM_STEP_ID: '0', SLURM_LOCALID: '1' }).localRank,
      1,
    );
  });

  it("is no Slurm rank in an sbatch script: SLURM_PROCID and the allocation's SLURM_NTASKS, but no job step", () => {
    // What sbatch -n 2 sets in the batch script (seen on slurm-wlm 22.05; scripts/slurm-check.sh).
    const batch = { SLURM_PROCID: '0', SLURM_NTASKS: '2', SLURM_NPROCS: '2', SLURM_JOB_ID: '3', SLURM_LOCALID: '0' };
    assert.deepEqual([worldFromEnv(batch).launcher, worldFromEnv(batch).worldSize], ['single', 1]);
    const step = worldFromEnv({ ...batch, SLURM_NTASKS: '1', SLURM_STEP_ID: '0' }); // srun -n 1 inside it
    assert.deepEqual([step.launcher, step.worldSize], ['slurm', 1]);
  });

  it('reads torchrun; NGD_BENCH_MASTER_* win over MASTER_* (torchrun keeps MASTER_PORT for itself)', () => {
    const env = { RANK: '1', WORLD_SIZE: '2', MASTER_ADDR: 'a', MASTER_PORT: '29500', TORCHELASTIC_RUN_ID: 'run-9' };
    const world = worldFromEnv(env);
    assert.deepEqual(
      [world.launcher, world.rank, world.worldSize, world.masterAddr, world.masterPort, world.token],
      ['torchrun', 1, 2, 'a', 29500, 'torchrun:run-9'],
    );
    const ours = worldFromEnv({ ...env, NGD_BENCH_MASTER_ADDR: 'b', NGD_BENCH_MASTER_PORT: '29600' });
    assert.deepEqual([ours.masterAddr, ours.masterPort], ['b', 29600]);
    assert.equal(worldFromEnv({ ...env, LOCAL_RANK: '1' }).localRank, 1);
    assert.throws(() => worldFromEnv({ ...env, LOCAL_RANK: 'one' }), /LOCAL_RANK="one" is not a non-negative integer/);
  });

  it('needs no port or token in an external world of one', () => {
    const world = worldFromEnv({ RANK: '0', WORLD_SIZE: '1' });
    assert.deepEqual([world.launcher, world.worldSize, world.masterPort], ['torchrun', 1, 0]);
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    [
      'rank >= size',
      { NGD_BENCH_RANK: '2', NGD_BENCH_WORLD_SIZE: '2', NGD_BENCH_MASTER_PORT: '1', NGD_BENCH_TOKEN: 't' },
      /NGD_BENCH_RANK=2 must be below NGD_BENCH_WORLD_SIZE=2/,
    ],
    [
      'a non-integer rank',
      { RANK: '1.5', WORLD_SIZE: '2', MASTER_PORT: '1', TORCHELASTIC_RUN_ID: 'x' },
      /RANK="1.5" is not a non-negative integer/,
    ],
    ['a negative size', { SLURM_PROCID: '0', SLURM_NTASKS: '-1', SLURM_STEP_ID: '0' }, /SLURM_NTASKS="-1" is not a non-negative integer/],
    ['a size of 0', { SLURM_PROCID: '0', SLURM_NTASKS: '0', SLURM_STEP_ID: '0' }, /SLURM_NTASKS=0 must be at least 1/],
    ['a missing size', { OMPI_COMM_WORLD_RANK: '0' }, /OMPI_COMM_WORLD_SIZE is not set/],
    ['a missing port', { RANK: '0', WORLD_SIZE: '2', TORCHELASTIC_RUN_ID: 'x' }, /NGD_BENCH_MASTER_PORT or MASTER_PORT is not set/],
    [
      'port 0',
      { NGD_BENCH_RANK: '0', NGD_BENCH_WORLD_SIZE: '2', NGD_BENCH_MASTER_PORT: '0', NGD_BENCH_TOKEN: 't' },
      /NGD_BENCH_MASTER_PORT=0 is not a TCP port/,
    ],
    [
      'a port above 65535',
      { RANK: '0', WORLD_SIZE: '2', MASTER_PORT: '70000', TORCHELASTIC_RUN_ID: 'x' },
      /MASTER_PORT=70000 is not a TCP port/,
    ],
    [
      'no token and no job id',
      { RANK: '0', WORLD_SIZE: '2', MASTER_PORT: '4000' },
      /NGD_BENCH_TOKEN is not set and no job id \(TORCHELASTIC_RUN_ID\)/,
    ],
    [
      'our launcher without a token',
      { NGD_BENCH_RANK: '0', NGD_BENCH_WORLD_SIZE: '2', NGD_BENCH_MASTER_PORT: '4000' },
      /NGD_BENCH_TOKEN is not set/,
    ],
  ];
  for (const [what, env, message] of bad) {
    it(`refuses ${what} with a one-line WorldConfigError naming the variable`, () => {
      assert.throws(
        () => worldFromEnv(env),
        (error: unknown) => error instanceof WorldConfigError && message.test(error.message) && !error.message.includes('\n'),
      );
    });
  }

  it('reads the collective timeout from NGD_BENCH_COLLECTIVE_TIMEOUT_MS (default 300 s)', () => {
    assert.equal(collectiveTimeoutFromEnv({}), 300_000);
    assert.equal(collectiveTimeoutFromEnv({ NGD_BENCH_COLLECTIVE_TIMEOUT_MS: '2500' }), 2500);
    assert.throws(() => collectiveTimeoutFromEnv({ NGD_BENCH_COLLECTIVE_TIMEOUT_MS: '5s' }), /NGD_BENCH_COLLECTIVE_TIMEOUT_MS="5s"/);
  });
});

// ---------------------------------------------------------------------------------------------------

/** Decodes `bytes` fed in pieces of `pieceBytes`; data payloads are reassembled for comparison. */
function decodeAll(bytes: Buffer, pieceBytes: number, maxPayloadBytes = 1 << 20): Frame[] {
  const frames: Frame[] = [];
  let data: { header: FrameHeader; pieces: Buffer[] } | null = null;
  const decoder = new FrameDecoder(maxPayloadBytes, {
    frame: (frame) => frames.push(frame),
    dataStart: (header) => (data = { header, pieces: [] }),
    dataBytes: (piece) => data!.pieces.push(Buffer.from(piece)),
    dataEnd: () => {
      frames.push({ ...data!.header, payload: Buffer.concat(data!.pieces) });
      data = null;
    },
  });
  for (let at = 0; at < bytes.length; at += pieceBytes) decoder.push(bytes.subarray(at, at + pieceBytes));
  return frames;
}

function dataFrame(tag: number, values: Float32Array): Buffer {
  const payload = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return Buffer.concat([encodeFrameHeader({ type: FRAME_TYPE.data, dtype: DTYPE.float32, tag, payloadBytes: payload.length }), payload]);
}

describe('frames', () => {
  const stream = Buffer.concat([
    ...encodeJsonFrame(FRAME_TYPE.hello, { token: 't', rank: 1 }),
    dataFrame(7, Float32Array.from([1.5, -2, 3.25])),
    ...encodeJsonFrame(FRAME_TYPE.bye, {}),
    dataFrame(8, new Float32Array(0)),
    dataFrame(
      9,
      Float32Array.from({ length: 1000 }, (_, i) => i / 7),
    ),
  ]);

  it('decode the same frames however the stream is split', () => {
    const whole = decodeAll(stream, stream.length);
    assert.deepEqual(
      whole.map((f) => [f.type, f.tag, f.payloadBytes]),
      [
        [FRAME_TYPE.hello, 0, 22],
        [FRAME_TYPE.data, 7, 12],
        [FRAME_TYPE.bye, 0, 2],
        [FRAME_TYPE.data, 8, 0],
        [FRAME_TYPE.data, 9, 4000],
      ],
    );
    assert.deepEqual(JSON.parse(whole[0].payload.toString()), { token: 't', rank: 1 });
    for (const pieceBytes of [1, 3, 16, 17, 1000]) assert.deepEqual(decodeAll(stream, pieceBytes), whole, `pieces of ${pieceBytes}`);
  });

  it('reject a header claiming more than the limit at once, before any payload arrives', () => {
    const header = encodeFrameHeader({ type: FRAME_TYPE.data, dtype: DTYPE.float32, tag: 0, payloadBytes: 0xfffffffc });
    const decoder = new FrameDecoder(64 * 1024 * 1024, {
      frame() {},
      dataStart: () => assert.fail('no frame may start'),
      dataBytes() {},
      dataEnd() {},
    });
    assert.throws(
      () => decoder.push(header),
      (error: unknown) => error instanceof FrameError && /frame too large: claims 4294967292 bytes, limit 67108864/.test(error.message),
    );
    assert.throws(() => decoder.push(Buffer.alloc(4)), FrameError, 'a broken decoder stays broken');
  });

  const malformed: [string, Buffer, RegExp][] = [
    ['garbage', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /bad magic/],
    [
      'another version',
      withByte(encodeFrameHeader({ type: FRAME_TYPE.bye, dtype: DTYPE.none, tag: 0, payloadBytes: 0 }), 4, 9),
      /unsupported protocol version 9/,
    ],
    [
      'an unknown type',
      withByte(encodeFrameHeader({ type: FRAME_TYPE.bye, dtype: DTYPE.none, tag: 0, payloadBytes: 0 }), 5, 99),
      /unknown frame type 99/,
    ],
    [
      'a data frame without dtype',
      encodeFrameHeader({ type: FRAME_TYPE.data, dtype: DTYPE.none, tag: 0, payloadBytes: 4 }),
      /does not fit frame type/,
    ],
    [
      'a ragged float64 payload',
      encodeFrameHeader({ type: FRAME_TYPE.data, dtype: DTYPE.float64, tag: 0, payloadBytes: 12 }),
      /not a whole number/,
    ],
    [
      'a nonzero reserved byte',
      withByte(encodeFrameHeader({ type: FRAME_TYPE.bye, dtype: DTYPE.none, tag: 0, payloadBytes: 0 }), 7, 1),
      /reserved/,
    ],
  ];
  for (const [what, bytes, message] of malformed) {
    it(`reject ${what}`, () =>
      assert.throws(
        () => decodeAll(bytes, bytes.length),
        (error: unknown) => error instanceof FrameError && message.test(error.message),
      ));
  }
});

function withByte(bytes: Buffer, index: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = value;
  return copy;
}

// ---------------------------------------------------------------------------------------------------

describe('ring schedule', () => {
  it('cuts any length into N contiguous segments differing by at most one element', () => {
    for (const [length, n] of [
      [0, 3],
      [2, 3],
      [7, 3],
      [1000, 4],
      [5, 5],
    ]) {
      const spans = segmentSpans(length, n);
      assert.equal(spans.length, n);
      assert.equal(spans[0].start, 0);
      assert.equal(spans[n - 1].end, length);
      for (let k = 1; k < n; k++) assert.equal(spans[k].start, spans[k - 1].end);
      const sizes = spans.map((s) => s.end - s.start);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }
  });

  it('sums every segment over all ranks, in one fixed order, and spreads it to everyone (simulated)', () => {
    for (let n = 2; n <= 6; n++) {
      // held[r][k]: the ranks whose inputs rank r's copy of segment k contains, in the order added.
      const held = Array.from({ length: n }, (_, r) => Array.from({ length: n }, () => [r]));
      for (let step = 0; step < allreduceSteps(n); step++) {
        const sent = held.map((segments, r) => [...segments[segmentSentAt(r, n, step)]]);
        for (let r = 0; r < n; r++) {
          const from = (r - 1 + n) % n;
          const k = segmentReceivedAt(r, n, step);
          assert.equal(segmentSentAt(from, n, step), k, 'the predecessor sends what this rank expects');
          held[r][k] = isReduceStep(n, step) ? [...sent[from], ...held[r][k]] : sent[from];
        }
      }
      for (let k = 0; k < n; k++) {
        const order = Array.from({ length: n }, (_, i) => (k + i) % n); // ((x_k + x_{k+1}) + x_{k+2}) + ...
        for (let r = 0; r < n; r++) assert.deepEqual(held[r][k], order, `N=${n}, rank ${r}, segment ${k}`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------

describe('vector kernels', () => {
  it('give the same bits with and without SIMD, for float32 and float64, with and without the mean scale', (t) => {
    const kernels = simdKernels();
    if (!kernels) {
      t.skip('no WebAssembly SIMD in this Node');
      return;
    }
    for (const Ctor of [Float32Array, Float64Array]) {
      for (const scale of [undefined, meanScale(new Ctor(0), 3)]) {
        const n = 70_003; // more than one 64 KiB block, and a ragged tail
        const simd = new Ctor(n);
        for (let i = 0; i < n; i++) simd[i] = (Math.random() - 0.5) * 10 ** (Math.random() * 16 - 8);
        const portable = simd.slice();
        const source = new Ctor(n - 2);
        for (let i = 0; i < source.length; i++) source[i] = (Math.random() - 0.5) * 10 ** (Math.random() * 16 - 8);
        const misaligned = new Uint8Array(source.byteLength + 3).subarray(3); // as a socket read may deliver it
        misaligned.set(new Uint8Array(source.buffer));
        addWithSimd(kernels, simd, 2, misaligned, scale);
        addPortable(portable, 2, misaligned, scale);
        assert.ok(Buffer.from(simd.buffer).equals(Buffer.from(portable.buffer)), `${Ctor.name} scale=${scale}`);
      }
    }
  });

  it('use 1/N rounded to the array precision for the mean', () => {
    assert.equal(meanScale(new Float32Array(1), 3), Math.fround(1 / 3));
    assert.equal(meanScale(new Float64Array(1), 3), 1 / 3);
  });
});

// ---------------------------------------------------------------------------------------------------

interface InProcessWorld {
  port: number;
  token: string;
  world(rank: number, overrides?: Partial<WorldInfo>): WorldInfo;
}

async function inProcessWorld(worldSize: number): Promise<InProcessWorld> {
  const port = await findFreePort();
  const token = randomBytes(16).toString('hex');
  return {
    port,
    token,
    world: (rank, overrides = {}) => ({
      rank,
      worldSize,
      masterAddr: '127.0.0.1',
      masterPort: port,
      bindAddr: '127.0.0.1',
      token,
      launcher: 'ngd-bench',
      localRank: rank,
      ...overrides,
    }),
  };
}

/** Joins all ranks of a fresh world in this process. */
async function joinAll(worldSize: number, options: JoinOptions = {}): Promise<Collective[]> {
  const { world } = await inProcessWorld(worldSize);
  return Promise.all(
    Array.from({ length: worldSize }, (_, rank) => joinWorld(world(rank), { timeoutMs: 10_000, warn: () => {}, ...options })),
  );
}

async function closeAll(collectives: readonly Collective[]): Promise<void> {
  await Promise.all(collectives.map((c) => c.close()));
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected a rejection');
}

/** A raw client: resolves once the server closed the connection, with whatever it sent back. */
function rawExchange(port: number, bytes: Buffer): Promise<{ closed: true; received: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    const received: Buffer[] = [];
    socket.on('data', (piece) => received.push(piece));
    socket.on('error', () => {}); // a reset is a close too
    socket.on('close', () => resolve({ closed: true, received: Buffer.concat(received) }));
    setTimeout(() => reject(new Error('the server did not close the connection')), 5_000).unref();
  });
}

describe('joinWorld in one process', () => {
  it('opens nothing in a world of one, where every collective is the identity', async () => {
    const collective = await joinWorld({
      rank: 0,
      worldSize: 1,
      masterAddr: '127.0.0.1',
      masterPort: 0,
      bindAddr: '127.0.0.1',
      token: '',
      launcher: 'single',
      localRank: 0,
    });
    const data = Float32Array.from([1, 2, 3]);
    assert.equal(await collective.allreduceMean(data), data);
    assert.deepEqual([...data], [1, 2, 3]);
    await collective.barrier();
    await collective.close();
  });

  it('allreduces, broadcasts and synchronizes a world of 3, in place, identically on every rank', async () => {
    const collectives = await joinAll(3, { chunkBytes: 64 });
    try {
      const inputs = collectives.map((_, rank) => Float64Array.from({ length: 101 }, (_, i) => rank * 1000 + i + 0.25));
      const sums = await Promise.all(collectives.map((c, rank) => c.allreduceSum(inputs[rank])));
      for (let rank = 0; rank < 3; rank++) {
        assert.equal(sums[rank], inputs[rank], 'in place');
        for (let i = 0; i < 101; i++) assert.equal(sums[rank][i], 3000 + 3 * i + 0.75);
      }
      const means = await Promise.all(collectives.map((c, rank) => c.allreduceMean(Float32Array.from([rank, 2 * rank, 7]))));
      for (const mean of means) assert.deepEqual([...mean], [1, 2, 7]);
      const broadcast = await Promise.all(
        collectives.map((c, rank) =>
          c.broadcast(
            Float32Array.from({ length: 50 }, () => rank),
            2,
          ),
        ),
      );
      for (const values of broadcast) assert.ok(values.every((v) => v === 2));
      await Promise.all(collectives.map((c) => c.barrier()));
      for (const c of collectives) {
        assert.equal(c.stats.calls, 4);
        assert.ok(c.stats.bytesSent > 0 && c.stats.seconds > 0);
      }
    } finally {
      await closeAll(collectives);
    }
  });

  it('refuses a peer with the wrong token (it learns why), and the real ranks are unaffected', async () => {
    const { world } = await inProcessWorld(2);
    const warnings: string[] = [];
    const lead = joinWorld(world(0), { timeoutMs: 10_000, warn: (line) => warnings.push(line) });
    const impostor = await rejection(joinWorld(world(1, { token: 'guess' }), { timeoutMs: 10_000, warn: () => {} }));
    assert.ok(impostor instanceof RendezvousError);
    assert.equal(impostor.message, 'rendezvous refused: wrong token');
    const duplicate = joinWorld(world(1), { timeoutMs: 10_000, warn: () => {} });
    const collectives = [await lead, await duplicate];
    try {
      assert.ok(
        warnings.some((line) => /refused connection from 127\.0\.0\.1:\d+: wrong token/.test(line)),
        warnings.join('\n'),
      );
      const data = await Promise.all(collectives.map((c) => c.allreduceSum(Float32Array.from([1, 2]))));
      assert.deepEqual([...data[1]], [2, 4]);
    } finally {
      await closeAll(collectives);
    }
  });

  it('refuses a duplicate rank and a different world size', async () => {
    const { world } = await inProcessWorld(3);
    const lead = joinWorld(world(0), { timeoutMs: 10_000, warn: () => {} });
    const first = joinWorld(world(1), { timeoutMs: 10_000, warn: () => {} });
    await new Promise((resolve) => setTimeout(resolve, 200)); // let rank 1 join first
    const duplicate = await rejection(joinWorld(world(1), { timeoutMs: 10_000, warn: () => {} }));
    assert.match(duplicate.message, /^rendezvous refused: duplicate rank 1/);
    const otherSize = await rejection(joinWorld(world(2, { worldSize: 4 }), { timeoutMs: 10_000, warn: () => {} }));
    assert.match(otherSize.message, /^rendezvous refused: world size mismatch \(you say 4, rank 0 has 3\)/);
    const collectives = await Promise.all([lead, first, joinWorld(world(2), { timeoutMs: 10_000, warn: () => {} })]);
    await closeAll(collectives);
  });

  it('closes raw connections that send an oversized frame header or garbage, and reports them', async () => {
    const { world, port } = await inProcessWorld(2);
    const warnings: string[] = [];
    const lead = joinWorld(world(0), { timeoutMs: 10_000, warn: (line) => warnings.push(line) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = process.memoryUsage().arrayBuffers;
    const huge = encodeFrameHeader({ type: FRAME_TYPE.hello, dtype: DTYPE.none, tag: 0, payloadBytes: 0xffffffff });
    const oversized = await rawExchange(port, huge);
    assert.equal(oversized.closed, true);
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'the claimed 4 GiB were never allocated');
    const garbage = await rawExchange(port, Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    assert.equal(garbage.closed, true);
    assert.ok(
      warnings.some((line) =>
        /dropped connection from .*malformed frame: frame too large: claims 4294967295 bytes, limit 65536/.test(line),
      ),
      warnings.join('\n'),
    );
    assert.ok(
      warnings.some((line) => /dropped connection from .*malformed frame: bad magic/.test(line)),
      warnings.join('\n'),
    );
    const collectives = await Promise.all([lead, joinWorld(world(1), { timeoutMs: 10_000, warn: () => {} })]);
    await closeAll(collectives);
  });

  it('times out when a rank never joins, naming it; rank 0 tells those who came', async () => {
    const { world } = await inProcessWorld(3);
    const started = Date.now();
    const lead = joinWorld(world(0), { timeoutMs: 800, warn: () => {} });
    const second = joinWorld(world(1), { timeoutMs: 5_000, warn: () => {} });
    const [leadError, secondError] = await Promise.all([rejection(lead), rejection(second)]);
    assert.ok(Date.now() - started < 3_000);
    assert.ok(leadError instanceof RendezvousError);
    assert.match(leadError.message, /^rendezvous timed out after 0\.8 s: rank 2 never joined rank 0 at 127\.0\.0\.1:\d+$/);
    assert.ok(secondError instanceof RendezvousError);
    assert.equal(secondError.message, `rendezvous refused: rank 0 gave up: ${leadError.message}`);
  });

  it('times out a rank that joined when the world does not complete in its own time', async () => {
    const { world } = await inProcessWorld(3);
    const lead = joinWorld(world(0), { timeoutMs: 1_200, warn: () => {} });
    const second = await rejection(joinWorld(world(1), { timeoutMs: 500, warn: () => {} }));
    assert.match(
      second.message,
      /^rendezvous timed out after 0\.5 s: joined rank 0 at 127\.0\.0\.1:\d+, but not every rank joined in time$/,
    );
    await rejection(lead);
  });

  it('a rank that reached another program on the port (accepts, never answers) fails in seconds, saying so', async () => {
    const { world } = await inProcessWorld(2);
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const error = await rejection(joinWorld({ ...world(1), masterPort: port }, { timeoutMs: 60_000, ackTimeoutMs: 400, warn: () => {} }));
      assert.ok(Date.now() - started < 5_000, 'not the 60 s rendezvous deadline');
      assert.ok(error instanceof RendezvousError);
      assert.match(
        error.message,
        /^rendezvous failed: rank 0 at 127\.0\.0\.1:\d+ accepted the connection but did not answer the hello within 0\.4 s: is another program listening on that port \(MASTER_PORT\)\?$/,
      );
    } finally {
      silent.close();
    }
  });

  it('times out when rank 0 never comes, with the last connection error', async () => {
    const { world } = await inProcessWorld(2);
    const error = await rejection(joinWorld(world(1), { timeoutMs: 600, warn: () => {} }));
    assert.match(error.message, /^rendezvous timed out after 0\.6 s: could not reach rank 0 at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/);
  });

  it('refuses masterPort 0 for a world of several ranks', async () => {
    const error = await rejection(
      joinWorld({
        rank: 0,
        worldSize: 2,
        masterAddr: '127.0.0.1',
        masterPort: 0,
        bindAddr: '127.0.0.1',
        token: 't',
        launcher: 'ngd-bench',
        localRank: 0,
      }),
    );
    assert.ok(error instanceof WorldConfigError);
  });

  it('times out a call a rank never makes; the world is broken from then on', async () => {
    const collectives = await joinAll(2, { timeoutMs: 500 });
    try {
      const started = Date.now();
      const error = await rejection(collectives[0].allreduceMean(new Float32Array(10)));
      assert.ok(error instanceof CollectiveTimeoutError, String(error));
      assert.match(error.message, /^allreduce #0 on rank 0 timed out after 0\.5 s/);
      assert.ok(Date.now() - started < 2_000);
      const later = await rejection(collectives[1].allreduceMean(new Float32Array(10)));
      assert.ok(later instanceof PeerLostError, String(later));
      assert.match(later.message, /lost connection to rank 0 \(it failed: allreduce #0 on rank 0 timed out/);
      assert.equal(await rejection(collectives[0].barrier()), error, 'later calls reject with the first error');
    } finally {
      await closeAll(collectives);
    }
  });

  it('rejects calls whose arrays differ between ranks', async () => {
    const collectives = await joinAll(2);
    try {
      const errors = await Promise.all([
        rejection(collectives[0].allreduceSum(new Float32Array(10))),
        rejection(collectives[1].allreduceSum(new Float32Array(12))),
      ]);
      assert.ok(
        errors.some((e) => e instanceof CollectiveMismatchError && /sent a chunk of \d+ bytes where \d+ were expected/.test(e.message)),
        errors.join('\n'),
      );
      const types = await joinAll(2);
      const typeErrors = await Promise.all([
        rejection(types[0].allreduceSum(new Float32Array(4))),
        rejection(types[1].allreduceSum(new Float64Array(4))),
      ]);
      assert.ok(
        typeErrors.some((e) => e instanceof CollectiveMismatchError && /32-bit/.test(e.message)),
        typeErrors.join('\n'),
      );
      await closeAll(types);
    } finally {
      await closeAll(collectives);
    }
  });

  it('rejects a pending call promptly, naming the rank, when a peer closes', async () => {
    const collectives = await joinAll(3);
    const pending = collectives[0].allreduceMean(new Float32Array(1000));
    const other = collectives[2].allreduceMean(new Float32Array(1000));
    await collectives[1].close();
    const [error, otherError] = await Promise.all([rejection(pending), rejection(other)]);
    assert.ok(error instanceof PeerLostError);
    assert.match(error.message, /^lost connection to rank 1 \(/);
    assert.ok(otherError instanceof PeerLostError);
    assert.match(otherError.message, /rank 1/);
    await closeAll(collectives);
  });

  it('measures allreduce latency and bandwidth with the same number of calls on every rank', async () => {
    const collectives = await joinAll(2);
    try {
      const results = await Promise.all(
        collectives.map((c) => probeAllreduce(c, { sizesBytes: [4096, 10_000], iterations: 5, warmupIterations: 1 })),
      );
      for (const result of results) {
        assert.equal(result.worldSize, 2);
        assert.deepEqual(
          result.sizes.map((s) => [s.bytes, s.elements, s.samples]),
          [
            [4096, 1024, 5],
            [10_000, 2500, 5],
          ],
        );
        for (const size of result.sizes) {
          assert.ok(size.p50Ms > 0 && size.p99Ms >= size.p50Ms && size.meanMs > 0);
          assert.ok(Math.abs(size.busBandwidth - size.algorithmBandwidth) < 1e-6 * size.algorithmBandwidth, 'equal at N = 2');
          assert.ok(size.rme >= 0);
        }
      }
      assert.equal(collectives[0].stats.calls, 2 * (1 + 1 + 5));
    } finally {
      await closeAll(collectives);
    }
  });
});

describe('ring listener', () => {
  it('holds a successor that connects before this rank is ready for it', async () => {
    const listener = await RingListener.open('127.0.0.1');
    const early = connect({ host: '127.0.0.1', port: listener.port });
    await new Promise((resolve) => early.once('connect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the server has accepted it by now
    const taken = await new Promise<Socket>((resolve) => listener.take(resolve));
    assert.equal(taken.remotePort, early.localPort);
    listener.close();
    taken.destroy();
    early.destroy();
  });
});

describe('probe statistics', () => {
  it('summarize timings as mean, interpolated p50/p99 and a t-based relative margin of error', () => {
    const summary = summarizeLatencies([4, 1, 3, 2, 5]);
    assert.deepEqual([summary.samples, summary.meanMs, summary.p50Ms, summary.minMs, summary.maxMs], [5, 3, 3, 1, 5]);
    assert.ok(Math.abs(summary.p99Ms - 4.96) < 1e-12);
    assert.ok(Math.abs(summary.rme - (2.776 * Math.sqrt(2.5 / 5) * 100) / 3) < 1e-9);
    assert.ok(Number.isNaN(summarizeLatencies([7]).rme));
  });
});

// ---------------------------------------------------------------------------------------------------

/** Runs the allreduce fixture on `workers` processes; returns each rank's JSON lines. */
async function runAllreduceWorld(
  workers: number,
  spec: object,
): Promise<{ outcome: LocalWorldOutcome; lines: Record<string, unknown>[]; stderr: string[] }> {
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const outcome = await launchLocalWorld({
    command: process.execPath,
    args: [...NODE_TSX, fixture('allreduceWorker.ts'), JSON.stringify(spec)],
    workers,
    timeoutMs: 30_000,
    onStdoutLine: (_rank, line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    onStderrLine: (rank, line) => stderr.push(`[rank ${rank}] ${line}`),
  });
  return { outcome, lines, stderr };
}

const CASES = [
  { length: 0, dtype: 'float32' },
  { length: 1, dtype: 'float32' },
  { length: 2, dtype: 'float32' },
  { length: 7, dtype: 'float32' },
  { length: 1001, dtype: 'float32' },
  { length: 100_003, dtype: 'float32' }, // ~400 KB: many chunks of 16 KiB, many socket reads
  { length: 999, dtype: 'float64' },
  { length: 50_001, dtype: 'float64' },
];

describe('worlds of real processes', () => {
  for (const workers of [2, 3]) {
    it(`${workers} processes: allreduceMean equals the float64 mean, with bit-identical results on every rank`, async () => {
      const { outcome, lines, stderr } = await runAllreduceWorld(workers, { cases: CASES, chunkBytes: 16 * 1024 });
      assert.ok(outcome.ok, `${outcome.ok ? '' : outcome.reason}\n${stderr.join('\n')}`);
      assert.deepEqual(outcome.exitCodes, Array(workers).fill(0));
      for (const [index, testCase] of CASES.entries()) {
        const results = lines.filter((line) => line.index === index);
        assert.equal(results.length, workers, `case ${index}: one line per rank`);
        assert.equal(new Set(results.map((r) => r.sha256)).size, 1, `case ${index} (${JSON.stringify(testCase)}): ranks disagree`);
        // Inputs in [-1, 1): float32 sums carry ~N rounding steps of 2^-24; float64 ones of 2^-53.
        const tolerance = workers * (testCase.dtype === 'float32' ? 2 ** -23 : 2 ** -52);
        for (const r of results) {
          assert.ok((r.maxError as number) <= tolerance, `case ${index} rank ${r.rank}: error ${r.maxError} > ${tolerance}`);
          assert.equal(r.sameArray, true, 'in place');
        }
      }
    });
  }

  it('fails fast when a worker is killed mid-loop: names the rank, stops the others, leaves no process', async () => {
    const stderr: string[] = [];
    const iterations = [0, 0];
    let killed = false;
    let victim = 0;
    const started = Date.now();
    const outcome = await launchLocalWorld({
      command: process.execPath,
      args: [...NODE_TSX, fixture('loopWorker.ts')],
      workers: 2,
      timeoutMs: 30_000,
      onStdoutLine: (rank, line) => {
        const pid = /^ready pid=(\d+)$/.exec(line);
        if (pid && rank === 1) victim = Number(pid[1]);
        if (/^iteration \d+$/.test(line)) iterations[rank]++;
        if (!killed && victim !== 0 && iterations[1] >= 20) {
          killed = true;
          process.kill(victim, 'SIGKILL');
        }
      },
      onStderrLine: (rank, line) => stderr.push(`[rank ${rank}] ${line}`),
    });
    assert.ok(killed, `the loop ran: ${JSON.stringify(outcome)} ${stderr.join('\n')}`);
    assert.ok(!outcome.ok);
    assert.equal(outcome.failedRank, 1);
    assert.equal(outcome.reason, 'worker rank 1 was killed by SIGKILL');
    assert.ok(Date.now() - started < 30_000);
    // Rank 0 is stopped at once, so it may or may not get to report its side; if it does, it names rank 1.
    for (const line of stderr.filter((l) => l.startsWith('[rank 0]'))) assert.match(line, /lost connection to rank 1/);
    for (const pid of outcome.pids) assert.throws(() => process.kill(pid!, 0), { code: 'ESRCH' }, `process ${pid} is gone`);
  });

  it('rejects the pending call promptly with PeerLostError naming the rank when a peer process is killed', async () => {
    const { world, port, token } = await inProcessWorld(2);
    const worker = spawn(process.execPath, [...NODE_TSX, fixture('loopWorker.ts')], {
      env: { ...process.env, NGD_BENCH_RANK: '1', NGD_BENCH_WORLD_SIZE: '2', NGD_BENCH_MASTER_PORT: String(port), NGD_BENCH_TOKEN: token },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise((resolve) => worker.once('exit', (_code, signal) => resolve(signal)));
    const collective = await joinWorld(world(0), { timeoutMs: 15_000, warn: () => {} });
    const data = new Float32Array(64 * 1024); // as the worker's
    for (let i = 0; i < 20; i++) await collective.allreduceMean(data);
    const pending = collective.allreduceMean(data).then(() => collective.allreduceMean(data)); // this one cannot complete
    worker.kill('SIGKILL');
    const killedAt = Date.now();
    const error = await rejection(pending);
    assert.ok(Date.now() - killedAt < 2_000, 'promptly');
    assert.ok(error instanceof PeerLostError, String(error));
    assert.equal(error.peerRank, 1);
    assert.match(error.message, /^lost connection to rank 1 \((ECONNRESET|EPIPE|connection closed by peer)\)$/);
    assert.equal(await rejection(collective.barrier()), error, 'later calls reject at once with the same error');
    assert.equal(await exited, 'SIGKILL');
    await collective.close();
  });
});

// ---------------------------------------------------------------------------------------------------

describe('launchLocalWorld', () => {
  const launch = (behaviour: string, options: Partial<Parameters<typeof launchLocalWorld>[0]> = {}) => {
    const stdout: Record<string, unknown>[] = [];
    const stderr: string[] = [];
    const outcome = launchLocalWorld({
      command: process.execPath,
      args: [...NODE_TSX, fixture('launcherWorker.ts'), behaviour],
      workers: 3,
      onStdoutLine: (_rank, line) => stdout.push(JSON.parse(line) as Record<string, unknown>),
      onStderrLine: (rank, line) => stderr.push(`[rank ${rank}] ${line}`),
      ...options,
    });
    return { outcome, stdout, stderr };
  };

  it('gives every worker its rank, the world, a fresh token and a thread budget', async () => {
    const { outcome, stdout } = launch('ok', {
      threadsPerWorker: 2,
      pinGpus: true,
      env: { EXTRA_FOR_TEST: 'yes', CUDA_VISIBLE_DEVICES: '4,5,6,7' },
    });
    const result = await outcome;
    assert.ok(result.ok);
    assert.deepEqual(result.exitCodes, [0, 0, 0]);
    const byRank = [...stdout].sort((a, b) => (a.rank as number) - (b.rank as number));
    assert.deepEqual(
      byRank.map((w) => w.rank),
      [0, 1, 2],
    );
    assert.deepEqual(
      byRank.map((w) => w.cudaDevices),
      ['4', '5', '6'],
      'one GPU each, from the visible ones',
    );
    for (const worker of byRank) {
      assert.equal(worker.worldSize, '3');
      assert.equal(worker.tokenLength, 64);
      assert.equal(worker.openblasThreads, '2');
      assert.equal(worker.ompThreads, '2');
      assert.equal(worker.extra, 'yes');
      assert.equal(worker.port, byRank[0].port);
    }
  });

  it('refuses to pin more workers than visible GPUs', async () => {
    await assert.rejects(
      launch('ok', { pinGpus: true, env: { CUDA_VISIBLE_DEVICES: '0,1' } }).outcome,
      /pinGpus: 3 workers, but CUDA_VISIBLE_DEVICES lists 2 device/,
    );
  });

  it('stops the others when one exits non-zero, and quotes its last stderr line', async () => {
    const started = Date.now();
    const { outcome } = launch('exit-rank-1', { killGraceMs: 1_000 });
    const result = await outcome;
    assert.ok(!result.ok);
    assert.equal(result.failedRank, 1);
    assert.equal(result.reason, 'worker rank 1 exited with code 4: something went wrong in rank 1');
    assert.deepEqual(result.exitCodes, [null, 4, null]);
    assert.deepEqual(result.signals, ['SIGTERM', null, 'SIGTERM']);
    assert.ok(Date.now() - started < 15_000);
  });

  it('stops everyone when the world times out', async () => {
    const { outcome } = launch('sleep', { timeoutMs: 1_500 });
    const result = await outcome;
    assert.ok(!result.ok);
    assert.equal(result.failedRank, null);
    assert.equal(result.reason, 'timed out after 1.5 s');
    for (const pid of result.pids) assert.throws(() => process.kill(pid!, 0), { code: 'ESRCH' });
  });

  it('reports a worker that cannot be started', async () => {
    const result = await launchLocalWorld({ command: '/nonexistent/ngd-bench-worker', args: [], workers: 2, onStderrLine: () => {} });
    assert.ok(!result.ok);
    assert.match(result.reason, /^worker rank \d could not be started: .*ENOENT/);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`leaves no worker behind when the launching process gets ${signal}`, async () => {
      const parent = spawn(process.execPath, [...NODE_TSX, fixture('launcherParent.ts'), '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((resolve) => parent.once('exit', (code, signalName) => resolve(signalName ?? code)));
      const pids: number[] = [];
      await new Promise<void>((resolve, reject) => {
        let buffered = '';
        parent.stdout.on('data', (piece: Buffer) => {
          buffered += piece.toString();
          for (const line of buffered.split('\n').slice(0, -1)) pids.push(Number((JSON.parse(line) as { pid: number }).pid));
          buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
          if (pids.length === 2) resolve();
        });
        parent.once('exit', () => reject(new Error('the launcher exited early')));
      });
      parent.kill(signal);
      assert.equal(await exited, signal);
      await waitFor(() => pids.every((pid) => !isAlive(pid)), 5_000);
      for (const pid of pids) assert.equal(isAlive(pid), false, `worker ${pid} outlived its launcher`);
    });
  }

  it("quotes a crash's error line, not its stack or Node's banner", () => {
    const lines = ['file:///x.ts:3', "throw new Error('boom');", '^', '', 'Error: boom', '    at file:///x.ts:3:7', '', 'Node.js v20.20.2'];
    assert.equal(lastMeaningfulLine(lines), 'Error: boom');
    assert.equal(lastMeaningfulLine(['', '  ']), null);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

// ---------------------------------------------------------------------------------------------------

describe('loopback throughput', () => {
  it('streams between two processes, one way and both ways, and reports bytes per second', async () => {
    for (const duplex of [false, true]) {
      const result = await measureLoopbackThroughput({ totalBytes: 4 * 1024 * 1024, writeBytes: 256 * 1024, repetitions: 3, duplex });
      assert.equal(result.samples.length, 3);
      assert.equal(result.duplex, duplex);
      assert.ok(result.bytesPerSecond > 1e6, `${result.bytesPerSecond} B/s`);
    }
  });
});
