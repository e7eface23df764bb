/**
 * The handshake messages (JSON control frames) and their checks. Tokens are compared in constant
 * time over their sha256 digests, so neither the content nor the length of the real token leaks
 * through response timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { FrameError } from './errors.js';

/** A rank's introduction to rank 0. */
export interface Hello {
  token: string;
  rank: number;
  worldSize: number;
  /** Address of the sender's ring listener; '' = "the address you see me connecting from". */
  host: string;
  port: number;
  /** Ranks must agree on the chunking, or their data frames would not line up. */
  chunkBytes: number;
}

/** Where rank r's ring listener is; the rendezvous table holds one per rank, indexed by rank. */
export interface RingEndpoint {
  host: string;
  port: number;
}

/** A rank's introduction to its ring predecessor (the receiver connects to the sender). */
export interface RingHello {
  token: string;
  rank: number;
  worldSize: number;
}

export function tokensMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(expected));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** What the world expects of every hello. */
export interface HelloExpectation {
  token: string;
  worldSize: number;
  chunkBytes: number;
}

/**
 * Why `hello` cannot join (a one-line reason sent back to the peer), or null. The token is checked
 * first so that a stranger learns nothing about the world.
 */
export function helloProblem(hello: Hello, expected: HelloExpectation, joined: ReadonlySet<number>): string | null {
  if (!tokensMatch(hello.token, expected.token)) return 'wrong token';
  if (hello.worldSize !== expected.worldSize) return `world size mismatch (you say ${hello.worldSize}, rank 0 has ${expected.worldSize})`;
  if (hello.rank < 1 || hello.rank >= expected.worldSize) return `rank ${hello.rank} is not in 1..${expected.worldSize - 1}`;
  if (joined.has(hello.rank)) return `duplicate rank ${hello.rank} (already joined)`;
  if (hello.port < 1 || hello.port > 65535 || hello.host.length > 255) return 'the ring listener address is not a TCP endpoint';
  if (hello.chunkBytes !== expected.chunkBytes)
    return `chunkBytes mismatch (you use ${hello.chunkBytes}, rank 0 uses ${expected.chunkBytes})`;
  return null;
}

export function ringHelloProblem(hello: RingHello, expected: { token: string; worldSize: number; successor: number }): string | null {
  if (!tokensMatch(hello.token, expected.token)) return 'wrong token';
  if (hello.worldSize !== expected.worldSize)
    return `world size mismatch (you say ${hello.worldSize}, this rank has ${expected.worldSize})`;
  if (hello.rank !== expected.successor) return `rank ${hello.rank} is not this rank's ring successor (rank ${expected.successor})`;
  return null;
}

export function parseHello(body: Record<string, unknown>): Hello {
  return {
    token: field(body, 'token', 'string'),
    rank: integerField(body, 'rank'),
    worldSize: integerField(body, 'worldSize'),
    host: field(body, 'host', 'string'),
    port: integerField(body, 'port'),
    chunkBytes: integerField(body, 'chunkBytes'),
  };
}

export function parseRingHello(body: Record<string, unknown>): RingHello {
  return { token: field(body, 'token', 'string'), rank: integerField(body, 'rank'), worldSize: integerField(body, 'worldSize') };
}

/** The rendezvous table, checked: one reachable endpoint per rank. */
export function parseWelcome(body: Record<string, unknown>, worldSize: number): RingEndpoint[] {
  const peers = body.peers;
  if (!Array.isArray(peers) || peers.length !== worldSize) throw new FrameError(`welcome does not list ${worldSize} ranks`);
  return peers.map((peer, rank) => {
    if (typeof peer !== 'object' || peer === null) throw new FrameError(`welcome entry ${rank} is not an object`);
    const endpoint = {
      host: field(peer as Record<string, unknown>, 'host', 'string'),
      port: integerField(peer as Record<string, unknown>, 'port'),
    };
    if (endpoint.host === '' || endpoint.port < 1 || endpoint.port > 65535)
      throw new FrameError(`welcome entry ${rank} is not a TCP endpoint`);
    return endpoint;
  });
}

export function parseRefusal(body: Record<string, unknown>): string {
  return typeof body.reason === 'string' ? body.reason.slice(0, 300) : 'no reason given';
}

function field(body: Record<string, unknown>, name: string, type: 'string'): string {
  const value = body[name];
  if (typeof value !== type) throw new FrameError(`handshake field '${name}' is missing or not a ${type}`);
  return value as string;
}

function integerField(body: Record<string, unknown>, name: string): number {
  const value = body[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new FrameError(`handshake field '${name}' is missing or not an integer`);
  return value;
}

/** Listeners bound to a wildcard address must be advertised under a reachable one. */
export function isWildcardAddress(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** '::ffff:10.0.0.2' -> '10.0.0.2'. */
export function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}
