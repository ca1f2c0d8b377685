/**
 * Lifeguard's local health (docs/wire-format.md §8.4): the score, bounded by awarenessMaxMultiplier − 1,
 * stretches how long a probe waits for any ack to probeInterval × (score + 1); probes start on a
 * fixed ticker and the wait for a direct ack (probeTimeout) is not scaled, as in memberlist.
 */
import { describe, expect, it } from 'vitest';
import { Awareness } from '../../packages/hearsay/src/core/awareness.js';
import { ackPings, Harness, members, profileOf } from './harness.js';

const T = profileOf('t', '10.0.0.20');

/** Raises a node's health score by `n` by making it refute n accusations. */
function accuse(h: Harness, n: number): void {
  for (let i = 0; i < n; i++) h.gossip({ type: 'suspect', node: 'self', incarnation: h.node.incarnation, from: 'x' });
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => Math.round(t - times[i]!));
}

describe('the health score', () => {
  it('stays within 0 … max − 1', () => {
    const a = new Awareness(8);
    a.apply(-1);
    expect(a.score).toBe(0);
    a.apply(5);
    a.apply(5);
    expect(a.score).toBe(7);
    a.apply(-3);
    expect(a.score).toBe(4);
  });

  it('scales a duration by score + 1', () => {
    const a = new Awareness(8);
    expect(a.scale(1000)).toBe(1000);
    a.apply(3);
    expect(a.scale(1000)).toBe(4000);
  });
});

describe('probe interval scaling (memberlist: a ticker, and a failing probe waits out its scaled interval)', () => {
  it('acked probes come every probeInterval whatever the score; each lowers it by one', () => {
    // Three members, every ping acked 5 ms later. (With a single other member some rounds find
    // nobody to probe right after a wrap, as in memberlist, which would blur the intervals.)
    const h = new Harness({ seed: 21, preload: members(3) }).respond(ackPings());
    accuse(h, 3);
    expect(h.node.healthScore).toBe(3);
    h.advanceBy(10_000);
    expect(gaps(h.probes().map((p) => p.at)).slice(0, 6)).toEqual([1000, 1000, 1000, 1000, 1000, 1000]);
    expect(h.node.healthScore).toBe(0);
  });

  it('a failing probe holds the next tick for probeInterval × (s + 1), which then starts a probe at once', () => {
    const h = new Harness({ seed: 21, preload: members(3) }).respond(ackPings({ silent: ['m1', 'm2', 'm3'] }));
    accuse(h, 2);
    h.advanceBy(6_000);
    const [first, second] = h.probes();
    // The first probe fails with score 2 (and raises it to 3): the next starts 3 intervals later.
    expect(second!.at - first!.at).toBe(3000);
  });

  it('the multiplier is capped at awarenessMaxMultiplier', () => {
    const h = new Harness({ seed: 21, preload: members(3) }).respond(ackPings({ silent: ['m1', 'm2', 'm3'] }));
    accuse(h, 12);
    expect(h.node.healthScore).toBe(7);
    h.advanceBy(20_000);
    expect(gaps(h.probes().map((p) => p.at)).slice(0, 2)).toEqual([8000, 8000]);
  });

  it('a smaller awarenessMaxMultiplier caps the score lower', () => {
    const h = new Harness({ seed: 21, preload: members(3), config: { awarenessMaxMultiplier: 3 } }).respond(ackPings({ silent: ['m1', 'm2', 'm3'] }));
    accuse(h, 12);
    expect(h.node.healthScore).toBe(2);
    h.advanceBy(20_000);
    expect(gaps(h.probes().map((p) => p.at)).slice(0, 2)).toEqual([3000, 3000]);
  });

  it('a degraded node stretches the probe interval but not the wait for a direct ack (as memberlist)', () => {
    // Score 7, t silent, helpers ack (so helper probes before t's only lower the score a little).
    const h = new Harness({ seed: 21, preload: [T, ...members(3, 'h')] }).respond(ackPings({ silent: ['t'] }));
    accuse(h, 12);
    h.runUntil(() => h.probes().some((p) => p.node === 't'));
    const probe = h.probes().find((p) => p.node === 't')!;
    h.runUntil(() => h.status('t') === 'suspect');
    const [suspected] = h.events(0, 'suspect', 't');
    const interval = suspected!.at - probe.at; // probeInterval × (s + 1)
    expect(interval).toBeGreaterThanOrEqual(5000); // at least 4 points of score left
    expect(interval % 1000).toBe(0);
    const timeout = 500; // probeTimeoutMs, unscaled

    const requests = h.sent('indirectPing').filter((r) => r.message.seqNo === probe.seqNo);
    expect(requests.length).toBe(3);
    for (const r of requests) expect(r.at).toBe(probe.at + timeout);
    const [tcp] = h.streams().filter((s) => s.message.type === 'ping' && s.message.seqNo === probe.seqNo);
    expect(tcp).toMatchObject({ at: probe.at + timeout, timeoutMs: interval - timeout });
  });
});
