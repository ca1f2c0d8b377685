/**
 * Issue 11, items 4, 5, 6b, 6c and 7 (the core's part), against live nodes over real sockets on
 * 127.0.0.1: forged push/pulls and alives cannot flood the member table, forged epochs and
 * incarnations at the top of their range cannot wedge the cluster, forged meta changes cannot
 * grow memory, and forged coordinates in acks cannot poison a node's coordinate.
 */
import dgram from 'node:dgram';
import { connect } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { newCoordinate, type Coordinate } from '../../packages/hearsay/src/serf/index.js';
import { DEFAULT_VSN, type MemberProfile, type Message } from '../../packages/hearsay/src/core/index.js';
import { createNode, type HearsayNode, type NodeOptions } from '../../packages/hearsay/src/index.js';
import { decodePacket, encodeCoordinatePayload, encodePacket, encodeStream, MAX_COMPOUND_PARTS } from '../../packages/hearsay/src/wire/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const U32_MAX = 0xffffffff;
const SERF_TAGS = Uint8Array.of(0xff, 0x80);

const nodes: HearsayNode[] = [];
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
});

async function node(name: string, options: NodeOptions = {}): Promise<HearsayNode> {
  const created = await createNode({
    name,
    bind: '127.0.0.1:0',
    config: FAST,
    ...options,
    ...(options.config ? { config: { ...FAST, ...options.config } } : {}),
  });
  nodes.push(created);
  return created;
}

/** `count` nodes named prefix1 … joined through the first, all listing each other alive. */
async function cluster(prefix: string, count: number): Promise<HearsayNode[]> {
  const first = await node(`${prefix}1`);
  const group = [first];
  for (let i = 2; i <= count; i++) group.push(await node(`${prefix}${i}`, { join: [`127.0.0.1:${first.address.port}`] }));
  await waitFor(`${count} alive everywhere`, () => group.every((n) => n.members().filter((m) => m.status === 'alive').length === count));
  return group;
}

/** Polls every millisecond: the floods below wait for each datagram to be handled. */
const PER_DATAGRAM = { intervalMs: 1, timeoutMs: 5000 };

interface Attacker {
  readonly socket: dgram.Socket;
  readonly port: number;
  send(to: HearsayNode, messages: Message[]): void;
  /** Resolves once `to` has handled everything this socket sent it before (a ping's ack is back). */
  sync(to: HearsayNode): Promise<void>;
}

/** A UDP socket of this test that sends forged packets. */
async function udpSocket(): Promise<Attacker> {
  const socket = dgram.createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const acked = new Set<number>();
  socket.on('message', (data) => {
    for (const message of decodePacket(data)) if (message.type === 'ack') acked.add(message.seqNo);
  });
  let nextSeqNo = 1;
  const send = (to: HearsayNode, messages: Message[]) => socket.send(encodePacket(messages, { crc: false, compress: false }), to.address.port, '127.0.0.1');
  return {
    socket,
    port: socket.address().port,
    send,
    sync: async (to) => {
      const seqNo = 1_000_000 + nextSeqNo++;
      send(to, [{ type: 'ping', seqNo, node: to.name }]);
      await waitFor(`${to.name} to answer`, () => acked.has(seqNo), PER_DATAGRAM);
    },
  };
}

/** Opens a stream to `to`, sends a forged push/pull and waits for the answer (or the close). */
function sendPushPull(to: HearsayNode, states: { profile: MemberProfile; incarnation: number; status: 'alive' }[]): Promise<void> {
  const bytes = encodeStream({ type: 'pushPull', join: false, states, userState: new Uint8Array(0) }, { compress: false });
  return new Promise((resolve, reject) => {
    const stream = connect({ host: '127.0.0.1', port: to.address.port }, () => stream.end(bytes));
    stream.on('data', () => undefined);
    stream.on('close', () => resolve());
    stream.on('error', reject);
    stream.setTimeout(20_000, () => stream.destroy(new Error('push/pull answer timed out')));
  });
}

function profile(name: string, port: number, meta: Uint8Array = SERF_TAGS): MemberProfile {
  return { name, host: '127.0.0.1', port, meta, vsn: DEFAULT_VSN };
}

const liveViews = (group: HearsayNode[]) =>
  group.map((n) =>
    n
      .members()
      .map((m) => `${m.name}:${m.status}`)
      .sort()
      .join(' '),
  );

