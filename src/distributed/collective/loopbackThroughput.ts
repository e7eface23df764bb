/**
 * The reference for the allreduce: raw TCP throughput on loopback between two processes (this one and
 * a child node process), moved the way a ring link moves it: `writeBytes` writes with backpressure,
 * and the receiving side reading into one reused 1 MiB buffer (`onread`, as our ring does; Node's
 * default 64 KiB reads cost the receiver about twice the CPU). One-directional by default: we send,
 * the child receives and acknowledges each stream. `duplex`: both send `totalBytes` at the same time,
 * over two connections, which is what each rank of a 2-rank ring does. The child is a few lines of
 * plain JavaScript run with `node -e`, so it starts fast and runs the same from src (tsx) and dist.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { closeServer, listen } from './tcp.js';
import { LOOPBACK } from './worldInfo.js';
import { median } from '../../util/stats.js';

export interface LoopbackThroughputOptions {
  /** Bytes per timed stream, per direction (default 256 MiB). */
  totalBytes?: number;
  /** Bytes per socket write (default 1 MiB). */
  writeBytes?: number;
  /** Timed streams; the median is reported (default 5). One untimed stream warms up first. */
  repetitions?: number;
  /** Both directions at once (default false). */
  duplex?: boolean;
}

export interface LoopbackThroughputResult {
  totalBytes: number;
  writeBytes: number;
  duplex: boolean;
  /** Median over the repetitions, bytes per second in ONE direction. */
  bytesPerSecond: number;
  /** Each repetition's bytes per second (one direction). */
  samples: number[];
}

const READ_BUFFER_BYTES = 1024 * 1024;

// argv: total, 'duplex' | 'simplex', writeBytes, our port. Receives our streams on a connection it
// opens (reading with onread), acknowledging each complete one with a byte; in duplex mode it also
// listens (port printed on stdout), and per stream sends `total` bytes to us on the connection we open.
const PEER_SOURCE = `
const net = require('node:net');
const [total, mode, writeBytes, port] = [Number(process.argv[1]), process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const chunk = Buffer.alloc(Math.min(total, writeBytes), 0x5a);
let back = null;
const sendAll = async () => {
  for (let sent = 0; sent < total; ) {
    const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
    sent += piece.length;
    if (!back.write(piece)) await new Promise((resolve) => back.once('drain', resolve));
  }
};
let received = 0, started = false;
const onread = { buffer: Buffer.allocUnsafe(${READ_BUFFER_BYTES}), callback: (n) => {
  if (back && !started) { started = true; sendAll(); }
  received += n;
  while (received >= total) { received -= total; started = false; forth.write('k'); }
  return true;
} };
const forth = net.connect({ host: '127.0.0.1', port, onread });
forth.setNoDelay(true);
forth.on('error', () => {});
forth.on('close', () => { if (back) back.destroy(); if (server) server.close(); });
const server = mode === 'duplex' ? net.createServer((socket) => { back = socket; back.setNoDelay(true); back.on('error', () => {}); server.close(); }) : null;
if (server) server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
else process.stdout.write('0\\n');
`;

export async function measureLoopbackThroughput(options: LoopbackThroughputOptions = {}): Promise<LoopbackThroughputResult> {
  const writeBytes = options.writeBytes ?? 1024 * 1024;
  const totalBytes = Math.max(writeBytes, options.totalBytes ?? 256 * 1024 * 1024);
  const repetitions = options.repetitions ?? 5;
  const duplex = options.duplex ?? false;
  const server: Server = createServer();
  const port = await listen(server, 0, LOOPBACK);
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const peer = execa(
    process.execPath,
    ['-e', PEER_SOURCE, String(totalBytes), duplex ? 'duplex' : 'simplex', String(writeBytes), String(port)],
    {
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'inherit',
      buffer: false,
      reject: false,
    },
  );
  let back: Socket | undefined;
  try {
    const peerPort = Number(await firstLine(peer.stdout));
    const forth = await accepted;
    forth.setNoDelay(true);
    const acknowledged = counter();
    forth.on('data', (piece: Buffer) => acknowledged.add(piece.length));
    const backBytes = counter();
    if (duplex) back = await connectReading(peerPort, (bytes) => backBytes.add(bytes));
    const chunk = Buffer.alloc(writeBytes, 0x5a);
    const samples: number[] = [];
    for (let i = 0; i <= repetitions; i++) {
      const start = performance.now();
      const done = Promise.all([acknowledged.until(i + 1), duplex ? backBytes.until((i + 1) * totalBytes) : undefined]);
      await writeStream(forth, chunk, totalBytes);
      await done;
      const seconds = (performance.now() - start) / 1000;
      if (i > 0) samples.push(totalBytes / seconds); // the first stream warms up
    }
    forth.end();
    back?.end();
    await peer;
    return { totalBytes, writeBytes, duplex, bytesPerSecond: median(samples), samples };
  } finally {
    back?.destroy();
    if (peer.exitCode === null) peer.kill();
    await closeServer(server);
  }
}

/** Writes `totalBytes` (whole chunks, then a partial one), waiting for 'drain' when the socket asks. */
async function writeStream(socket: Socket, chunk: Buffer, totalBytes: number): Promise<void> {
  for (let sent = 0; sent < totalBytes; ) {
    const piece = totalBytes - sent >= chunk.length ? chunk : chunk.subarray(0, totalBytes - sent);
    sent += piece.length;
    if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve));
  }
}

/** A running count; `until(n)` resolves once it reached n. */
function counter(): { add: (n: number) => void; until: (n: number) => Promise<void> } {
  let count = 0;
  const waiters: { target: number; resolve: () => void }[] = [];
  return {
    add(n) {
      count += n;
      while (waiters.length > 0 && count >= waiters[0].target) waiters.shift()!.resolve();
    },
    until: (target) => (count >= target ? Promise.resolve() : new Promise((resolve) => waiters.push({ target, resolve }))),
  };
}

function connectReading(port: number, onBytes: (count: number) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const onread = {
      buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
      callback: (count: number) => {
        onBytes(count);
        return true;
      },
    };
    const socket = connect({ host: LOOPBACK, port, onread }, () => {
      socket.off('error', reject);
      socket.setNoDelay(true);
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
    lines.once('close', () => reject(new Error('the loopback peer exited before printing its port')));
  });
}
