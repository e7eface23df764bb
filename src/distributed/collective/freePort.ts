/**
 * A TCP port that was free a moment ago: bind port 0, read what the kernel chose, release it. Another
 * process could take it before rank 0 binds it (rare on one host); joining then fails with a clear
 * "cannot listen" error rather than silently misbehaving.
 */
import { createServer } from 'node:net';
import { LOOPBACK } from './worldInfo.js';
import { closeServer, listen } from './tcp.js';

export async function findFreePort(host: string = LOOPBACK): Promise<number> {
  const server = createServer();
  const port = await listen(server, 0, host);
  await closeServer(server);
  return port;
}
