/**
 * The rendezvous: every rank tells rank 0 where its ring listener is; once all have joined, rank 0
 * sends everyone the table. A hello with a wrong token, a duplicate rank or another world size is
 * refused (a `refuse` frame with the reason, then the connection is closed) and rank 0 keeps waiting
 * for the real ranks: a stray or hostile connection cannot break a world, only delay it. A valid hello
 * is acknowledged at once (`helloAccepted`), so a rank that reached some other program on the port
 * fails within seconds (HELLO_ACK_TIMEOUT_MS) instead of at the rendezvous deadline.
 */
import { createServer, type Socket } from 'node:net';
import { formatSeconds, withDeadline } from './deadline.js';
import { FrameError, RendezvousError } from './errors.js';
import { FramedConnection } from './framedConnection.js';
import { decodeJsonPayload, FRAME_TYPE, HANDSHAKE_MAX_MESSAGE_BYTES, type Frame } from './frames.js';
import { helloProblem, parseHello, parseRefusal, parseWelcome, plainAddress, type Hello, type RingEndpoint } from './handshake.js';
import { ConnectFailed, connectWithRetry, listen } from './tcp.js';
import type { WorldInfo } from './worldInfo.js';

export interface RendezvousOptions {
  /** Epoch ms by which the table must be complete. */
  deadline: number;
  /** The budget the deadline came from, for messages. */
  timeoutMs: number;
  /** How long rank 0 may take to acknowledge a hello (default HELLO_ACK_TIMEOUT_MS). */
  ackTimeoutMs?: number;
  chunkBytes: number;
  warn: (line: string) => void;
}

/** Rank 0: listen on bindAddr:masterPort until every other rank joined; returns the table. */
export async function hostRendezvous(world: WorldInfo, own: RingEndpoint, options: RendezvousOptions): Promise<RingEndpoint[]> {
  const server = createServer();
  try {
    await listen(server, world.masterPort, world.bindAddr);
  } catch (error) {
    throw new RendezvousError(
      `rank 0 cannot listen on ${world.bindAddr}:${world.masterPort} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const joined = new Map<number, { connection: FramedConnection; endpoint: RingEndpoint }>();
  const connections = new Set<FramedConnection>();
  let complete: (table: RingEndpoint[]) => void = () => {};
  const everyoneJoined = new Promise<RingEndpoint[]>((resolve) => (complete = resolve));

  const refuse = (connection: FramedConnection, reason: string, report = true) => {
    if (report) options.warn(`rendezvous: refused ${connection.label}: ${reason}`);
    connections.delete(connection);
    try {
      connection.sendJson(FRAME_TYPE.refuse, { reason });
    } catch {
      // already gone: nothing to tell
    }
    void connection.close();
  };

  const onHello = (connection: FramedConnection, frame: Frame) => {
    let hello: Hello;
    try {
      if (frame.type !== FRAME_TYPE.hello) throw new FrameError(`expected a hello, got frame type ${frame.type}`);
      hello = parseHello(decodeJsonPayload(frame));
    } catch (error) {
      refuse(connection, `malformed hello: ${(error as Error).message}`);
      return;
    }
    const problem = helloProblem(
      hello,
      { token: world.token, worldSize: world.worldSize, chunkBytes: options.chunkBytes },
      new Set(joined.keys()),
    );
    if (problem) {
      refuse(connection, problem);
      return;
    }
    connection.peerRank = hello.rank;
    // At once, so a rank that reached some other program listening on the port learns it in seconds, not at the deadline.
    connection.sendJson(FRAME_TYPE.helloAccepted, {});
    const endpoint = { host: hello.host === '' ? plainAddress(connection.socket.remoteAddress) : hello.host, port: hello.port };
    joined.set(hello.rank, { connection, endpoint });
    connection.onLost((error) => {
      if (joined.get(hello.rank)?.connection !== connection) return;
      joined.delete(hello.rank);
      options.warn(`rendezvous: rank ${hello.rank} left before the world was complete (${error.message})`);
    });
    if (joined.size === world.worldSize - 1) {
      const table = [own, ...[...joined.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry.endpoint)];
      for (const { connection: peer } of joined.values()) {
        try {
          peer.sendJson(FRAME_TYPE.welcome, { peers: table });
        } catch {
          // it left this instant: its own joinWorld fails, and so will the ring
        }
        connections.delete(peer);
        void peer.close();
      }
      complete(table);
    }
  };

  server.on('connection', (socket: Socket) => {
    const connection = new FramedConnection(
      socket,
      HANDSHAKE_MAX_MESSAGE_BYTES,
      `connection from ${plainAddress(socket.remoteAddress)}:${socket.remotePort}`,
    );
    connections.add(connection);
    connection
      .receive()
      .then((frame) => onHello(connection, frame))
      .catch((error: Error) => {
        options.warn(`rendezvous: dropped ${error.message}`);
        connection.destroy();
      });
  });

  try {
    return await withDeadline(everyoneJoined, options.deadline, () => {
      const missing = range(1, world.worldSize).filter((rank) => !joined.has(rank));
      const error = new RendezvousError(
        `rendezvous timed out after ${formatSeconds(options.timeoutMs)}: rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')} never joined rank 0 at ${world.bindAddr}:${world.masterPort}${multiHostHint(world)}`,
      );
      // Tell those who came why they are sent away, rather than just hanging up on them.
      for (const { connection } of joined.values()) refuse(connection, `rank 0 gave up: ${error.message}`, false);
      return error;
    });
  } finally {
    // Stop accepting; welcomed and refused connections finish closing on their own.
    server.close();
    for (const connection of connections) connection.destroy();
  }
}

