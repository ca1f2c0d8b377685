/**
 * Lifeguard's suspicion timeout (docs/wire-format.md §8.3, docs/detectors.md): it starts at max and shrinks towards min
 * as independent confirmations (suspects from distinct accusers) arrive; the suspect fails when
 * it runs out, unless a refuting alive arrives first.
 */
import { describe, expect, it } from 'vitest';
import { expectedConfirmations, minSuspicionTimeout, suspicionTimeout, type ProfileName, type SuspectMessage } from '../../packages/hearsay/src/core/index.js';
import { ackPings, Harness, lifeguardTimeout, members } from './harness.js';

const T0 = 10_000;

/** A node in a cluster of n (itself + n − 1 members m1 …), every ping acked. */
function clusterOf(n: number, profile: ProfileName = 'lan'): Harness {
  return new Harness({ seed: 17, profile, preload: members(n - 1) }).respond(ackPings());
}

function suspect(from: string, incarnation = 1): SuspectMessage {
  return { type: 'suspect', node: 'm1', incarnation, from };
}

/**
 * m1 is suspected by x1 at T0; then each accuser in `confirmations` sends a suspect, 100 ms
 * apart. Returns when m1 failed, relative to T0.
 */
function failureDelay(h: Harness, confirmations: string[], gapMs = 100): number {
  h.input({ kind: 'packet', from: { host: '10.9.0.1', port: 7946 }, messages: [suspect('x1')] }, T0);
  expect(h.status('m1')).toBe('suspect');
  confirmations.forEach((from, i) => {
    h.input({ kind: 'packet', from: { host: '10.9.0.2', port: 7946 }, messages: [suspect(from)] }, T0 + gapMs * (i + 1));
  });
  h.runUntil(() => h.status('m1') === 'failed', 400_000);
  const [failed] = h.events(0, 'failed', 'm1');
  expect(failed).toBeDefined();
  return failed!.at - T0;
}

describe('the timeout formula', () => {
  it('matches the LAN figures: N = 10 → 4 s … 24 s, N = 100 → 8 s … 48 s, N = 1000 → 12 s … 72 s', () => {
    for (const [n, min] of [
      [10, 4000],
      [100, 8000],
      [1000, 12_000],
    ] as const) {
      expect(minSuspicionTimeout(4, n, 1000)).toBe(min);
      expect(suspicionTimeout(min, 6 * min, expectedConfirmations(4, n), 0)).toBe(6 * min);
      expect(suspicionTimeout(min, 6 * min, expectedConfirmations(4, n), 2)).toBe(min);
    }
  });

  it('never goes below max(1, log10 n): tiny clusters get the same minimum as 10 nodes', () => {
    expect(minSuspicionTimeout(4, 1, 1000)).toBe(4000);
    expect(minSuspicionTimeout(4, 3, 1000)).toBe(4000);
  });

  it('computes log10 n with millisecond precision', () => {
    // log10(50) = 1.69897…, kept as 1.698
    expect(minSuspicionTimeout(4, 50, 1000)).toBe(6792);
  });

  it('expects suspicionMult − 2 confirmations, or none when the cluster cannot supply them', () => {
    expect(expectedConfirmations(4, 3)).toBe(0);
    expect(expectedConfirmations(4, 4)).toBe(2);
    expect(expectedConfirmations(6, 5)).toBe(0);
    expect(expectedConfirmations(6, 6)).toBe(4);
  });
});

