/**
 * An overloaded node accuses no one (core/stall.ts): a deadline that fires long after it was due
 * found this node stalled, so the ack or refutation it waited for may be unread; the verdict
 * waits a moment for the driver to read first. A stall only delays a verdict about a member that
 * is really silent.
 */
import { describe, expect, it } from 'vitest';
import { minSuspicionTimeout, type Output } from '../../packages/hearsay/src/core/index.js';
import { ackPings, addressOf, Harness, members, profileOf } from './harness.js';

const T = profileOf('t', '10.0.0.20');
const HELPERS = members(3, 'h');

/** A node that knows t and three helpers: everyone but t answers pings 5 ms later. */
function cluster(): Harness {
  return new Harness({ seed: 3, preload: [T, ...HELPERS] }).respond(ackPings({ silent: ['t'] }));
}

/** Runs until the node probes t; returns the probe's sequence number and when it went out. */
function probeOfT(h: Harness): { seqNo: number; at: number } {
  const mark = h.mark();
  h.runUntil(() => h.probes(mark).some((p) => p.node === 't'));
  return { seqNo: h.probes(mark).find((p) => p.node === 't')!.seqNo, at: h.now };
}

/** t acks each ping sent to it, 5 ms later. */
function answersFromT() {
  return (h: Harness, at: number, output: Output) => {
    if (output.kind !== 'packet' || output.to.host !== T.host) return;
    for (const message of output.messages) {
      if (message.type === 'ping') h.deliver(at + 5, { kind: 'packet', from: addressOf(T), messages: [{ type: 'ack', seqNo: message.seqNo }] });
    }
  };
}

const suspicionsOf = (outputs: readonly Output[], name: string) =>
  outputs.filter((o) => o.kind === 'event' && o.event.type === 'suspect' && o.event.member.name === name);

describe('a stall of this node is not a silence of the member', () => {
  it('an ack read after a 2 s stall ends the probe: no suspicion, one stall counted, health lowered', () => {
    const h = cluster();
    const probe = probeOfT(h);
    // The node was frozen for 2 s: its driver fires the overdue deadlines first (the indirect
    // probe's and the verdict's), before it reads the ack that t sent at once.
    const stalledAt = probe.at + 2000;
    const onWake = h.wakeAt(stalledAt);
    expect(suspicionsOf(onWake, 't')).toEqual([]);
    expect(h.node.stats.stalls).toBe(1);
    expect(h.node.healthScore).toBe(1);
    const mark = h.mark();
    h.input({ kind: 'packet', from: addressOf(T), messages: [{ type: 'ack', seqNo: probe.seqNo }] }, stalledAt);
    // From now on t answers every probe, as the live member it is.
    h.respond(answersFromT());
    h.advanceBy(10_000);
    expect(h.sentAbout('t', mark).filter((m) => m.message.type === 'suspect')).toEqual([]);
    expect(h.node.member('t')?.status).toBe('alive');
    expect(h.node.stats.probesFailed).toBe(0);
  });

  it('a member silent through the stall is still suspected, one probe period after the node wakes', () => {
    const h = cluster();
    const probe = probeOfT(h);
    const stalledAt = probe.at + 2000;
    h.wakeAt(stalledAt);
    const mark = h.mark();
    h.advanceTo(stalledAt);
    h.runUntil(() => h.node.member('t')?.status === 'suspect');
    // The indirect probes go out after the stall, and the verdict follows them by the rest of the probe period.
    expect(h.sent('indirectPing', mark).length).toBeGreaterThan(0);
    expect(h.now - stalledAt).toBeGreaterThanOrEqual(500);
    expect(h.now - stalledAt).toBeLessThanOrEqual(1000 + 5);
    expect(h.node.stats.probesFailed).toBe(1);
  });

  it('a refutation read after a stall saves the suspected member; without one the member fails a moment later', () => {
    for (const refuted of [true, false]) {
      const h = new Harness({ seed: 3, preload: [T, ...HELPERS] }).respond(ackPings());
      h.gossip({ type: 'suspect', node: 't', incarnation: 1, from: 'h1' });
      expect(h.node.member('t')?.status).toBe('suspect');
      // Unconfirmed, the suspicion runs Lifeguard's longest timeout: 6 × 4 s (5 members: log10 n < 1).
      const expiry = h.now + h.node.config.suspicionMaxTimeoutMult * minSuspicionTimeout(h.node.config.suspicionMult, 5, h.node.config.probeIntervalMs);
      // Stalled through the expiry, by 3 s: the refutation t sent meanwhile is still unread.
      h.wakeAt(expiry + 3000);
      expect(h.node.member('t')?.status).toBe('suspect');
      expect(h.node.stats.stalls).toBeGreaterThanOrEqual(1);
      if (refuted) h.input({ kind: 'packet', from: addressOf(T), messages: [{ type: 'alive', incarnation: 2, profile: T }] }, expiry + 3000);
      h.advanceTo(expiry + 3000 + 5);
      expect(h.node.member('t')?.status).toBe(refuted ? 'alive' : 'failed');
    }
  });
});

describe("the driver's report of its event loop's delay", () => {
  it('counts a blocked loop as a stall once, whether or not a deadline fell in it', () => {
    const h = cluster();
    h.advanceBy(3000);
    const base = h.node.stats.stalls;
    // Blocked 100 ms at most: well within half a probe timeout (500 ms), nothing to count.
    h.input({ kind: 'loopDelay', maxMs: 100, windowMs: 1000 }, h.now);
    expect(h.node.stats.stalls).toBe(base);
    // Blocked 1.2 s between two deadlines: the node learns of it only from the report.
    const health = h.node.healthScore;
    h.input({ kind: 'loopDelay', maxMs: 1200, windowMs: 1000 }, h.now);
    expect(h.node.stats.stalls).toBe(base + 1);
    expect(h.node.healthScore).toBe(health + 1);
  });

  it('counts a stall of a node alone, but leaves its health: it probes no one', () => {
    const h = new Harness({ seed: 3 });
    h.input({ kind: 'loopDelay', maxMs: 1200, windowMs: 1000 }, h.now);
    expect(h.node.stats.stalls).toBe(1);
    expect(h.node.healthScore).toBe(0);
  });

  it('does not count again a stall that a late deadline counted within the window', () => {
    const h = cluster();
    const probe = probeOfT(h);
    h.wakeAt(probe.at + 2000);
    expect(h.node.stats.stalls).toBe(1);
    h.input({ kind: 'loopDelay', maxMs: 2000, windowMs: 1000 }, probe.at + 2000 + 300);
    expect(h.node.stats.stalls).toBe(1);
  });
});
