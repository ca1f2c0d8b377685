/**
 * What a hostile peer can make the core do is bounded (issue 11): new members per packet and per
 * push/pull, the table, meta and names, the broadcast queue, incarnations and protocol-switch
 * epochs at the top of their range, heartbeat counters, the registry and the timer heap. Each
 * refusal is counted in `stats.dropped` by reason.
 */
import { describe, expect, it } from 'vitest';
import {
  HearsayError,
  isAtLeast,
  isNewer,
  nextIncarnation,
  MemberNode,
  Registry,
  type AliveMessage,
  type MemberProfile,
  type PushNodeState,
  type PushPullMessage,
  type StreamMessage,
} from '../../packages/hearsay/src/core/index.js';
import { inspectContext } from '../../packages/hearsay/src/core/node.js';
import { KeyedRateLimit } from '../../packages/hearsay/src/core/rate-limit.js';
import { Suspicion } from '../../packages/hearsay/src/core/suspicion.js';
import { Timers } from '../../packages/hearsay/src/core/timers.js';
import { encodePacket } from '../../packages/hearsay/src/wire/index.js';
import { ackPings, addressOf, Harness, HEARTBEAT_CONFIG, members, Network, PORT, profileOf } from './harness.js';

const U32_MAX = 0xffffffff;
/** A runtime node's first incarnation: the Unix time in seconds. */
const UNIX_SECONDS = 1_770_000_000;

function alive(profile: MemberProfile, incarnation = 1): AliveMessage {
  return { type: 'alive', incarnation, profile };
}

function pushPull(states: PushNodeState[], join = false): PushPullMessage {
  return { type: 'pushPull', join, states, userState: new Uint8Array(0) };
}

function aliveStates(profiles: readonly MemberProfile[]): PushNodeState[] {
  return profiles.map((profile) => ({ profile, incarnation: 1, status: 'alive' }));
}

/** Feeds an inbound push/pull stream and returns the reply. */
function inbound(h: Harness, message: StreamMessage): StreamMessage {
  const mark = h.mark();
  h.input({ kind: 'stream', from: { host: '10.9.9.9', port: 50000 }, stream: 1, message });
  return h.replies(mark)[0]!.message;
}

/** Every packet the node sent encodes: no value it produced is out of the wire's range. */
function expectAllEncode(h: Harness): void {
  for (const packet of h.packets()) expect(() => encodePacket(packet.messages, { crc: packet.crc, compress: false })).not.toThrow();
}

describe('serial-number incarnations (RFC 1982)', () => {
  it('newer is within half the range ahead, modulo 2^32', () => {
    expect(isNewer(2, 1)).toBe(true);
    expect(isNewer(1, 2)).toBe(false);
    expect(isNewer(5, 5)).toBe(false);
    expect(isNewer(1, U32_MAX)).toBe(true);
    expect(isNewer(U32_MAX, UNIX_SECONDS)).toBe(false); // 2.5e9 ahead: more than half the range
    expect(isNewer(UNIX_SECONDS + 2 ** 31 - 1, UNIX_SECONDS)).toBe(true);
    // Exactly half the range apart: neither is newer.
    expect(isNewer(2 ** 31, 0)).toBe(false);
    expect(isNewer(0, 2 ** 31)).toBe(false);
    expect(isAtLeast(7, 7)).toBe(true);
    expect(isAtLeast(6, 7)).toBe(false);
  });

  it('the successor wraps from 2^32 − 1 past 0 (memberlist’s placeholder) to 1, and is always newer', () => {
    expect(nextIncarnation(1)).toBe(2);
    expect(nextIncarnation(U32_MAX - 1)).toBe(U32_MAX);
    expect(nextIncarnation(U32_MAX)).toBe(1);
    for (const a of [0, 1, UNIX_SECONDS, 2 ** 31, U32_MAX]) expect(isNewer(nextIncarnation(a), a)).toBe(true);
  });
});