describe('failure after suspicion, on the node', () => {
  it.each([
    [10, 0],
    [10, 1],
    [10, 2],
    [4, 0],
    [4, 1],
    [4, 2],
    [50, 0],
    [50, 1],
    [50, 2],
    [100, 0],
    [100, 1],
    [100, 2],
  ])('in a LAN cluster of %i, with %i independent confirmations, the member fails on Lifeguard’s timeout', (n, c) => {
    const h = clusterOf(n);
    const accusers = Array.from({ length: c }, (_, i) => `x${i + 2}`);
    const { timeout, k } = lifeguardTimeout(n, c);
    expect(k).toBe(2);
    expect(failureDelay(h, accusers)).toBe(timeout);
  });

  it.each([0, 1, 2, 3, 4])('in a WAN cluster of 10 (k = 4, T = 5 s), with %i confirmations', (c) => {
    const h = clusterOf(10, 'wan');
    const accusers = Array.from({ length: c }, (_, i) => `x${i + 2}`);
    const expected = lifeguardTimeout(10, c, { suspicionMult: 6, probeIntervalMs: 5000 });
    expect(expected.k).toBe(4);
    expect(failureDelay(h, accusers, 1000)).toBe(expected.timeout);
  });

  it('in a "local" cluster (suspicionMult 3, k = 1), one confirmation brings it to the minimum', () => {
    expect(failureDelay(clusterOf(10, 'local'), [])).toBe(18_000);
    expect(failureDelay(clusterOf(10, 'local'), ['x2'])).toBe(3000);
  });

  it('in a cluster of 3, where no confirmations are expected, the timeout is the minimum and confirmations change nothing', () => {
    expect(lifeguardTimeout(3, 0)).toMatchObject({ k: 0, timeout: 4000 });
    expect(failureDelay(clusterOf(3), [])).toBe(4000);
    expect(failureDelay(clusterOf(3), ['x2', 'x3'])).toBe(4000);
  });

  it('confirmations beyond k do not shorten the timeout further', () => {
    expect(failureDelay(clusterOf(10), ['x2', 'x3', 'x4', 'x5'])).toBe(4000);
  });

  it('repeated suspects from the same accuser count once, and the first accuser does not confirm itself', () => {
    expect(failureDelay(clusterOf(10), ['x1', 'x2', 'x2', 'x1'])).toBe(lifeguardTimeout(10, 1).timeout);
  });

  it('a confirmation that arrives after the shortened timeout has already passed fails the member at once', () => {
    // With 2 confirmations the timeout is 4 s; the second arrives 5 s after the first suspicion.
    expect(failureDelay(clusterOf(10), ['x2', 'x3'], 2500)).toBe(5000);
  });

  it('only new confirmations are re-gossiped', () => {
    const h = clusterOf(10);
    h.input({ kind: 'packet', from: { host: '10.9.0.1', port: 7946 }, messages: [suspect('x1')] }, T0);
    h.input({ kind: 'packet', from: { host: '10.9.0.1', port: 7946 }, messages: [suspect('x2')] }, T0 + 100);
    h.advanceTo(T0 + 3000);
    const mark = h.mark();
    h.input({ kind: 'packet', from: { host: '10.9.0.1', port: 7946 }, messages: [suspect('x2')] }, T0 + 3100);
    h.input({ kind: 'packet', from: { host: '10.9.0.1', port: 7946 }, messages: [suspect('x3')] }, T0 + 3100);
    h.input({ kind: 'packet', from: { host: '10.9.0.1', port: 7946 }, messages: [suspect('x4')] }, T0 + 3100);
    h.advanceTo(T0 + 3900);
    const froms = new Set(h.sentAbout('m1', mark).map((s) => (s.message as SuspectMessage).from));
    expect([...froms]).toEqual(['x3']);
  });

  it('the failure is announced as a dead from this node', () => {
    const h = clusterOf(10);
    failureDelay(h, ['x2', 'x3']);
    const [failed] = h.events(0, 'failed', 'm1');
    const mark = h.log.findIndex((r) => r.output.kind === 'event' && r.output.event === failed);
    h.advanceBy(2000);
    const dead = h.sentAbout('m1', mark);
    expect(dead.length).toBeGreaterThan(0);
    expect(dead.map((d) => d.message)).toContainEqual({ type: 'dead', node: 'm1', incarnation: 1, from: 'self' });
    expect(h.node.stats.failuresDeclared).toBe(1);
  });

  it('a refuting alive with a higher incarnation during the suspicion cancels it: no failure', () => {
    const h = clusterOf(10);
    h.input({ kind: 'packet', from: { host: '10.9.0.1', port: 7946 }, messages: [suspect('x1')] }, T0);
    const m1 = members(1)[0]!;
    h.input({ kind: 'packet', from: { host: m1.host, port: m1.port }, messages: [{ type: 'alive', incarnation: 2, profile: m1 }] }, T0 + 1000);
    expect(h.status('m1')).toBe('alive');
    expect(h.events(0, 'alive', 'm1')).toHaveLength(1);
    h.advanceTo(T0 + 60_000);
    expect(h.status('m1')).toBe('alive');
    expect(h.events(0, 'failed', 'm1')).toEqual([]);
  });

  it('a refuted member suspected again gets a fresh timer, not the old one', () => {
    const h = clusterOf(10);
    const m1 = members(1)[0]!;
    h.input({ kind: 'packet', from: { host: '10.9.0.1', port: 7946 }, messages: [suspect('x1')] }, T0);
    h.input({ kind: 'packet', from: { host: m1.host, port: m1.port }, messages: [{ type: 'alive', incarnation: 2, profile: m1 }] }, T0 + 1000);
    h.input({ kind: 'packet', from: { host: '10.9.0.1', port: 7946 }, messages: [suspect('x1', 2)] }, T0 + 2000);
    h.runUntil(() => h.status('m1') === 'failed', 100_000);
    expect(h.events(0, 'failed', 'm1')[0]!.at).toBe(T0 + 2000 + 24_000);
  });
});