/** How long rank 0 may take to acknowledge a hello (it answers at once; the welcome may take the whole rendezvous). */
export const HELLO_ACK_TIMEOUT_MS = 10_000;

/** Rank > 0: reach rank 0 (retrying until it listens), introduce ourselves, wait for the table. */
export async function joinRendezvous(world: WorldInfo, own: RingEndpoint, options: RendezvousOptions): Promise<RingEndpoint[]> {
  const where = `rank 0 at ${world.masterAddr}:${world.masterPort}`;
  const timedOut = (what: string) => new RendezvousError(`rendezvous timed out after ${formatSeconds(options.timeoutMs)}: ${what}`);
  let socket: Socket;
  try {
    socket = await connectWithRetry(world.masterAddr, world.masterPort, options.deadline);
  } catch (error) {
    throw timedOut(
      `could not reach ${where} (${error instanceof ConnectFailed ? error.code : (error as Error).message})${multiHostHint(world)}`,
    );
  }
  // Rank 0 is who we chose to trust; its table grows with the world.
  const connection = new FramedConnection(socket, HANDSHAKE_MAX_MESSAGE_BYTES + 512 * world.worldSize, where);
  try {
    const hello: Hello = {
      token: world.token,
      rank: world.rank,
      worldSize: world.worldSize,
      host: own.host,
      port: own.port,
      chunkBytes: options.chunkBytes,
    };
    connection.sendJson(FRAME_TYPE.hello, hello);
    const closedWithoutAnswer = (error: Error) => {
      throw error instanceof RendezvousError
        ? error
        : new RendezvousError(`rendezvous failed: ${where} closed the connection without answering (${error.message})`);
    };
    const ackTimeoutMs = options.ackTimeoutMs ?? HELLO_ACK_TIMEOUT_MS;
    const ackDeadline = Math.min(options.deadline, Date.now() + ackTimeoutMs);
    let reply = await withDeadline(
      connection.receive(),
      ackDeadline,
      () =>
        new RendezvousError(
          `rendezvous failed: ${where} accepted the connection but did not answer the hello within ${formatSeconds(ackDeadline === options.deadline ? options.timeoutMs : ackTimeoutMs)}: is another program listening on that port (MASTER_PORT)?`,
        ),
    ).catch(closedWithoutAnswer);
    if (reply.type === FRAME_TYPE.helloAccepted) {
      reply = await withDeadline(connection.receive(), options.deadline, () =>
        timedOut(`joined ${where}, but not every rank joined in time`),
      ).catch(closedWithoutAnswer);
    }
    if (reply.type === FRAME_TYPE.refuse) throw new RendezvousError(`rendezvous refused: ${parseRefusal(decodeJsonPayload(reply))}`);
    if (reply.type !== FRAME_TYPE.welcome) throw new RendezvousError(`rendezvous failed: ${where} answered with frame type ${reply.type}`);
    const table = parseWelcome(decodeJsonPayload(reply), world.worldSize);
    if (table[world.rank].port !== own.port)
      throw new RendezvousError(`rendezvous failed: the table from ${where} does not list this rank's listener`);
    return table;
  } catch (error) {
    if (error instanceof FrameError) throw new RendezvousError(`rendezvous failed: ${where} sent a malformed reply (${error.message})`);
    throw error;
  } finally {
    connection.destroy();
  }
}

/** Ranks on several hosts must listen on a reachable address: loopback is the default. */
function multiHostHint(world: WorldInfo): string {
  const loopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');
  return !loopback(world.masterAddr) && loopback(world.bindAddr)
    ? '; on several hosts set NGD_BENCH_BIND_ADDR (e.g. 0.0.0.0) on every rank'
    : '';
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