describe('the member table under forged push/pulls and alives (item 4)', () => {
  it('a forged push/pull of 10,000 members brings at most maxNewMembersPerPushPull; the table stops at maxMembers', async () => {
    const target = await node('pp-target', { config: { maxMembers: 6000 } });
    const fake = (round: number) =>
      Array.from({ length: 10_000 }, (_, i) => ({ profile: profile(`fake-${round}-${i}`, 1), incarnation: 1, status: 'alive' as const }));
    await sendPushPull(target, fake(1));
    await waitFor('the first push/pull merged', () => (target.stats.core.dropped['too-many-new-members'] ?? 0) > 0);
    expect(target.members()).toHaveLength(1 + 4096);
    expect(target.stats.core.dropped['too-many-new-members']).toBe(10_000 - 4096);
    await sendPushPull(target, fake(2));
    await waitFor('the second push/pull merged', () => (target.stats.core.dropped['member-table-full'] ?? 0) > 0);
    expect(target.members()).toHaveLength(6000);
    expect(target.stats.core.dropped['member-table-full']).toBe(10_000 - (6000 - 4097));
    // The node still answers, and stays a member of its own table.
    const started = performance.now();
    expect(target.members().length).toBe(6000);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(target.self.status).toBe('alive');
  });

  it(`one datagram of ${MAX_COMPOUND_PARTS} alives of new members adds at most maxNewMembersPerPacket`, async () => {
    const target = await node('pkt-target');
    const attacker = await udpSocket();
    const alives: Message[] = Array.from({ length: MAX_COMPOUND_PARTS }, (_, i) => ({ type: 'alive', incarnation: 1, profile: profile(`new-${i}`, 1) }));
    attacker.send(target, alives);
    await waitFor('the packet handled', () => target.stats.core.dropped['too-many-new-members'] === MAX_COMPOUND_PARTS - 64);
    expect(target.members()).toHaveLength(1 + 64);
  });
});

describe('protocol-switch epochs at the top of the range (item 5)', () => {
  it('a forged epoch of 2^32 − 1 is refused; one at the edge of the drift switches, and the operator switches back', async () => {
    const group = await cluster('ep', 3);
    const attacker = await udpSocket();
    for (const n of group) attacker.send(n, [{ type: 'protocolSwitch', protocol: 'heartbeat', epoch: U32_MAX, origin: '\u{10ffff}' }]);
    await waitFor('the forged epoch refused everywhere', () => group.every((n) => n.stats.core.dropped['epoch-ahead'] === 1));
    expect(group.map((n) => n.protocol)).toEqual(['swim', 'swim', 'swim']);

    // The furthest a forged epoch can now reach: the clock plus maxEpochAheadMs (an hour).
    const edge = Math.floor(Date.now() / 1000) + 3600;
    for (const n of group) attacker.send(n, [{ type: 'protocolSwitch', protocol: 'heartbeat', epoch: edge, origin: '\u{10ffff}' }]);
    await waitFor('heartbeat everywhere', () => group.every((n) => n.protocol === 'heartbeat'));

    group[0]!.setProtocol('swim');
    expect(group[0]!.protocolSwitch).toEqual({ epoch: edge + 1, origin: 'ep1' });
    await waitFor('SWIM everywhere', () => group.every((n) => n.protocol === 'swim' && n.protocolSwitch.epoch === edge + 1), { timeoutMs: 20_000 });
    for (const n of group) expect(n.stats.traffic.dropped['encode-error'] ?? 0).toBe(0);
    expect(liveViews(group)).toEqual(Array(3).fill('ep1:alive ep2:alive ep3:alive'));
  });
});

describe('incarnations at the top of the range (item 6b)', () => {
  it('forged dead, suspect and alive of a2 at 2^32 − 1 leave a2 alive everywhere, without an encode error', async () => {
    const group = await cluster('a', 3);
    const [a1, a2, a3] = group as [HearsayNode, HearsayNode, HearsayNode];
    const attacker = await udpSocket();
    const start = a2.self.incarnation;
    const otherMeta = Uint8Array.of(0xff, 0x81, 0xa1, 0x78, 0xa1, 0x79);
    const forged: Message[] = [
      { type: 'dead', node: 'a2', incarnation: U32_MAX, from: 'x' },
      { type: 'suspect', node: 'a2', incarnation: U32_MAX, from: 'x' },
      { type: 'alive', incarnation: U32_MAX, profile: { ...profile('a2', a2.advertised.port), meta: otherMeta } },
    ];
    for (const message of forged) for (const n of [a1, a3]) attacker.send(n, [message]);
    await attacker.sync(a1);
    await attacker.sync(a3);
    // 2^32 − 1 is 2.5e9 past a Unix-time incarnation: more than half the range, so older, and ignored.
    for (const n of group) expect(n.member('a2')).toMatchObject({ status: 'alive', incarnation: start, meta: a2.self.meta });

    // A forged dead nearly half the range ahead (newer) is taken, and a2 refutes it; twice, so that
    // the second time a2's incarnation wraps past 2^32 − 1. The refutation stays under half the
    // range from the old incarnation: peers that hear it before the dead must still find it newer.
    let expected = start;
    for (let round = 0; round < 2; round++) {
      const ahead = (expected + 2 ** 31 - 2) % 2 ** 32;
      attacker.send(a1, [{ type: 'dead', node: 'a2', incarnation: ahead, from: 'x' }]);
      expected = (ahead + 1) % 2 ** 32 || 1;
      await waitFor(`a2 alive at ${expected} everywhere`, () =>
        group.every((n) => n.member('a2')?.status === 'alive' && n.member('a2')?.incarnation === expected),
      );
    }
    // Two jumps of just under half the range: a2 is two short of where it started, having wrapped past 2^32 − 1.
    expect(expected).toBe((start + 2 ** 32 - 2) % 2 ** 32);
    expect(a2.stats.core.refutations).toBe(2);
    for (const n of group) expect(n.member('a2')!.meta).toEqual(a2.self.meta);
    for (const n of group) expect(n.stats.traffic.dropped['encode-error'] ?? 0).toBe(0);
    expect(liveViews(group)).toEqual(Array(3).fill('a1:alive a2:alive a3:alive'));
  });
});

