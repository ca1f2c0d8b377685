/**
 * Attacks on the gossip TCP port of a live node (issue 11, items 3 and 6g): a slowloris flood of
 * idle connections from other addresses, and push/pulls that announce records and never send
 * them. Joins, push/pulls and TCP pings of real members go through all the while.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { encodeStream, StreamDecoder, type WireStreamMessage } from '../../packages/hearsay/src/wire/index.js';
import { MsgpackWriter } from '../../packages/hearsay/src/wire/msgpack.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

/** Long enough that no connection of the attack ends by the stream deadline while a test runs. */
const CONFIG = { ...FAST, tcpTimeoutMs: 10_000, pushPullIntervalMs: 60_000 };

const nodes: HearsayNode[] = [];
const sockets = new Set<net.Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
});

async function node(name: string, bind = '127.0.0.1:0', join?: HearsayNode): Promise<HearsayNode> {
  const created = await createNode({ name, bind, config: CONFIG, ...(join ? { join: [`127.0.0.1:${join.address.port}`] } : {}) });
  nodes.push(created);
  return created;
}

/** Loopback addresses other than 127.0.0.1, where the real members are. */
function sources(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${i + 2 + (i >= 8 ? 1 : 0)}`); // 127.0.0.10 is the newcomer's
}

/**
 * Keeps `total` connections to `port` open or opening from `from` (round robin), sending
 * `opening` on each (nothing: idle); every one the node closes is opened again, until stop().
 */
function flood(port: number, from: string[], total: number, opening?: Uint8Array): { stop: () => void; connected: () => number } {
  let running = true;
  let connected = 0;
  const open = (i: number) => {
    if (!running) return;
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: from[i % from.length] });
    sockets.add(socket);
    socket.on('connect', () => {
      connected++;
      if (opening) socket.write(opening);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      // Reconnect a moment later: a real attacker would, and the node must hold against it.
      setTimeout(() => open(i), 250);
    });
  };
  for (let i = 0; i < total; i++) open(i);
  return {
    stop: () => {
      running = false;
      for (const socket of sockets) socket.destroy();
    },
    connected: () => connected,
  };
}

/** A TCP ping, as a member that cannot reach the node by UDP sends it: answered by an ack. */
async function tcpPing(port: number, target: string): Promise<WireStreamMessage> {
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.add(socket);
  const decoder = new StreamDecoder();
  return new Promise((resolve, reject) => {
    socket.on('connect', () => socket.write(encodeStream({ type: 'ping', seqNo: 42, node: target }, { compress: true })));
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      const message = decoder.next();
      if (message) resolve(message);
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed before an answer')));
  });
}

const dropped = (victim: HearsayNode, reason: string) => victim.stats.traffic.dropped[reason] ?? 0;
const alive = (victim: HearsayNode) =>
  victim
    .members()
    .filter((m) => m.status === 'alive')
    .map((m) => m.name)
    .sort();

describe('slowloris on the gossip TCP port', () => {
  it('1,000 idle connections from 8 other addresses: a newcomer joins, a member pushes and pulls, a TCP ping is answered', async () => {
    const victim = await node('victim');
    const member = await node('member', '127.0.0.1:0', victim);
    await waitFor('member and victim to see each other', () => alive(victim).length === 2 && alive(member).length === 2);

    const attack = flood(victim.address.port, sources(8), 1000);
    try {
      // Each source gets its 16 connections, held idle; every other attempt is refused at once.
      const refused = () => dropped(victim, 'source-connection-limit');
      await waitFor('1,000 connections, refused per source', () => attack.connected() >= 1000 && refused() >= 500);

      const newcomer = await node('newcomer', '127.0.0.10:0', victim);
      expect(newcomer.members().map((m) => m.name)).toContain('victim');
      expect(await member.join([`127.0.0.1:${victim.address.port}`])).toBe(1);
      expect(await tcpPing(victim.address.port, 'victim')).toMatchObject({ type: 'ack', seqNo: 42 });

      // Idle connections are closed once the header deadline (3 s) passes; the flood opens more.
      await waitFor('idle connections to time out', () => dropped(victim, 'header-timeout') >= 100, { timeoutMs: 10_000 });
      expect(await member.join([`127.0.0.1:${victim.address.port}`])).toBe(1);
      expect(dropped(victim, 'connection-limit')).toBe(0); // 8 sources × 16 stay under the 192 for strangers
    } finally {
      attack.stop();
    }
    await waitFor('all three alive everywhere', () => nodes.every((n) => alive(n).join() === 'member,newcomer,victim'));
  });

  it('16 attacking addresses fill every slot open to strangers: members still get theirs', async () => {
    const victim = await node('victim');
    const member = await node('member', '127.0.0.1:0', victim);
    await waitFor('member and victim to see each other', () => alive(victim).length === 2);

    const attack = flood(victim.address.port, sources(16), 1000);
    try {
      // Strangers past the slots open to them are refused, or make room by closing the oldest idle connection.
      await waitFor('strangers to be held at the reserve', () => dropped(victim, 'connection-limit') + dropped(victim, 'idle-connection-evicted') >= 100);
      // 256 connections at most, 64 of them kept for hosts of members: 127.0.0.1 is one.
      for (let i = 0; i < 3; i++) expect(await member.join([`127.0.0.1:${victim.address.port}`])).toBe(1);
      expect(await tcpPing(victim.address.port, 'victim')).toMatchObject({ type: 'ack' });
    } finally {
      attack.stop();
    }
    expect(alive(victim)).toEqual(['member', 'victim']);
    expect(alive(member)).toEqual(['member', 'victim']);
  });

  it('1,000 idle connections from the members’ own address (one host): the oldest idle one makes room, and joins go through', async () => {
    const victim = await node('victim');
    const member = await node('member', '127.0.0.1:0', victim);
    await waitFor('member and victim to see each other', () => alive(victim).length === 2);

    const attack = flood(victim.address.port, ['127.0.0.1'], 1000);
    try {
      await waitFor('every slot taken and idle connections evicted', () => dropped(victim, 'idle-connection-evicted') >= 200);
      for (let i = 0; i < 3; i++) expect(await member.join([`127.0.0.1:${victim.address.port}`])).toBe(1);
      const newcomer = await node('newcomer', '127.0.0.1:0', victim);
      expect(newcomer.members().map((m) => m.name)).toContain('victim');
      expect(await tcpPing(victim.address.port, 'victim')).toMatchObject({ type: 'ack' });
    } finally {
      attack.stop();
    }
    await waitFor('all three alive everywhere', () => nodes.every((n) => alive(n).join() === 'member,newcomer,victim'));
  });
});

describe('the push/pull cap counts push/pulls, not connections', () => {
  it('130 push/pulls that never send their records: 128 held, the rest refused; pings and joins still answered', async () => {
    const victim = await node('victim');
    const member = await node('member', '127.0.0.1:0', victim);
    await waitFor('member and victim to see each other', () => alive(victim).length === 2);

    // A plain push/pull announcing 5 records: the type byte and header arrive, the records never do.
    const header = new MsgpackWriter().byte(6).struct({ Join: false, Nodes: 5, UserStateLen: 0 }).finish();
    const attack = flood(victim.address.port, sources(10), 130, header);
    try {
      await waitFor('push/pulls past 128 to be refused', () => dropped(victim, 'too-many-push-pulls') >= 2);
      expect(await tcpPing(victim.address.port, 'victim')).toMatchObject({ type: 'ack', seqNo: 42 });
      // A member's push/pull arrives whole (compressed), so it never waits for a slot.
      expect(await member.join([`127.0.0.1:${victim.address.port}`])).toBe(1);
      const newcomer = await node('newcomer', '127.0.0.10:0', victim);
      expect(newcomer.members().length).toBeGreaterThanOrEqual(2);
    } finally {
      attack.stop();
    }
    await waitFor('all three alive at the victim', () => alive(victim).join() === 'member,newcomer,victim');
  });
});