describe('incarnations at the top of the range (forged dead, suspect and alive at 2^32 − 1)', () => {
  /** Three nodes a1, a2, a3 that know each other; a2 starts at `incarnation`, the others at the Unix time. */
  function cluster(incarnation: number): { net: Network; nodes: Harness[] } {
    const net = new Network();
    const nodes = [1, 2, 3].map((i) =>
      net.add(
        new Harness({
          name: `a${i}`,
          host: `10.0.0.${i}`,
          seed: i,
          incarnation: i === 2 ? incarnation : UNIX_SECONDS,
          config: { pushPullIntervalMs: 5000, reconnectIntervalMs: 0 },
        }),
      ),
    );
    for (const h of nodes) {
      for (const other of nodes) if (other !== h) h.node.preload([{ profile: other.self, incarnation: other.node.incarnation }]);
    }
    return { net, nodes };
  }

  const forgeries = (incarnation: number) => [
    { type: 'dead' as const, node: 'a2', incarnation, from: 'x' },
    { type: 'suspect' as const, node: 'a2', incarnation, from: 'x' },
    alive(profileOf('a2', '10.0.0.2', { meta: Uint8Array.of(0xff, 0x81, 0xa1, 0x78, 0xa1, 0x79) }), incarnation),
  ];

  it.each(forgeries(U32_MAX).map((m) => [m.type, m] as const))(
    'a forged %s of a2 at 2^32 − 1, 2.5e9 ahead of its Unix-time incarnation, is older: a2 stays alive everywhere',
    (_, forged) => {
      const { net, nodes } = cluster(UNIX_SECONDS);
      for (const h of nodes) h.gossip(forged);
      net.advanceBy(60_000);
      for (const h of nodes) expect(h.node.member('a2')).toMatchObject({ status: 'alive', incarnation: UNIX_SECONDS, meta: nodes[1]!.self.meta });
      for (const h of nodes) expectAllEncode(h);
    },
  );

  it.each(forgeries(U32_MAX).map((m) => [m.type, m] as const))(
    'a forged %s of a2 at 2^32 − 1 when a2 is near the top: a2 refutes by wrapping to 1, and every peer follows',
    (_, forged) => {
      const { net, nodes } = cluster(U32_MAX - 10);
      const [a1, a2, a3] = nodes as [Harness, Harness, Harness];
      a1.gossip(forged);
      net.advanceBy(60_000);
      expect(a2.node.incarnation).toBe(1);
      expect(a2.node.stats.refutations).toBe(1);
      for (const h of [a1, a3]) expect(h.node.member('a2')).toMatchObject({ status: 'alive', incarnation: 1, meta: a2.self.meta });
      for (const h of nodes) expectAllEncode(h);
      // Another round at the new top of a2's range: it refutes again, from 1 to 2.
      a3.gossip({ type: 'dead', node: 'a2', incarnation: 1, from: 'x' });
      net.advanceBy(60_000);
      for (const h of nodes) expect(h.node.member('a2')).toMatchObject({ status: 'alive', incarnation: 2 });
    },
  );

  it('a forged dead just under half the range ahead is taken, and refuted past the top', () => {
    const { net, nodes } = cluster(UNIX_SECONDS);
    const ahead = UNIX_SECONDS + 2 ** 31 - 1; // 3.9e9: newer, still below 2^32
    nodes[0]!.gossip({ type: 'dead', node: 'a2', incarnation: ahead, from: 'x' });
    expect(nodes[0]!.status('a2')).toBe('failed');
    net.advanceBy(60_000);
    for (const h of nodes) expect(h.node.member('a2')).toMatchObject({ status: 'alive', incarnation: ahead + 1 });
    for (const h of nodes) expectAllEncode(h);
  });

  it('a meta change at 2^32 − 1 wraps the node’s incarnation to 1', () => {
    const h = new Harness({ incarnation: U32_MAX, preload: members(2) });
    h.input({ kind: 'setMeta', meta: Uint8Array.of(0xff, 0x80) });
    expect(h.node.incarnation).toBe(1);
    h.advanceBy(5000);
    expectAllEncode(h);
  });

  it('a starting incarnation beyond the uint32 is refused', () => {
    expect(() => new Harness({ incarnation: 2 ** 32 })).toThrow(/incarnation/);
    expect(() => new Harness({ incarnation: 1.5 })).toThrow(/incarnation/);
  });
});

