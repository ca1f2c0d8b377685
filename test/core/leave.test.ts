/**
 * Graceful leave (docs/wire-format.md §8.9): the node broadcasts dead{self, from: self}, reports when that has
 * been sent its full transmit limit (or when the timeout expires first), and peers mark it left.
 */
import { describe, expect, it } from 'vitest';
import { ackPings, Harness, members, Network, PORT } from './harness.js';

const PEERS = members(3); // n = 4: transmit limit 4 × ceil(log10 5) = 4

describe('leaving', () => {
  it('broadcasts dead{node: self, from: self} and marks itself left', () => {
    const h = new Harness({ seed: 41, preload: PEERS, incarnation: 3 }).respond(ackPings());
    h.advanceTo(5000);
    const mark = h.mark();
    h.input({ kind: 'leave', timeoutMs: 10_000 });
    expect(h.node.member('self')?.status).toBe('left');
    expect(h.events(mark, 'left', 'self')).toHaveLength(1);
    h.advanceTo(6000);
    const sent = h.sentAbout('self', mark);
    expect(sent.length).toBeGreaterThan(0);
    for (const s of sent) expect(s.message).toEqual({ type: 'dead', node: 'self', incarnation: 3, from: 'self' });
  });

  it('reports left (not timed out) once the announcement has been sent its transmit limit, and sends it no more', () => {
    const h = new Harness({ seed: 41, preload: PEERS }).respond(ackPings());
    h.advanceTo(5000);
    const mark = h.mark();
    h.input({ kind: 'leave', timeoutMs: 10_000 });
    expect(h.ofKind('left', mark)).toEqual([]);
    h.runUntil(() => h.ofKind('left', mark).length > 0);
    const [done] = h.ofKind('left', mark);
    expect(done).toMatchObject({ timedOut: false });
    const sent = h.sentAbout('self', mark);
    expect(sent).toHaveLength(4);
    expect(done!.at).toBe(sent[3]!.at);
    h.advanceTo(30_000);
    expect(h.sentAbout('self', mark)).toHaveLength(4);
    expect(h.ofKind('left', mark)).toHaveLength(1);
  });

  it('reports timedOut when nothing could be sent before the timeout', () => {
    // No gossip rounds, and nobody pings it: the announcement never goes out.
    const h = new Harness({ seed: 41, preload: PEERS, config: { gossipIntervalMs: 0 } });
    h.advanceTo(5000);
    const mark = h.mark();
    h.input({ kind: 'leave', timeoutMs: 2000 });
    h.advanceTo(6999);
    expect(h.ofKind('left', mark)).toEqual([]);
    h.advanceTo(7000);
    expect(h.ofKind('left', mark)).toMatchObject([{ timedOut: true, at: 7000 }]);
    expect(h.sentAbout('self', mark)).toEqual([]);
    h.advanceTo(20_000);
    expect(h.ofKind('left', mark)).toHaveLength(1);
  });

  it('the announcement also rides on acks while the node waits', () => {
    const h = new Harness({ seed: 41, preload: PEERS, config: { gossipIntervalMs: 0 } });
    const mark = h.mark();
    h.input({ kind: 'leave', timeoutMs: 60_000 });
    for (let i = 1; i <= 4; i++) h.packet(PEERS[0]!, { type: 'ping', seqNo: i, node: 'self' });
    expect(h.sentAbout('self', mark)).toHaveLength(4);
    expect(h.ofKind('left', mark)).toMatchObject([{ timedOut: false }]);
  });

  it('a node with nobody else alive is done at once', () => {
    const h = new Harness({ seed: 41 });
    const mark = h.mark();
    h.input({ kind: 'leave', timeoutMs: 5000 });
    expect(h.ofKind('left', mark)).toMatchObject([{ timedOut: false }]);
  });

  it('a second leave is ignored', () => {
    const h = new Harness({ seed: 41, preload: PEERS }).respond(ackPings());
    const mark = h.mark();
    h.input({ kind: 'leave', timeoutMs: 10_000 });
    h.input({ kind: 'leave', timeoutMs: 10_000 });
    h.advanceBy(20_000);
    expect(h.ofKind('left', mark)).toHaveLength(1);
    expect(h.sentAbout('self', mark)).toHaveLength(4);
  });

  it('a leaving node no longer refutes rumours about itself nor probes others', () => {
    const h = new Harness({ seed: 41, preload: PEERS }).respond(ackPings());
    h.input({ kind: 'leave', timeoutMs: 10_000 });
    const mark = h.mark();
    h.gossip({ type: 'suspect', node: 'self', incarnation: 1, from: 'm1' });
    h.gossip({ type: 'alive', incarnation: 9, profile: h.self });
    expect(h.node.incarnation).toBe(1);
    expect(h.node.member('self')?.status).toBe('left');
    h.advanceBy(10_000);
    expect(h.probes(mark)).toEqual([]);
  });

  it('a meta change after leaving neither replaces the announcement nor brings the node back', () => {
    const h = new Harness({ seed: 41, preload: PEERS }).respond(ackPings());
    const mark = h.mark();
    h.input({ kind: 'leave', timeoutMs: 10_000 });
    h.input({ kind: 'setMeta', meta: Uint8Array.of(1) });
    expect(h.ofKind('left', mark)).toEqual([]);
    h.advanceBy(10_000);
    const sent = h.sentAbout('self', mark).map((s) => s.message);
    expect(sent).toHaveLength(4);
    expect(sent.every((m) => m.type === 'dead')).toBe(true);
    expect(h.ofKind('left', mark)).toMatchObject([{ timedOut: false }]);
    expect(h.node.member('self')).toMatchObject({ status: 'left', incarnation: 1 });
  });

  it('a leaving node still answers pings', () => {
    const h = new Harness({ seed: 41, preload: PEERS });
    h.input({ kind: 'leave', timeoutMs: 10_000 });
    const mark = h.mark();
    h.packet(PEERS[0]!, { type: 'ping', seqNo: 99, node: 'self' });
    expect(h.sent('ack', mark).map((a) => a.message.seqNo)).toEqual([99]);
  });
});

describe('seeing a peer leave', () => {
  it('a peer that receives the announcement marks the node left with a left event', () => {
    const net = new Network();
    const a = net.add(new Harness({ name: 'a', host: '10.0.0.1', seed: 1 }));
    const b = net.add(new Harness({ name: 'b', host: '10.0.0.2', seed: 2 }));
    const c = net.add(new Harness({ name: 'c', host: '10.0.0.3', seed: 3 }));
    for (const h of [a, b, c]) h.node.preload([a, b, c].filter((x) => x !== h).map((x) => ({ profile: x.self, incarnation: 1 })));
    net.advanceTo(3000);
    b.input({ kind: 'leave', timeoutMs: 5000 });
    net.advanceTo(8000);
    expect(b.ofKind('left')).toMatchObject([{ timedOut: false }]);
    for (const peer of [a, c]) {
      expect(peer.node.member('b')).toMatchObject({ status: 'left', incarnation: 1 });
      expect(peer.events(0, 'left', 'b')).toHaveLength(1);
      expect(peer.events(0, 'failed', 'b')).toEqual([]);
    }
  });

  it('a left member stays left: later probes of it are not attempted', () => {
    const h = new Harness({ seed: 43, preload: PEERS }).respond(ackPings());
    h.packet({ host: PEERS[0]!.host, port: PORT }, { type: 'dead', node: 'm1', incarnation: 1, from: 'm1' });
    h.advanceBy(20_000);
    expect(h.probes().map((p) => p.node)).not.toContain('m1');
    expect(h.status('m1')).toBe('left');
  });
});
