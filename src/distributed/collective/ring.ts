/**
 * The ring: data flows from rank r to rank r+1 (mod N). The RECEIVING side opens the TCP connection
 * (rank r+1 connects to rank r's listener), because only a socket we connect can read into one
 * reused buffer (ReadRelay), which halves the CPU cost of receiving. The connecting rank presents the
 * token and its rank; a connection that is not the expected successor with the right token is
 * refused and the listener keeps waiting.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { formatSeconds, withDeadline } from './deadline.js';
import { FrameError, RendezvousError } from './errors.js';
import { FramedConnection } from './framedConnection.js';
import { decodeJsonPayload, FRAME_TYPE, HANDSHAKE_MAX_MESSAGE_BYTES, type Frame } from './frames.js';
import { parseRefusal, parseRingHello, plainAddress, ringHelloProblem, type RingEndpoint, type RingHello } from './handshake.js';
import { ConnectFailed, connectWithRetry, listen, ReadRelay } from './tcp.js';
import type { WorldInfo } from './worldInfo.js';

/** Bytes per read on the receiving link. */
const READ_BUFFER_BYTES = 1024 * 1024;

export interface RingLinks {
  /** From rank r-1: we receive on it. */
  prev: FramedConnection;
  /** To rank r+1: we send on it. */
  next: FramedConnection;
}

export interface RingOptions {
  deadline: number;
  timeoutMs: number;
  /** Frame limit on the receiving link once the neighbour is known. */
  maxMessageBytes: number;
  warn: (line: string) => void;
}

/**
 * Where our ring successor connects, on bindAddr, any free port. It is opened before the rendezvous
 * (its port goes into the table) and the successor may connect as soon as IT has the table, possibly
 * before we have ours: connections are held until `take` hands them to a handler.
 */
export class RingListener {
  private backlog: Socket[] = [];
  private handler: ((socket: Socket) => void) | null = null;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {
    server.on('connection', (socket: Socket) => {
      if (this.handler) this.handler(socket);
      else this.backlog.push(socket);
    });
  }

  static async open(bindAddr: string): Promise<RingListener> {
    const server = createServer();
    try {
      return new RingListener(server, await listen(server, 0, bindAddr));
    } catch (error) {
      throw new RendezvousError(
        `cannot listen for the ring on ${bindAddr} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
  }

  /** Hands held and future connections to `handler`. */
  take(handler: (socket: Socket) => void): void {
    this.handler = handler;
    for (const socket of this.backlog.splice(0)) handler(socket);
  }

  /** Stops accepting; connections nobody took are closed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler = null;
    this.server.close();
    for (const socket of this.backlog.splice(0)) socket.destroy();
  }
}

export async function connectRing(
  world: WorldInfo,
  table: readonly RingEndpoint[],
  listener: RingListener,
  options: RingOptions,
): Promise<RingLinks> {
  const predecessor = (world.rank - 1 + world.worldSize) % world.worldSize;
  const successor = (world.rank + 1) % world.worldSize;
  const [prev, next] = await Promise.allSettled([
    connectPredecessor(world, predecessor, table[predecessor], options),
    acceptSuccessor(world, successor, listener, options),
  ]);
  if (prev.status === 'fulfilled' && next.status === 'fulfilled') return { prev: prev.value, next: next.value };
  if (prev.status === 'fulfilled') prev.value.destroy();
  if (next.status === 'fulfilled') next.value.destroy();
  throw prev.status === 'rejected' ? prev.reason : (next as PromiseRejectedResult).reason;
}

async function acceptSuccessor(
  world: WorldInfo,
  successor: number,
  listener: RingListener,
  options: RingOptions,
): Promise<FramedConnection> {
  const candidates = new Set<FramedConnection>();
  let accept: (connection: FramedConnection) => void = () => {};
  const accepted = new Promise<FramedConnection>((resolve) => (accept = resolve));
  let done = false;

  const refuse = (connection: FramedConnection, reason: string) => {
    options.warn(`ring: refused ${connection.label}: ${reason}`);
    candidates.delete(connection);
    try {
      connection.sendJson(FRAME_TYPE.refuse, { reason });
    } catch {
      // already gone
    }
    void connection.close();
  };

  const onConnection = (socket: Socket) => {
    const connection = new FramedConnection(
      socket,
      HANDSHAKE_MAX_MESSAGE_BYTES,
      `connection from ${plainAddress(socket.remoteAddress)}:${socket.remotePort}`,
    );
    candidates.add(connection);
    const onRingHello = (frame: Frame) => {
      let hello: RingHello;
      try {
        if (frame.type !== FRAME_TYPE.ringHello) throw new FrameError(`expected a ring hello, got frame type ${frame.type}`);
        hello = parseRingHello(decodeJsonPayload(frame));
      } catch (error) {
        refuse(connection, `malformed ring hello: ${(error as Error).message}`);
        return;
      }
      const problem = done
        ? `rank ${world.rank} already has its successor`
        : ringHelloProblem(hello, { token: world.token, worldSize: world.worldSize, successor });
      if (problem) {
        refuse(connection, problem);
        return;
      }
      connection.peerRank = successor;
      connection.sendJson(FRAME_TYPE.ringWelcome, {});
      candidates.delete(connection);
      done = true;
      accept(connection);
    };
    connection
      .receive()
      .then(onRingHello)
      .catch((error: Error) => {
        options.warn(`ring: dropped ${error.message}`);
        candidates.delete(connection);
        connection.destroy();
      });
  };

  listener.take(onConnection);
  try {
    return await withDeadline(
      accepted,
      options.deadline,
      () => new RendezvousError(`ring: rank ${successor} did not connect to rank ${world.rank} within ${formatSeconds(options.timeoutMs)}`),
    );
  } finally {
    listener.close();
    for (const connection of candidates) connection.destroy();
  }
}

async function connectPredecessor(
  world: WorldInfo,
  predecessor: number,
  endpoint: RingEndpoint,
  options: RingOptions,
): Promise<FramedConnection> {
  const where = `rank ${predecessor} at ${endpoint.host}:${endpoint.port}`;
  const relay = new ReadRelay(READ_BUFFER_BYTES);
  let socket: Socket;
  try {
    socket = await connectWithRetry(endpoint.host, endpoint.port, options.deadline, relay);
  } catch (error) {
    throw new RendezvousError(
      `ring: cannot connect to ${where} (${error instanceof ConnectFailed ? error.code : (error as Error).message})`,
    );
  }
  // The endpoint came from the authenticated rendezvous table, and data may follow the welcome in
  // the same read: accept data frames from the start.
  const connection = new FramedConnection(socket, options.maxMessageBytes, where, relay);
  connection.peerRank = predecessor;
  try {
    const hello: RingHello = { token: world.token, rank: world.rank, worldSize: world.worldSize };
    connection.sendJson(FRAME_TYPE.ringHello, hello);
    const reply = await withDeadline(
      connection.receive(),
      options.deadline,
      () => new RendezvousError(`ring: ${where} did not answer within ${formatSeconds(options.timeoutMs)}`),
    );
    if (reply.type === FRAME_TYPE.refuse) throw new RendezvousError(`ring: ${where} refused: ${parseRefusal(decodeJsonPayload(reply))}`);
    if (reply.type !== FRAME_TYPE.ringWelcome) throw new RendezvousError(`ring: ${where} answered with frame type ${reply.type}`);
    return connection;
  } catch (error) {
    connection.destroy();
    if (error instanceof RendezvousError) throw error;
    throw new RendezvousError(`ring: handshake with ${where} failed (${(error as Error).message})`);
  }
}