describe('protocol-switch epochs (a hybrid logical clock that a forged epoch cannot exhaust)', () => {
  const START = UNIX_SECONDS * 1000;
  const CONFIG = { pushPullIntervalMs: 0, reconnectIntervalMs: 0 };

  it('a forged switch at epoch 2^32 − 1 is refused as too far ahead of the clock, and counted', () => {
    const h = new Harness({ start: START, config: CONFIG, preload: members(2) });
    h.gossip({ type: 'protocolSwitch', protocol: 'heartbeat', epoch: U32_MAX, origin: 'evil' });
    expect(h.node.protocol).toBe('swim');
    expect(h.node.protocolSwitch).toEqual({ epoch: 0, origin: '' });
    expect(h.node.stats.dropped).toEqual({ 'epoch-ahead': 1 });
  });

  it('after a forged switch at the very edge of the allowed drift, the operator switches back, and peers follow', () => {
    const net = new Network();
    const nodes = [1, 2, 3].map((i) => net.add(new Harness({ name: `n${i}`, host: `10.0.0.${i}`, seed: i, start: START, config: CONFIG })));
    net.now = START;
    for (const h of nodes) h.node.preload(nodes.filter((x) => x !== h).map((x) => ({ profile: x.self, incarnation: 1 })));
    const edge = UNIX_SECONDS + nodes[0]!.config.maxEpochAheadMs / 1000;
    for (const h of nodes) h.gossip({ type: 'protocolSwitch', protocol: 'heartbeat', epoch: edge, origin: '\u{10ffff}' });
    for (const h of nodes) expect(h.node.protocolSwitch.epoch).toBe(edge);
    net.advanceBy(1500);
    nodes[0]!.input({ kind: 'setProtocol', protocol: 'swim' });
    expect(nodes[0]!.node.protocolSwitch).toEqual({ epoch: edge + 1, origin: 'n1' });
    net.advanceBy(20_000);
    for (const h of nodes) expect(h.node.protocol).toBe('swim');
    for (const h of nodes) expectAllEncode(h);
    for (const h of nodes) expect(h.node.stats.dropped).toEqual({});
  });

  it('a switch whose origin is longer than any member name is refused', () => {
    const h = new Harness({ start: START, config: CONFIG });
    h.gossip({ type: 'protocolSwitch', protocol: 'heartbeat', epoch: UNIX_SECONDS, origin: 'o'.repeat(60_000) });
    expect(h.node.protocol).toBe('swim');
    expect(h.node.stats.dropped).toEqual({ 'name-too-long': 1 });
  });
});

describe('other counters off the wire', () => {
  it('the relay limiter remembers few requesters, however many addresses a flood comes from', () => {
    const limit = new KeyedRateLimit(100, 10, 0);
    let taken = 0;
    for (let t = 0; t < 60_000; t += 10) {
      for (let i = 0; i < 10; i++) if (limit.take(`10.${t}.${i}`, t)) taken++;
    }
    // 100 a second over a minute, plus the first second's burst.
    expect(taken).toBeLessThanOrEqual(100 * 61);
    expect(limit.size).toBeLessThanOrEqual(1024);
  });

  it('a suspicion counts at most the confirmations Lifeguard needs, however many accusers are forged', () => {
    const suspicion = new Suspicion(0, 'first', 4000, 24_000, 2);
    let counted = 0;
    for (let i = 0; i < 10_000; i++) if (suspicion.confirm(`forged-${i}`)) counted++;
    expect(counted).toBe(2);
    expect(suspicion.confirmations).toBe(2);
  });
});

