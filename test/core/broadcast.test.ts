/**
 * Dissemination (docs/wire-format.md §8.6, §3.4): memberlist's TransmitLimitedQueue, and how the node spends it
 * on gossip rounds and piggybacked parts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BroadcastQueue } from '../../packages/hearsay/src/core/broadcast-queue.js';
import { memberlistSize, retransmitLimit, type Message } from '../../packages/hearsay/src/core/index.js';
import { about, ackPings, Harness, members, PORT } from './harness.js';

function user(tag: number, size: number): Message {
  // a user message of `size` bytes in all (type byte + payload)
  const payload = new Uint8Array(size - 1);
  payload[0] = tag;
  return { type: 'user', payload };
}

function tags(messages: Message[]): number[] {
  return messages.map((m) => (m.type === 'user' ? m.payload[0]! : -1));
}

describe('retransmit limit', () => {
  it('is retransmitMult × ceil(log10(n + 1)): n = 3 → 4, n = 10 → 8, n = 100 → 12, n = 1000 → 16', () => {
    expect(retransmitLimit(4, 3)).toBe(4);
    expect(retransmitLimit(4, 10)).toBe(8);
    expect(retransmitLimit(4, 100)).toBe(12);
    expect(retransmitLimit(4, 1000)).toBe(16);
    expect(retransmitLimit(2, 1)).toBe(2);
  });
});

describe('BroadcastQueue', () => {
  it('hands out each update exactly `limit` times, then drops it and reports it done', () => {
    const q = new BroadcastQueue();
    let done = 0;
    q.add('a', user(1, 10), 10, () => done++);
    const sends: number[][] = [];
    for (let i = 0; i < 6; i++) sends.push(tags(q.take(2, 1000, 4)));
    expect(sends).toEqual([[1], [1], [1], [1], [], []]);
    expect(done).toBe(1);
    expect(q.length).toBe(0);
  });

  it('a newer update with the same key replaces the older one (which is reported done)', () => {
    const q = new BroadcastQueue();
    const done: string[] = [];
    q.add('b', user(1, 10), 10, () => done.push('old'));
    q.take(2, 1000, 4);
    q.add('b', user(2, 10), 10, () => done.push('new'));
    expect(done).toEqual(['old']);
    expect(q.length).toBe(1);
    // the replacement starts its own count from zero
    const sends = Array.from({ length: 5 }, () => tags(q.take(2, 1000, 4)));
    expect(sends).toEqual([[2], [2], [2], [2], []]);
  });

  it('updates with different keys are kept side by side', () => {
    const q = new BroadcastQueue();
    q.add('a', user(1, 10), 10);
    q.add('b', user(2, 10), 10);
    expect(q.length).toBe(2);
    expect(tags(q.take(2, 1000, 4)).sort()).toEqual([1, 2]);
  });

  it('takes the fewest-sent first', () => {
    const q = new BroadcastQueue();
    q.add('old', user(1, 10), 10);
    q.take(2, 1000, 10); // old: sent once
    q.take(2, 1000, 10); // old: sent twice
    q.add('new', user(2, 10), 10);
    // room for one only: the unsent one wins although it is not larger
    expect(tags(q.take(2, 12, 10))).toEqual([2]);
    expect(tags(q.take(2, 12, 10))).toEqual([2]);
    // now new has 2 sends and old 2: tie on sends and size, the newest first
    expect(tags(q.take(2, 12, 10))).toEqual([2]);
    expect(tags(q.take(2, 12, 10))).toEqual([1]);
  });

  it('among equally sent updates, takes the largest that fits, then the newest', () => {
    const q = new BroadcastQueue();
    q.add('small-old', user(1, 10), 10);
    q.add('large', user(2, 30), 30);
    q.add('small-new', user(3, 10), 10);
    expect(tags(q.take(0, 1000, 10))).toEqual([2, 3, 1]);
  });

  it('respects the byte budget, counting the per-part overhead, and skips what does not fit', () => {
    const q = new BroadcastQueue();
    q.add('a', user(1, 50), 50);
    q.add('b', user(2, 40), 40);
    q.add('c', user(3, 20), 20);
    // 52 + 42 > 80, so after a (52) only c (22) fits: 74 ≤ 80
    expect(tags(q.take(2, 80, 10))).toEqual([1, 3]);
    // b was not sent, so it now goes first
    expect(tags(q.take(2, 42, 10))).toEqual([2]);
    // everything has now been sent once; c needs 22 bytes
    expect(tags(q.take(2, 21, 10))).toEqual([]);
  });

  it('property: whatever the budgets, no update is handed out more than `limit` times, and with room enough each exactly `limit` times', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 12 }),
        (sizes, budgets, limit) => {
          const q = new BroadcastQueue();
          const done = new Set<number>();
          sizes.forEach((size, i) => {
            q.add(`k${i}`, user(i, size + 1), size + 1, () => done.add(i));
          });
          const counts = new Array<number>(sizes.length).fill(0);
          for (const budget of budgets) {
            const taken = q.take(2, budget, limit);
            let used = 0;
            for (const m of taken) {
              counts[tags([m])[0]!]!++;
              used += 2 + memberlistSize(m);
            }
            if (used > budget) return false;
          }
          // then drain with a budget that fits everything
          for (let i = 0; i < limit; i++) for (const m of q.take(2, 1_000_000, limit)) counts[tags([m])[0]!]!++;
          return counts.every((c) => c === limit) && done.size === sizes.length && q.length === 0;
        },
      ),
      { seed: 20240601, numRuns: 200 },
    );
  });

  it('nothing fits a budget smaller than one part', () => {
    const q = new BroadcastQueue();
    q.add('a', user(1, 10), 10);
    expect(q.take(2, 11, 4)).toEqual([]);
    expect(q.length).toBe(1);
  });
});

describe('dissemination by the node', () => {
  it.each([3, 10, 100])('in a cluster of %i, an update is sent retransmitMult × ceil(log10(n + 1)) times in all, then never again', (n) => {
    const h = new Harness({ seed: 23, preload: members(n - 1) }).respond(ackPings());
    h.advanceTo(5000);
    const mark = h.mark();
    h.gossip({ type: 'dead', node: 'm2', incarnation: 1, from: 'x' });
    h.advanceTo(25_000); // before gossipToTheDeadTime could reap m2
    const sent = h.sentAbout('m2', mark);
    expect(sent.length).toBe(4 * Math.ceil(Math.log10(n + 1)));
    expect(sent.every((s) => s.message.type === 'dead')).toBe(true);
    // gossip and piggybacking both count
    expect(sent.some((s) => s.index === 0)).toBe(true);
  });

  it('an application broadcast is disseminated like an update, and a later one with the same key replaces it', () => {
    const h = new Harness({ seed: 23, preload: members(9) }).respond(ackPings());
    h.advanceTo(5000);
    const mark = h.mark();
    const first = Uint8Array.of(1, 2, 3);
    const second = Uint8Array.of(4, 5, 6);
    h.input({ kind: 'broadcast', key: 'greeting', payload: first });
    h.input({ kind: 'broadcast', key: 'greeting', payload: second });
    h.input({ kind: 'broadcast', key: 'other', payload: first });
    h.advanceTo(20_000);
    const users = h.sent('user', mark).map((s) => s.message);
    expect(users.filter((m) => m.payload === second)).toHaveLength(8);
    // 'other' carries `first`; the replaced 'greeting' never went out.
    expect(users.filter((m) => m.payload === first)).toHaveLength(8);
  });

  it('the start-up alive about itself is sent exactly the limit times', () => {
    const h = new Harness({ seed: 23, preload: members(9) }).respond(ackPings());
    h.advanceTo(30_000);
    expect(h.sentAbout('self').length).toBe(8);
  });

  it('a newer update about the same member replaces the older one before it is sent', () => {
    const h = new Harness({ seed: 23, preload: members(9) }).respond(ackPings());
    h.advanceTo(5000);
    const mark = h.mark();
    h.gossip({ type: 'suspect', node: 'm2', incarnation: 1, from: 'x' }, { type: 'dead', node: 'm2', incarnation: 1, from: 'x' });
    h.advanceTo(20_000);
    const sent = h.sentAbout('m2', mark).map((s) => s.message.type);
    expect(sent).not.toContain('suspect');
    expect(sent.filter((t) => t === 'dead')).toHaveLength(8);
  });

  it('piggybacks queued updates on the packets it sends, after the primary message', () => {
    const h = new Harness({ seed: 23, preload: members(3) });
    h.gossip({ type: 'dead', node: 'm2', incarnation: 1, from: 'x' });
    const mark = h.mark();
    h.packet({ host: '10.9.9.9', port: PORT }, { type: 'ping', seqNo: 5, node: 'self' });
    const [ack] = h.packets(mark);
    expect(ack!.messages[0]).toEqual({ type: 'ack', seqNo: 5, digest: expect.any(Number) });
    expect(ack!.messages.slice(1).map(about)).toEqual(expect.arrayContaining(['m2', 'self']));
  });

  it('keeps piggybacked packets within the UDP budget', () => {
    const h = new Harness({ seed: 23, preload: members(3), config: { udpBufferSize: 120 } });
    // Queue many updates about new members.
    for (const p of members(20, 'n')) h.gossip({ type: 'alive', incarnation: 1, profile: p });
    const mark = h.mark();
    h.packet({ host: '10.9.9.9', port: PORT }, { type: 'ping', seqNo: 5, node: 'self' });
    const [ack] = h.packets(mark);
    const parts = ack!.messages;
    expect(parts.length).toBeGreaterThan(1);
    const bytes = parts.reduce((sum, m) => sum + memberlistSize(m), 0) + 2 + 2 * (parts.length - 1);
    expect(bytes).toBeLessThanOrEqual(120);
  });

  it('gossips at most gossipNodes packets per round, rounds at least gossipInterval apart', () => {
    const h = new Harness({ seed: 23, preload: members(20) }).respond(ackPings());
    for (let i = 1; i <= 10; i++) h.gossip({ type: 'dead', node: `m${i}`, incarnation: 1, from: 'x' });
    h.advanceTo(10_000);
    const gossipTimes = h
      .packets()
      .filter((p) => !['ping', 'ack', 'indirectPing', 'nack'].includes(p.messages[0]!.type))
      .map((p) => p.at);
    expect(gossipTimes.length).toBeGreaterThan(0);
    const perRound = new Map<number, number>();
    for (const t of gossipTimes) perRound.set(t, (perRound.get(t) ?? 0) + 1);
    for (const count of perRound.values()) expect(count).toBeLessThanOrEqual(3);
    const rounds = [...perRound.keys()].sort((a, b) => a - b);
    for (let i = 1; i < rounds.length; i++) expect(rounds[i]! - rounds[i - 1]!).toBeGreaterThanOrEqual(200 - 1e-6);
  });

  it('gossip packets are CRC-wrapped for members whose PMax is at least 5 only', () => {
    const modern = members(3, 'p5');
    const old = members(3, 'p4', { vsn: Uint8Array.of(1, 4, 2, 2, 5, 4) }).map((p, i) => ({ ...p, host: `10.2.0.${i + 1}` }));
    const h = new Harness({ seed: 23, preload: [...modern, ...old] }).respond(ackPings());
    for (let i = 0; i < 20; i++) {
      h.gossip({ type: 'alive', incarnation: 1, profile: { ...modern[0]!, name: `z${i}`, host: `10.7.0.${i + 1}` } });
      h.advanceBy(200);
    }
    const gossip = h.packets().filter((p) => !['ping', 'ack', 'indirectPing', 'nack'].includes(p.messages[0]!.type));
    const toModern = gossip.filter((p) => modern.some((m) => m.host === p.to.host));
    const toOld = gossip.filter((p) => old.some((m) => m.host === p.to.host));
    expect(toModern.length).toBeGreaterThan(0);
    expect(toOld.length).toBeGreaterThan(0);
    expect(toModern.every((p) => p.crc)).toBe(true);
    expect(toOld.every((p) => !p.crc)).toBe(true);
  });

  it('gossip goes to failed members for gossipToTheDeadTime, never to left ones', () => {
    const h = new Harness({ seed: 23, preload: members(4) }).respond(ackPings());
    h.gossip({ type: 'dead', node: 'm1', incarnation: 1, from: 'x' });
    h.gossip({ type: 'dead', node: 'm2', incarnation: 1, from: 'm2' });
    const [m1, m2] = members(2);
    for (let i = 0; i < 40; i++) {
      // keep the queue busy with fresh updates
      h.gossip({ type: 'alive', incarnation: 1, profile: { ...m1!, name: `z${i}`, host: `10.7.0.${i + 1}` } });
      h.advanceBy(200);
    }
    const gossipTo = (host: string) => h.packets().filter((p) => p.to.host === host && !['ping', 'ack'].includes(p.messages[0]!.type));
    expect(gossipTo(m1!.host).length).toBeGreaterThan(0);
    expect(gossipTo(m2!.host)).toEqual([]);
  });

  it('a node alone with queued updates does not spin: its clock moves on', () => {
    const h = new Harness({ seed: 5 });
    h.advanceTo(60_000);
    expect(h.now).toBe(60_000);
    expect(h.node.nextDeadline()).toBeGreaterThan(60_000);
  });
});
