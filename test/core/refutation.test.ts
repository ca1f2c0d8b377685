/**
 * Refutation (docs/wire-format.md §8.5): rumours about this node are outbid with a higher incarnation, the new
 * alive goes out with the next packets, and having to refute costs one point of health.
 */
import { describe, expect, it } from 'vitest';
import type { AliveMessage, Message } from '../../packages/hearsay/src/core/index.js';
import { ackPings, Harness, members, PORT } from './harness.js';

const PEERS = members(3);

function node(incarnation = 1): Harness {
  return new Harness({ seed: 11, incarnation, preload: PEERS });
}

function selfAlives(messages: readonly Message[], name = 'self'): AliveMessage[] {
  return messages.filter((m): m is AliveMessage => m.type === 'alive' && m.profile.name === name);
}

describe('refuting rumours about this node', () => {
  it.each([
    // [local incarnation, accusation, accused incarnation, expected new incarnation]
    [1, 'suspect', 1, 2],
    [1, 'suspect', 5, 6],
    [4, 'suspect', 4, 5],
    [4, 'suspect', 9, 10],
    [1, 'dead', 1, 2],
    [1, 'dead', 3, 4],
    [6, 'dead', 6, 7],
  ] as const)('at incarnation %i, a %s about self at incarnation %i raises it to %i', (local, kind, accused, expected) => {
    const h = node(local);
    expect(h.node.incarnation).toBe(local);
    h.gossip({ type: kind, node: 'self', incarnation: accused, from: 'm1' });
    expect(h.node.incarnation).toBe(expected);
    expect(h.node.member('self')).toMatchObject({ status: 'alive', incarnation: expected });
    expect(h.node.stats.refutations).toBe(1);
  });

  it('a suspect about self at an older incarnation is ignored', () => {
    const h = node(5);
    h.gossip({ type: 'suspect', node: 'self', incarnation: 4, from: 'm1' });
    expect(h.node.incarnation).toBe(5);
    expect(h.node.healthScore).toBe(0);
    expect(h.node.stats.refutations).toBe(0);
  });

  it('a dead about self at an older incarnation is ignored', () => {
    const h = node(5);
    h.gossip({ type: 'dead', node: 'self', incarnation: 2, from: 'm1' });
    expect(h.node.incarnation).toBe(5);
    expect(h.node.member('self')?.status).toBe('alive');
  });

  it('this node never marks itself suspect, failed or left because of a rumour', () => {
    const h = node();
    const mark = h.mark();
    h.gossip({ type: 'suspect', node: 'self', incarnation: 1, from: 'm1' });
    h.gossip({ type: 'dead', node: 'self', incarnation: 2, from: 'm2' });
    h.gossip({ type: 'dead', node: 'self', incarnation: 3, from: 'self' });
    expect(h.node.member('self')?.status).toBe('alive');
    expect(h.node.incarnation).toBe(4);
    expect(h.events(mark, undefined, 'self')).toEqual([]);
  });

  it('refuting raises the health score by one', () => {
    const h = node();
    expect(h.node.healthScore).toBe(0);
    h.gossip({ type: 'suspect', node: 'self', incarnation: 1, from: 'm1' });
    expect(h.node.healthScore).toBe(1);
    h.gossip({ type: 'dead', node: 'self', incarnation: 2, from: 'm1' });
    expect(h.node.healthScore).toBe(2);
  });

  it('the refuting alive is piggybacked on the next packet this node sends', () => {
    const h = node();
    h.gossip({ type: 'suspect', node: 'self', incarnation: 3, from: 'm1' });
    const mark = h.mark();
    h.packet({ host: '10.0.0.50', port: PORT }, { type: 'ping', seqNo: 77, node: 'self' });
    const [ack] = h.packets(mark);
    expect(ack!.messages[0]).toEqual({ type: 'ack', seqNo: 77, digest: expect.any(Number) });
    const alives = selfAlives(ack!.messages.slice(1));
    expect(alives).toHaveLength(1);
    expect(alives[0]).toEqual({ type: 'alive', incarnation: 4, profile: h.self });
  });

  it('the refuting alive is gossiped to the other members', () => {
    const h = node().respond(ackPings());
    h.gossip({ type: 'dead', node: 'self', incarnation: 1, from: 'm2' });
    const mark = h.mark();
    h.advanceBy(1000);
    const sent = h.sentAbout('self', mark);
    expect(sent.length).toBeGreaterThan(0);
    for (const s of sent) expect(s.message).toEqual({ type: 'alive', incarnation: 2, profile: h.self });
    const receivers = new Set(sent.map((s) => s.to.host));
    expect([...receivers].every((host) => PEERS.some((p) => p.host === host))).toBe(true);
  });

  it('the refutation replaces the start-up alive in the queue: only the newest incarnation goes out', () => {
    const h = node().respond(ackPings());
    h.gossip({ type: 'suspect', node: 'self', incarnation: 1, from: 'm1' });
    h.advanceBy(10_000);
    const incarnations = new Set(h.sentAbout('self').map((s) => (s.message as AliveMessage).incarnation));
    expect([...incarnations]).toEqual([2]);
  });
});

