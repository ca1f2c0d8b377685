/**
 * A replayed alive cannot bring back a member that left (issue 11, item 10): once its
 * tombstone is reaped, the departure is remembered for departedMemoryMs, and an alive that does
 * not outbid it is refused; a memberlist node restarted at a low incarnation is told its
 * tombstone, refutes it, and comes back.
 */
import { describe, expect, it } from 'vitest';
import { Departures } from '../../packages/hearsay/src/core/departures.js';
import type { AliveMessage, ProtocolConfig } from '../../packages/hearsay/src/core/index.js';
import { Harness, Network } from './harness.js';

const UNIX_SECONDS = 1_770_000_000;
const CONFIG: Partial<ProtocolConfig> = { gossipToTheDeadTimeMs: 5000, pushPullIntervalMs: 0, reconnectIntervalMs: 0 };

function node(i: number, incarnation = UNIX_SECONDS, config = CONFIG, start = 0): Harness {
  return new Harness({ name: `a${i}`, host: `10.0.0.${i}`, seed: i, incarnation, config, start });
}

/** Three nodes that know each other; a2 then leaves and is reaped everywhere. */
function clusterAfterLeave(config = CONFIG): { net: Network; a1: Harness; a3: Harness; replay: AliveMessage } {
  const net = new Network();
  const nodes = [1, 2, 3].map((i) => net.add(node(i, UNIX_SECONDS, config)));
  for (const h of nodes) for (const other of nodes) if (other !== h) h.node.preload([{ profile: other.self, incarnation: other.node.incarnation }]);
  const [a1, a2, a3] = nodes as [Harness, Harness, Harness];
  // What an eavesdropper captured while a2 was a member: its own announcement.
  const replay: AliveMessage = { type: 'alive', incarnation: a2.node.incarnation, profile: a2.self };
  a2.input({ kind: 'leave', timeoutMs: 5000 });
  net.advanceBy(3000);
  expect(a1.status('a2')).toBe('left');
  net.remove(a2);
  net.advanceBy(30_000);
  expect(a1.node.member('a2')).toBeUndefined();
  return { net, a1, a3, replay };
}

describe('departed members', () => {
  it('an alive replayed after the tombstone was reaped is refused and counted; nothing spreads', () => {
    const { net, a1, a3, replay } = clusterAfterLeave();
    a1.gossip(replay);
    net.advanceBy(10_000);
    expect(a1.node.member('a2')).toBeUndefined();
    expect(a3.node.member('a2')).toBeUndefined();
    expect(a1.node.stats.dropped['departed-alive']).toBe(1);
  });

  it('without the memory (departedMemoryMs 0) the same replay brings the member back, as in memberlist', () => {
    const { net, a1, replay } = clusterAfterLeave({ ...CONFIG, departedMemoryMs: 0 });
    a1.gossip(replay);
    net.advanceBy(10);
    expect(a1.status('a2')).toBe('alive');
  });

  it('the memory ends after departedMemoryMs: then the replay is taken like a new member', () => {
    const { net, a1, replay } = clusterAfterLeave({ ...CONFIG, departedMemoryMs: 60_000 });
    net.advanceBy(60_000);
    a1.gossip(replay);
    net.advanceBy(10);
    expect(a1.status('a2')).toBe('alive');
  });

  it('a hearsay restart (a newer, Unix-time incarnation) comes back at once', () => {
    const { net, a1, a3 } = clusterAfterLeave();
    const restarted = net.add(node(2, UNIX_SECONDS + 40, CONFIG, net.now));
    restarted.gossip({ type: 'alive', incarnation: UNIX_SECONDS + 40, profile: restarted.self });
    a1.gossip({ type: 'alive', incarnation: UNIX_SECONDS + 40, profile: restarted.self });
    net.advanceBy(5000);
    for (const h of [a1, a3]) expect(h.status('a2')).toBe('alive');
    expect(a1.node.stats.dropped['departed-alive']).toBeUndefined();
  });

  it('a memberlist node restarted at incarnation 1 is told its tombstone, refutes it, and comes back', () => {
    const { net, a1, a3 } = clusterAfterLeave();
    const restarted = net.add(node(2, 1, CONFIG, net.now));
    restarted.node.preload([
      { profile: a1.self, incarnation: a1.node.incarnation },
      { profile: a3.self, incarnation: a3.node.incarnation },
    ]);
    a1.gossip({ type: 'alive', incarnation: 1, profile: restarted.self });
    net.advanceBy(5000);
    expect(a1.node.stats.dropped['departed-alive']).toBe(1);
    expect(restarted.node.incarnation).toBe(UNIX_SECONDS + 1);
    for (const h of [a1, a3]) expect(h.node.member('a2')).toMatchObject({ status: 'alive', incarnation: UNIX_SECONDS + 1 });
  });

  it('remembers at most its capacity, the oldest departure going first, and forgets by age', () => {
    const departures = new Departures(3, 1000);
    for (const [i, name] of ['a', 'b', 'c', 'd'].entries()) departures.remember(name, 5, i);
    expect(departures.size).toBe(3);
    expect(departures.refusal('a', 5, 10)).toBeUndefined();
    expect(departures.refusal('b', 4, 10)).toBe(5);
    expect(departures.refusal('b', 6, 10)).toBeUndefined(); // outbid: forgotten
    expect(departures.refusal('b', 5, 10)).toBeUndefined();
    expect(departures.refusal('d', 5, 1004)).toBeUndefined(); // older than the memory
    expect(departures.size).toBe(0);
  });
});