describe('new members per packet, per push/pull, and the table', () => {
  it('one packet introduces at most maxNewMembersPerPacket members', () => {
    const h = new Harness();
    h.gossip(...members(127, 'p').map((p) => alive(p)));
    expect(h.node.members()).toHaveLength(1 + h.config.maxNewMembersPerPacket);
    expect(h.node.stats.dropped).toEqual({ 'too-many-new-members': 127 - h.config.maxNewMembersPerPacket });
    // Updates about members already listed are not new members.
    h.gossip(...members(64, 'p').map((p) => alive(p, 2)));
    expect(h.node.stats.dropped).toEqual({ 'too-many-new-members': 127 - h.config.maxNewMembersPerPacket });
  });

  it('a peer’s push/pull introduces at most maxNewMembersPerPushPull members; the node answers it all the same', () => {
    const h = new Harness({ config: { maxNewMembersPerPushPull: 100 } });
    const reply = inbound(h, pushPull(aliveStates(members(1000, 'p'))));
    expect(reply.type).toBe('pushPull');
    expect(h.node.members()).toHaveLength(101);
    expect(h.node.stats.dropped).toEqual({ 'too-many-new-members': 900 });
  });

  it('the answer to this node’s own join may fill the table: a node joining a 2,000-member cluster learns it at once', () => {
    const h = new Harness();
    h.input({ kind: 'join', request: 1, seeds: [{ host: '10.0.0.2', port: PORT }] });
    const [stream] = h.streams();
    h.input({ kind: 'streamReply', stream: stream!.stream, message: pushPull(aliveStates(members(2000, 'p')), true) });
    expect(h.node.members()).toHaveLength(2001);
    expect(h.node.stats.dropped).toEqual({});
  });

  it('the table holds at most maxMembers, however the members come; a forged 100,000 never enter', () => {
    const h = new Harness({ config: { maxMembers: 500 } });
    h.input({ kind: 'join', request: 1, seeds: [{ host: '10.0.0.2', port: PORT }] });
    const [stream] = h.streams();
    h.input({ kind: 'streamReply', stream: stream!.stream, message: pushPull(aliveStates(members(100_000, 'p')), true) });
    expect(h.node.members()).toHaveLength(500);
    expect(h.node.stats.dropped).toEqual({ 'member-table-full': 100_000 - 499 });
    h.gossip(alive(profileOf('late', '10.7.7.7')));
    expect(h.node.member('late')).toBeUndefined();
    expect(h.node.stats.dropped['member-table-full']).toBe(100_000 - 498);
    // The work stays bounded: the node's own push/pull state is the table, not what was offered.
    const reply = inbound(h, pushPull([]));
    expect((reply as PushPullMessage).states).toHaveLength(500);
  });
});

describe('meta and names', () => {
  const big = new Uint8Array(513).fill(0x61);

  it('an alive or push/pull record with meta over 512 bytes is dropped and counted, and not spread', () => {
    const h = new Harness({ preload: [profileOf('m1', '10.1.0.2')] });
    const mark = h.mark();
    h.gossip(alive(profileOf('huge', '10.7.7.7', { meta: big })));
    h.gossip(alive(profileOf('m1', '10.1.0.2', { meta: big }), 5));
    inbound(h, pushPull(aliveStates([profileOf('huge2', '10.7.7.8', { meta: big })])));
    expect(h.node.member('huge')).toBeUndefined();
    expect(h.node.member('huge2')).toBeUndefined();
    expect(h.node.member('m1')).toMatchObject({ incarnation: 1, meta: profileOf('m1', '10.1.0.2').meta });
    expect(h.node.stats.dropped).toEqual({ 'meta-too-large': 3 });
    h.advanceBy(10_000);
    expect(h.sent('alive', mark).filter((s) => s.message.profile.meta.length > 512)).toEqual([]);
    // 512 bytes is fine.
    h.gossip(alive(profileOf('full', '10.7.7.9', { meta: big.subarray(0, 512) })));
    expect(h.node.member('full')?.meta.length).toBe(512);
  });

  it('the application’s own meta over 512 bytes is an error, at start and on change', () => {
    expect(() => new Harness({ meta: big })).toThrow(HearsayError);
    const h = new Harness();
    expect(() => h.input({ kind: 'setMeta', meta: big })).toThrow(/513 bytes exceeds the limit of 512/);
    expect(h.node.profile.meta).toEqual(h.self.meta);
    expect(h.node.incarnation).toBe(1);
  });

  it('a member name over 255 characters is dropped and counted', () => {
    const h = new Harness();
    h.gossip(alive(profileOf('n'.repeat(256), '10.7.7.7')), alive(profileOf('n'.repeat(255), '10.7.7.8')));
    expect(h.node.members()).toHaveLength(2);
    expect(h.node.stats.dropped).toEqual({ 'name-too-long': 1 });
  });
});

describe('the broadcast queue', () => {
  it('an update that can never fit a packet is dropped and counted, not kept forever', () => {
    const h = new Harness({ preload: members(3) }).respond(ackPings());
    h.input({ kind: 'broadcast', key: 'big', payload: new Uint8Array(1400) });
    expect(h.node.queuedBroadcasts).toBe(1); // only this node's own alive
    expect(h.node.stats.dropped).toEqual({ 'broadcast-too-large': 1 });
    expect(h.ofKind('notice').some((n) => n.level === 'warn' && /can never fit/.test(n.text))).toBe(true);
    // One that just fits goes out.
    h.input({ kind: 'broadcast', key: 'fits', payload: new Uint8Array(1400 - 2 - 2 - 1) });
    h.advanceBy(2000);
    expect(h.sent('user').length).toBeGreaterThan(0);
  });

  it('holds at most max(broadcastQueueDepth, 2 × members) updates, dropping the most sent first', () => {
    const h = new Harness({ config: { broadcastQueueDepth: 64, gossipIntervalMs: 0 } });
    for (let i = 0; i < 1000; i++) h.input({ kind: 'broadcast', key: `k${i}`, payload: Uint8Array.of(i & 255) });
    expect(h.node.queuedBroadcasts).toBeLessThanOrEqual(64);
    const dropped = h.node.stats.dropped['broadcast-queue-full']!;
    expect(dropped + h.node.queuedBroadcasts).toBe(1001);
    // The newest survive.
    const kept = inspectContext(h.node)
      .queue.take(0, 1_000_000, 100)
      .map((m) => (m.type === 'user' ? m.payload[0] : -1));
    expect(kept).toContain(999 & 255);
  });
});

