import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { UsageError } from '../usage-error.js';
import { CommandFailure } from './failure.js';
import { HOST, HTTP_OFFSET } from './state.js';

/** Why a port cannot be bound, or null if it is free for both TCP and UDP. */
export async function portBusy(port: number, host = HOST): Promise<string | null> {
  const tcp = await tryTcp(port, host);
  if (tcp) return `TCP: ${tcp}`;
  const udp = await tryUdp(port, host);
  if (udp) return `UDP: ${udp}`;
  return null;
}

function describe(error: NodeJS.ErrnoException): string {
  if (error.code === 'EADDRINUSE') return 'in use';
  if (error.code === 'EACCES') return 'permission denied';
  return error.code ?? error.message;
}

function tryTcp(port: number, host: string): Promise<string | null> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => done(describe(error)));
    server.listen({ port, host, exclusive: true }, () => server.close(() => done(null)));
  });
}

function tryUdp(port: number, host: string): Promise<string | null> {
  return new Promise((done) => {
    const socket = createSocket('udp4');
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.close();
      done(describe(error));
    });
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => done(null)));
  });
}

/** One port a node needs, and what for. */
export interface PortNeed {
  node: string;
  port: number;
  use: 'gossip' | 'HTTP';
}

/** The gossip port and the HTTP port (gossip + 10000) of each node. */
export function portsFor(nodes: { name: string; port: number }[]): PortNeed[] {
  return nodes.flatMap((node) => [
    { node: node.name, port: node.port, use: 'gossip' as const },
    { node: node.name, port: node.port + HTTP_OFFSET, use: 'HTTP' as const },
  ]);
}

/** Fails naming the first busy port and its node. */
export async function requireFreePorts(needs: PortNeed[], host = HOST): Promise<void> {
  for (const need of needs) {
    const busy = await portBusy(need.port, host);
    if (busy) {
      throw new CommandFailure(
        `port ${need.port} on ${host} (${need.use} port of ${need.node}) is busy (${busy}): pick another --base-port, or stop what uses it`,
      );
    }
  }
}

/** The highest gossip port whose HTTP port still fits. */
export const MAX_GOSSIP_PORT = 65_535 - HTTP_OFFSET;

/** Checks that gossip ports base … base+size−1 and their HTTP ports are valid port numbers. */
export function checkPortRange(basePort: number, size: number): void {
  const last = basePort + size - 1;
  if (last > MAX_GOSSIP_PORT) {
    throw new UsageError(
      `--base-port ${basePort} with --size ${size} needs gossip ports ${basePort}…${last} and HTTP ports ${basePort + HTTP_OFFSET}…${last + HTTP_OFFSET}, ` +
        `past 65535: use a base port of at most ${MAX_GOSSIP_PORT - size + 1}`,
    );
  }
}

/** The first port from `from` on whose gossip and HTTP ports are both free and not taken. */
export async function nextFreePort(from: number, taken: Set<number>, host = HOST): Promise<number> {
  for (let port = from; port <= MAX_GOSSIP_PORT; port++) {
    if (taken.has(port) || taken.has(port + HTTP_OFFSET)) continue;
    if ((await portBusy(port, host)) === null && (await portBusy(port + HTTP_OFFSET, host)) === null) return port;
  }
  throw new CommandFailure(`no free port from ${from} to ${MAX_GOSSIP_PORT} (with its HTTP port ${HTTP_OFFSET} above) on ${host}`);
}