describe('memory under forged meta (item 6c)', () => {
  it('127,000 meta changes of one forged member from one UDP source do not grow the heap', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const target = await node('mem-target');
    const attacker = await udpSocket();
    let incarnation = 0;
    const datagram = () =>
      Array.from({ length: MAX_COMPOUND_PARTS }, (): Message => {
        incarnation++;
        const meta = Uint8Array.of(0xff, 0x81, 0xa1, 0x6b, 0xce, incarnation >>> 24, (incarnation >>> 16) & 255, (incarnation >>> 8) & 255, incarnation & 255);
        return { type: 'alive', incarnation, profile: profile('churn', attacker.port, meta) };
      });
    const flood = async (datagrams: number) => {
      for (let i = 0; i < datagrams; i++) {
        attacker.send(target, datagram());
        const sent = incarnation;
        await waitFor('the datagram handled', () => target.member('churn')?.incarnation === sent, PER_DATAGRAM);
      }
    };
    await flood(50);
    gc();
    const before = process.memoryUsage().heapUsed;
    await flood(1000);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(target.member('churn')?.incarnation).toBe(1050 * MAX_COMPOUND_PARTS);
    // Kept forever, 127,000 profiles would hold some 40 MB.
    expect(grown).toBeLessThan(10 * 1024 * 1024);
  }, 60_000);

  it('a push/pull state or an alive with a 64 KiB tag is dropped, counted and never spread', async () => {
    const group = await cluster('meta', 2);
    const [target, peer] = group as [HearsayNode, HearsayNode];
    const huge = new Uint8Array(64 * 1024).fill(0x61);
    await sendPushPull(target, [{ profile: profile('bloated', 1, huge), incarnation: 1, status: 'alive' }]);
    await waitFor('the record dropped', () => target.stats.core.dropped['meta-too-large'] === 1);
    const attacker = await udpSocket();
    attacker.send(target, [{ type: 'alive', incarnation: 1, profile: profile('bloated2', 1, huge.subarray(0, 60_000)) }]);
    await waitFor('the alive dropped', () => target.stats.core.dropped['meta-too-large'] === 2);
    expect(target.member('bloated')).toBeUndefined();
    expect(target.member('bloated2')).toBeUndefined();
    expect(peer.member('bloated')).toBeUndefined();
    expect(liveViews(group)).toEqual(Array(2).fill('meta1:alive meta2:alive'));
  });
});

describe('coordinates in forged acks (item 7)', () => {
  it('NaN, 1e300, out-of-range and negative-error coordinates leave the node’s coordinate untouched', async () => {
    const target = await node('coord-target');
    const attacker = await udpSocket();
    const bad: Coordinate[] = [
      { vec: Array(8).fill(NaN), error: 0.5, adjustment: 0, height: 0.001 },
      { vec: Array(8).fill(1e300), error: 0.5, adjustment: 0, height: 0.001 },
      { vec: Array(8).fill(101), error: 0, adjustment: 0, height: 0.001 },
      { vec: Array(8).fill(0.5), error: -1.4, adjustment: 0, height: 0.001 },
    ];
    let answered = 0;
    attacker.socket.on('message', (data) => {
      for (const message of decodePacket(data)) {
        if (message.type !== 'ping') continue;
        const payload = encodeCoordinatePayload(bad[answered++ % bad.length]!);
        attacker.send(target, [{ type: 'ack', seqNo: message.seqNo, payload }]);
      }
    });
    // The attacker becomes a member, which the node then probes; each probe's ack carries a bad coordinate.
    attacker.send(target, [{ type: 'alive', incarnation: 1, profile: profile('evil', attacker.port) }]);
    await waitFor('8 probes answered', () => answered >= 8, { timeoutMs: 20_000 });
    await waitFor('the refusals counted', () => (target.stats.traffic.dropped['bad-coordinate'] ?? 0) >= 7);
    expect(target.coordinate).toEqual(newCoordinate());
    expect(target.member('evil')?.status).toBe('alive');
  });
});