describe('memory that must not only grow', () => {
  it('meta changes of one member, again and again, keep one profile in the registry', () => {
    const registry = new Registry();
    const node = new MemberNode({
      profile: profileOf('self', '10.0.0.1'),
      config: new Harness().config,
      random: { float: () => 0.5, int: (n: number) => n - 1 },
      now: 0,
      registry,
    });
    const from = { host: '10.9.9.9', port: PORT };
    for (let i = 1; i <= 20_000; i++) {
      const meta = Uint8Array.of(0xff, 0x81, 0xa1, 0x6b, 0xcd, i >> 8, i & 255);
      node.step(0, { kind: 'packet', from, messages: [alive(profileOf('churn', '10.7.7.7', { meta }), i)] });
    }
    expect(node.member('churn')?.incarnation).toBe(20_000);
    expect(registry.size).toEqual({ names: 2, profiles: 2 });
  });

  it('names and profiles of members reaped from the table are freed, and their ids reused', () => {
    const registry = new Registry();
    const h = new Harness({ registry, config: { gossipToTheDeadTimeMs: 1000, reconnectIntervalMs: 0, pushPullIntervalMs: 0 } }).respond(ackPings());
    for (let round = 0; round < 5; round++) {
      const batch = members(50, `r${round}-`);
      for (let i = 0; i < batch.length; i += 10) h.gossip(...batch.slice(i, i + 10).map((p) => alive(p)));
      for (const p of batch) h.gossip({ type: 'dead', node: p.name, incarnation: 1, from: p.name });
      h.advanceBy(5000);
    }
    h.advanceBy(10_000);
    expect(h.node.members()).toHaveLength(1);
    expect(registry.size).toEqual({ names: 1, profiles: 1 });
    expect(registry.nameCount).toBeLessThanOrEqual(51);
  });

  it('a registry shared by several nodes keeps an entry while any of them lists it', () => {
    const registry = new Registry();
    const config = { gossipToTheDeadTimeMs: 1000, reconnectIntervalMs: 0, pushPullIntervalMs: 0 };
    const a = new Harness({ name: 'a', host: '10.0.0.1', registry, config });
    const b = new Harness({ name: 'b', host: '10.0.0.2', registry, config });
    const shared = profileOf('s', '10.0.0.3');
    a.node.preload([{ profile: shared, incarnation: 1 }]);
    b.node.preload([{ profile: shared, incarnation: 1 }]);
    expect(registry.size).toEqual({ names: 3, profiles: 3 });
    // A member that left is forgotten once gossipToTheDeadTime is over.
    const forgetShared = (h: Harness) => {
      h.gossip({ type: 'dead', node: 's', incarnation: 1, from: 's' });
      h.advanceBy(5000);
      expect(h.node.member('s')).toBeUndefined();
    };
    forgetShared(a);
    expect(b.node.member('s')?.name).toBe('s');
    expect(registry.size).toEqual({ names: 3, profiles: 3 });
    forgetShared(b);
    expect(registry.size).toEqual({ names: 2, profiles: 2 });
    // A snapshot preloaded again after its entries were freed is interned afresh.
    a.node.preload([{ profile: shared, incarnation: 1 }]);
    expect(a.node.member('s')?.host).toBe('10.0.0.3');
  });

  it('cancelled timers are swept once they outnumber the live ones', () => {
    const timers = new Timers();
    const live = timers.schedule(10, () => {});
    for (let i = 0; i < 100_000; i++) timers.cancel(timers.schedule(1e9 + i, () => {}));
    expect(timers.size).toBeLessThan(2100);
    expect(timers.nextDeadline()).toBe(10);
    timers.cancel(live);
    expect(timers.nextDeadline()).toBe(Infinity);
  });

  it('suspicions started and refuted over and over leave the timer heap bounded', () => {
    const h = new Harness({ preload: [profileOf('m1', '10.1.0.2')], config: { pushPullIntervalMs: 0 } });
    for (let i = 1; i <= 20_000; i++) {
      h.gossip({ type: 'suspect', node: 'm1', incarnation: i, from: 'x' }, alive(profileOf('m1', '10.1.0.2'), i + 1));
    }
    expect(inspectContext(h.node).timers.size).toBeLessThan(3000);
  });

  it('failed members remembered for reconnection are bounded by maxMembers', () => {
    const h = new Harness({ config: { maxMembers: 20, gossipToTheDeadTimeMs: 1000, pushPullIntervalMs: 0 } }).respond(ackPings());
    for (let round = 0; round < 10; round++) {
      const batch = members(10, `f${round}-`);
      h.gossip(...batch.map((p) => alive(p)));
      for (const p of batch) h.gossip({ type: 'dead', node: p.name, incarnation: 1, from: 'x' });
      h.advanceBy(5000);
    }
    expect(h.node.stats.dropped['reconnect-full']).toBe(100 - 20);
  });
});