describe('refuting fast', () => {
  it('a ping that carries a suspicion of this node (Lifeguard buddy system) is acked with the refutation on board', () => {
    const h = node();
    const mark = h.mark();
    h.packet(
      PEERS[0]!,
      { type: 'ping', seqNo: 8, node: 'self', source: { name: 'm1', host: PEERS[0]!.host, port: PORT } },
      { type: 'suspect', node: 'self', incarnation: 1, from: 'm1' },
    );
    const [ack] = h.packets(mark);
    expect(ack!.to.host).toBe(PEERS[0]!.host);
    expect(ack!.messages[0]).toEqual({ type: 'ack', seqNo: 8, digest: expect.any(Number) });
    expect(selfAlives(ack!.messages)).toEqual([{ type: 'alive', incarnation: 2, profile: h.self }]);
  });

  it('a rumour about an incarnation already refuted is answered by announcing the current one again, without a new refutation', () => {
    const h = node().respond(ackPings());
    h.gossip({ type: 'suspect', node: 'self', incarnation: 1, from: 'm1' });
    h.advanceBy(30_000); // the refutation has been sent its transmit limit
    expect(h.node.incarnation).toBe(2);
    const score = h.node.healthScore;
    h.gossip({ type: 'suspect', node: 'self', incarnation: 1, from: 'm3' });
    expect(h.node.incarnation).toBe(2);
    expect(h.node.healthScore).toBe(score);
    const mark = h.mark();
    h.packet({ host: '10.0.0.50', port: PORT }, { type: 'ping', seqNo: 77, node: 'self' });
    expect(selfAlives(h.packets(mark)[0]!.messages)).toEqual([{ type: 'alive', incarnation: 2, profile: h.self }]);
  });
});

describe('refuting alive messages about this node', () => {
  it('an alive about self with a higher incarnation is refuted above it', () => {
    const h = node(2);
    h.gossip({ type: 'alive', incarnation: 7, profile: h.self });
    expect(h.node.incarnation).toBe(8);
    expect(h.node.healthScore).toBe(1);
  });

  it('an alive about self at the same incarnation but other meta is refuted', () => {
    const h = node(2);
    h.gossip({ type: 'alive', incarnation: 2, profile: { ...h.self, meta: Uint8Array.of(9) } });
    expect(h.node.incarnation).toBe(3);
    expect(Array.from(h.node.profile.meta)).toEqual(Array.from(h.self.meta));
  });

  it('an alive about self at the same incarnation and identical content is ignored', () => {
    const h = node(2);
    h.gossip({ type: 'alive', incarnation: 2, profile: { ...h.self, meta: Uint8Array.of(0xff, 0x80) } });
    expect(h.node.incarnation).toBe(2);
    expect(h.node.stats.refutations).toBe(0);
  });

  it('an alive about self at a lower incarnation is ignored', () => {
    const h = node(5);
    h.gossip({ type: 'alive', incarnation: 4, profile: { ...h.self, meta: Uint8Array.of(9) } });
    expect(h.node.incarnation).toBe(5);
  });
});

describe('announcing a meta change', () => {
  it('setMeta raises the incarnation, emits an update and queues the new alive', () => {
    const h = node(3);
    const mark = h.mark();
    const meta = Uint8Array.of(0xff, 0x81, 0xa1, 0x61, 0xa1, 0x62);
    h.input({ kind: 'setMeta', meta });
    expect(h.node.incarnation).toBe(4);
    expect(h.events(mark).map((e) => [e.type, e.member.name, e.member.incarnation])).toEqual([['update', 'self', 4]]);
    h.packet({ host: '10.0.0.50', port: PORT }, { type: 'ping', seqNo: 1, node: '' });
    const alives = selfAlives(h.packets(mark)[0]!.messages);
    expect(alives.map((a) => [a.incarnation, Array.from(a.profile.meta)])).toEqual([[4, Array.from(meta)]]);
  });
});
