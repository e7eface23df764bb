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
import { decodeJsonPayload, FRAME_TYPE, HANDSHAKE_MAX_MESSAGE_BYTES } from './frames.js';
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

/** A listener for our ring successor on bindAddr, any free port. */
export async function openRingListener(bindAddr: string): Promise<{ server: Server; port: number }> {
  const server = createServer();
  try {
    return { server, port: await listen(server, 0, bindAddr) };
  } catch (error) {
    throw new RendezvousError(`cannot listen for the ring on ${bindAddr} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

export async function connectRing(world: WorldInfo, table: readonly RingEndpoint[], listener: Server, options: RingOptions): Promise<RingLinks> {
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

async function acceptSuccessor(world: WorldInfo, successor: number, listener: Server, options: RingOptions): Promise<FramedConnection> {
  const candidates = new Set<FramedConnection>();
  let accept: (connection: FramedConnection) => void = () => {};
  const accepted = new Promise<FramedConnection>((resolve) => (accept = resolve));

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
    const connection = new FramedConnection(socket, HANDSHAKE_MAX_MESSAGE_BYTES, `connection from ${plainAddress(socket.remoteAddress)}:${socket.remotePort}`);
    candidates.add(connection);
    connection.receive().then(
      (frame) => {
        let hello: RingHello;
        try {
          if (frame.type !== FRAME_TYPE.ringHello) throw new FrameError(`expected a ring hello, got frame type ${frame.type}`);
          hello = parseRingHello(decodeJsonPayload(frame));
        } catch (error) {
          refuse(connection, `malformed ring hello: ${(error as Error).message}`);
          return;
        }
        const problem = ringHelloProblem(hello, { token: world.token, worldSize: world.worldSize, successor });
        if (problem) {
          refuse(connection, problem);
          return;
        }
        candidates.delete(connection);
        connection.peerRank = successor;
        connection.sendJson(FRAME_TYPE.ringWelcome, {});
        accept(connection);
      },
      (error: Error) => {
        options.warn(`ring: dropped ${error.message}`);
        candidates.delete(connection);
        connection.destroy();
      },
    );
  };

  listener.on('connection', onConnection);
  try {
    return await withDeadline(
      accepted,
      options.deadline,
      () => new RendezvousError(`ring: rank ${successor} did not connect to rank ${world.rank} within ${formatSeconds(options.timeoutMs)}`),
    );
  } finally {
    listener.off('connection', onConnection);
    for (const connection of candidates) connection.destroy();
  }
}

async function connectPredecessor(world: WorldInfo, predecessor: number, endpoint: RingEndpoint, options: RingOptions): Promise<FramedConnection> {
  const where = `rank ${predecessor} at ${endpoint.host}:${endpoint.port}`;
  const relay = new ReadRelay(READ_BUFFER_BYTES);
  let socket: Socket;
  try {
    socket = await connectWithRetry(endpoint.host, endpoint.port, options.deadline, relay);
  } catch (error) {
    throw new RendezvousError(`ring: cannot connect to ${where} (${error instanceof ConnectFailed ? error.code : (error as Error).message})`);
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