describe('heartbeat counters', () => {
  function heartbeatNode(): Harness {
    return new Harness({ protocol: 'heartbeat', config: HEARTBEAT_CONFIG, preload: [profileOf('m1', '10.1.0.2')] });
  }
  const entry = (heartbeat: number) => ({ profile: profileOf('m1', '10.1.0.2'), generation: 1, heartbeat, status: 'alive' as const });

  it('a forged heartbeat of 2^53 − 1 is refused once the member’s counter is known, and counted', () => {
    const h = heartbeatNode();
    h.gossip({ type: 'heartbeats', entries: [entry(50_000)] }); // the first value may be anything
    h.gossip({ type: 'heartbeats', entries: [entry(Number.MAX_SAFE_INTEGER)] });
    expect(h.node.heartbeatOf('m1')).toBe(50_000);
    expect(h.node.stats.dropped).toEqual({ 'heartbeat-ahead': 1 });
    // The member's own heartbeats keep rising and keep it alive.
    for (let t = 1; t <= 30; t++) {
      h.advanceBy(1000);
      h.gossip({ type: 'heartbeats', entries: [entry(50_000 + t)] });
    }
    expect(h.status('m1')).toBe('alive');
    expect(h.node.heartbeatOf('m1')).toBe(50_030);
  });

  it('a heartbeat may run ahead by the slack plus twice the periods elapsed', () => {
    const h = heartbeatNode();
    h.gossip({ type: 'heartbeats', entries: [entry(10)] });
    h.advanceBy(4000);
    h.gossip({ type: 'heartbeats', entries: [entry(10 + 1000 + 8 + 1)] });
    expect(h.node.heartbeatOf('m1')).toBe(10);
    h.gossip({ type: 'heartbeats', entries: [entry(10 + 1000 + 8)] });
    expect(h.node.heartbeatOf('m1')).toBe(1018);
    expect(h.node.stats.dropped).toEqual({ 'heartbeat-ahead': 1 });
  });

  it('a forged live record of this node at a newer generation is refuted', () => {
    const h = heartbeatNode();
    h.gossip({ type: 'heartbeats', entries: [{ profile: h.self, generation: 9, heartbeat: 1, status: 'alive' }] });
    expect(h.node.incarnation).toBe(10);
  });
});

it('a table entry removed frees what other parts kept by its id', () => {
  const h = new Harness({ preload: [profileOf('m1', '10.1.0.2')], config: { gossipToTheDeadTimeMs: 0 } }).respond(ackPings());
  h.advanceBy(5000);
  expect(h.node.member('m1')?.rttMs).toBeGreaterThan(0);
  h.gossip({ type: 'dead', node: 'm1', incarnation: 1, from: 'm1' });
  h.advanceBy(5000);
  expect(h.node.member('m1')).toBeUndefined();
  // A new member that gets m1's freed id starts without m1's round-trip time.
  h.gossip(alive(profileOf('m2', '10.1.0.3')));
  expect(h.node.member('m2')?.rttMs).toBeUndefined();
  expect(addressOf(h.node.member('m2')!)).toEqual({ host: '10.1.0.3', port: PORT });
});
