/**
 * Join storms: a seed that many nodes join at once, and joiners that try a busy seed again
 * (real sockets on 127.0.0.1, all nodes in this process).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode, JoinError } from '../../packages/hearsay/src/index.js';
import { waitFor } from '../helpers/wait.js';

const nodes: HearsayNode[] = [];
const servers: Server[] = [];
const sockets = new Set<Socket>();

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function seedNode(): Promise<HearsayNode> {
  const seed = await createNode({ name: 'seed', bind: '127.0.0.1:0' });
  nodes.push(seed);
  return seed;
}

/** A TCP front for `port` that accepts and closes its first `refusals` connections unanswered, then passes the rest through. */
async function busyFront(port: number, refusals: number): Promise<number> {
  let seen = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    if (seen++ < refusals) {
      socket.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port });
    sockets.add(upstream);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('join storms', () => {
  it('tries a seed that accepted the connection but closed it unanswered again, after a backoff, and joins', async () => {
    const seed = await seedNode();
    const front = await busyFront(seed.address.port, 2);
    const joiner = await createNode({ name: 'joiner', bind: '127.0.0.1:0', join: [`127.0.0.1:${front}`] });
    nodes.push(joiner);
    expect(joiner.stats.seeds.busyRetries).toBe(2);
    await waitFor('the seed lists the joiner alive', () => seed.member('joiner')?.status === 'alive');
  });

  it('does not try again a seed that refuses the connection: that join fails at once', async () => {
    const closed = await busyFront(1, 0);
    await new Promise((resolve) => servers.pop()!.close(resolve)); // the port is free again: refused
    const started = performance.now();
    const error = await createNode({ name: 'lonely', bind: '127.0.0.1:0', join: [`127.0.0.1:${closed}`] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JoinError);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('150 nodes that join one seed at once all join, and every node lists all 150 alive', { timeout: 120_000 }, async () => {
    const seed = await seedNode();
    const n = 150;
    const joined = await Promise.all(
      Array.from({ length: n - 1 }, (_, i) => createNode({ name: `storm-${i}`, bind: '127.0.0.1:0', join: [`127.0.0.1:${seed.address.port}`] })),
    );
    nodes.push(...joined);
    const all = [seed, ...joined];
    await waitFor('every node lists every node alive', () => all.every((node) => node.members().filter((member) => member.status === 'alive').length === n), {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    const failed = all.reduce((sum, node) => sum + node.stats.core.failuresDeclared, 0);
    expect(failed).toBe(0);
  });
});
