/**
 * The reference for the allreduce: raw one-directional TCP throughput on loopback between two
 * processes (this one sends, a child node process counts and acknowledges), in `writeBytes` writes
 * with backpressure, as a ring link of a local world would carry it. The sink is a few lines of plain
 * JavaScript run with `node -e`, so it starts fast and runs the same from src (tsx) and from dist.
 */
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { LOOPBACK } from './worldInfo.js';

export interface LoopbackThroughputOptions {
  /** Bytes per timed stream (default 256 MiB). */
  totalBytes?: number;
  /** Bytes per socket write (default 1 MiB). */
  writeBytes?: number;
  /** Timed streams; the median is reported (default 5). One untimed stream warms up first. */
  repetitions?: number;
}

export interface LoopbackThroughputResult {
  totalBytes: number;
  writeBytes: number;
  /** Median over the repetitions, bytes per second. */
  bytesPerSecond: number;
  /** Each repetition's bytes per second. */
  samples: number[];
}

// Acknowledges each complete stream of `total` bytes with one byte.
const SINK_SOURCE = `
const net = require('node:net');
const total = Number(process.argv[1]);
const server = net.createServer((socket) => {
  let received = 0;
  socket.on('data', (chunk) => {
    received += chunk.length;
    while (received >= total) { received -= total; socket.write('k'); }
  });
  socket.on('error', () => {});
  socket.on('close', () => server.close());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

export async function measureLoopbackThroughput(options: LoopbackThroughputOptions = {}): Promise<LoopbackThroughputResult> {
  const writeBytes = options.writeBytes ?? 1024 * 1024;
  const totalBytes = Math.max(writeBytes, options.totalBytes ?? 256 * 1024 * 1024);
  const repetitions = options.repetitions ?? 5;
  const sink = execa(process.execPath, ['-e', SINK_SOURCE, String(totalBytes)], { stdin: 'ignore', stdout: 'pipe', stderr: 'inherit', buffer: false, reject: false });
  try {
    const port = Number(await firstLine(sink.stdout));
    const socket = await connected(port);
    const chunk = Buffer.alloc(writeBytes, 0x5a);
    const samples: number[] = [];
    for (let i = 0; i <= repetitions; i++) {
      const start = performance.now();
      await streamOnce(socket, chunk, totalBytes);
      const seconds = (performance.now() - start) / 1000;
      if (i > 0) samples.push(totalBytes / seconds); // the first stream warms up
    }
    socket.end();
    await sink;
    const sorted = [...samples].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    return { totalBytes, writeBytes, bytesPerSecond: median, samples };
  } finally {
    if (sink.exitCode === null) sink.kill();
  }
}

/** Writes `totalBytes` (whole chunks, then a partial one) and waits for the sink's acknowledgement. */
async function streamOnce(socket: Socket, chunk: Buffer, totalBytes: number): Promise<void> {
  const acknowledged = new Promise<void>((resolve, reject) => {
    socket.once('data', () => resolve());
    socket.once('error', reject);
  });
  for (let sent = 0; sent < totalBytes; ) {
    const piece = totalBytes - sent >= chunk.length ? chunk : chunk.subarray(0, totalBytes - sent);
    sent += piece.length;
    if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await acknowledged;
}

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: LOOPBACK, port }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stream });
    lines.once('line', (line) => {
      resolve(line.trim());
      lines.close();
    });
    lines.once('close', () => reject(new Error('the loopback sink exited before printing its port')));
  });
}
