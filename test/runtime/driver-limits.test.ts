/**
 * The driver's own bounds, with limits set low: streams it opens at once, and connections a
 * single stranger may hold. (test/attacks/network-*.test.ts send the real attacks at the defaults.)
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRandom, DEFAULT_VSN, MemberNode, resolveConfig, type Output } from '../../packages/hearsay/src/core/index.js';
import { Driver, type StreamLimits } from '../../packages/hearsay/src/runtime/driver.js';
import { closeListeners, listen } from '../../packages/hearsay/src/runtime/transport.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function start(limits: Partial<StreamLimits>): Promise<{ driver: Driver; port: number; outputs: Output[] }> {
  const listeners = await listen('127.0.0.1', 0);
  const core = new MemberNode({
    profile: { name: 'n', host: '127.0.0.1', port: listeners.port, meta: new Uint8Array(0), vsn: DEFAULT_VSN },
    config: resolveConfig('lan', { ...FAST, tcpTimeoutMs: 3000 }),
    random: createRandom(1),
    now: Date.now(),
    incarnation: 1,
  });
  const outputs: Output[] = [];
  const created = new Driver({
    core,
    listeners,
    keyring: undefined,
    dropRate: 0,
    onOutput: (output) => outputs.push(output),
    onStreamUser: () => {},
    onRemoteState: () => {},
    limits,
  });
  created.start();
  cleanups.push(async () => {
    created.close();
    core.stop();
    await closeListeners(listeners, created.sockets);
  });
  return { driver: created, port: listeners.port, outputs };
}

/** A TCP server that accepts and never answers, as a blackholed or hostile seed would. */
async function silentServer(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => sockets.add(socket.on('error', () => {})));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as net.AddressInfo).port;
}

describe('driver limits', () => {
  it('opens at most `outbound` streams at once; the rest fail at once, counted', async () => {
    const { driver, outputs } = await start({ outbound: 2 });
    const seeds = await Promise.all([silentServer(), silentServer(), silentServer(), silentServer()]);
    driver.step({ kind: 'join', request: 1, seeds: seeds.map((port) => ({ host: '127.0.0.1', port })) });
    await waitFor('the two refused joins to be counted', () => (driver.traffic.dropped['outbound-stream-limit'] ?? 0) === 2);
    // The two admitted hang until the timeout; the join then reports all four failed.
    await waitFor('the join to end', () => outputs.some((output) => output.kind === 'joined'), { timeoutMs: 10_000 });
    const joined = outputs.find((output) => output.kind === 'joined');
    expect(joined).toMatchObject({ contacted: 0 });
    expect(joined?.kind === 'joined' && joined.errors.filter((error) => error.includes('streams already open'))).toHaveLength(2);
  });

  it('holds a stranger to `perSource` connections, and closes those that send no header in time', async () => {
    const { driver, port } = await start({ perSource: 3, headerTimeoutMs: 300 });
    const connect = () => net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }).on('error', () => {});
    const sockets = Array.from({ length: 5 }, connect);
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
    });
    await waitFor('two refused', () => driver.traffic.dropped['source-connection-limit'] === 2);
    await waitFor('three timed out', () => driver.traffic.dropped['header-timeout'] === 3);
  });
});
