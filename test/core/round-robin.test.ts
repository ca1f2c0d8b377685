/**
 * SWIM's randomised round-robin probe order (docs/wire-format.md §8.1): one member per probe interval, every
 * live member exactly once per pass, failed and left members skipped, reshuffled at each wrap.
 */
import { describe, expect, it } from 'vitest';
import { ackPings, Harness, members } from './harness.js';

/** Splits a probe sequence into passes of `size` probes. */
function passes(targets: string[], size: number): string[][] {
  const result: string[][] = [];
  for (let i = 0; i + size <= targets.length; i += size) result.push(targets.slice(i, i + size));
  return result;
}

describe('round-robin probing', () => {
  const PEERS = members(10);
  const NAMES = PEERS.map((p) => p.name).sort();

  it('probes one member per probe interval', () => {
    const h = new Harness({ seed: 31, preload: PEERS }).respond(ackPings());
    h.advanceTo(30_000);
    const times = h.probes().map((p) => p.at);
    expect(times.length).toBe(30);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeCloseTo(1000, 6);
  });

  it.each([31, 32, 33])('with seed %i, every other live member is probed exactly once per pass', (seed) => {
    const h = new Harness({ seed, preload: PEERS }).respond(ackPings());
    h.advanceTo(50_500);
    const targets = h.probes().map((p) => p.node);
    expect(targets.length).toBeGreaterThanOrEqual(50);
    const all = passes(targets, PEERS.length);
    expect(all.length).toBe(5);
    for (const pass of all) expect([...pass].sort()).toEqual(NAMES);
    expect(targets).not.toContain('self');
    expect(h.events(0, 'suspect')).toEqual([]);
  });

  it('the order is reshuffled between passes', () => {
    const h = new Harness({ seed: 31, preload: PEERS }).respond(ackPings());
    h.advanceTo(60_500);
    const orders = passes(
      h.probes().map((p) => p.node),
      PEERS.length,
    ).map((pass) => pass.join(','));
    expect(orders.length).toBe(6);
    expect(new Set(orders).size).toBeGreaterThan(1);
  });

  it('failed and left members are skipped; the live ones are still probed once per pass', () => {
    const h = new Harness({ seed: 32, preload: PEERS }).respond(ackPings());
    h.gossip({ type: 'dead', node: 'm3', incarnation: 1, from: 'x' });
    h.gossip({ type: 'dead', node: 'm7', incarnation: 1, from: 'm7' });
    expect(h.status('m3')).toBe('failed');
    expect(h.status('m7')).toBe('left');
    h.advanceTo(24_500); // three passes of 8, before gossipToTheDeadTime
    const targets = h.probes().map((p) => p.node);
    expect(targets).not.toContain('m3');
    expect(targets).not.toContain('m7');
    const live = NAMES.filter((n) => n !== 'm3' && n !== 'm7');
    const all = passes(targets, live.length);
    expect(all.length).toBe(3);
    for (const pass of all) expect([...pass].sort()).toEqual(live);
  });

  it('suspect members are still probed', () => {
    const h = new Harness({ seed: 33, preload: PEERS }).respond(ackPings());
    h.gossip({ type: 'suspect', node: 'm4', incarnation: 1, from: 'x' });
    h.advanceTo(10_500);
    expect(h.probes().filter((p) => p.node === 'm4')).toHaveLength(1);
  });

  it('a member that joins is probed within the following passes', () => {
    const h = new Harness({ seed: 34, preload: PEERS }).respond(ackPings());
    h.advanceTo(3_500);
    const [newcomer] = members(1, 'new');
    h.gossip({ type: 'alive', incarnation: 1, profile: newcomer! });
    const mark = h.mark();
    h.advanceTo(3_500 + 22_000);
    expect(h.probes(mark).filter((p) => p.node === 'new1').length).toBeGreaterThanOrEqual(1);
  });

  it('failed members are forgotten at a wrap once gossipToTheDeadTime has passed', () => {
    const h = new Harness({ seed: 35, preload: PEERS }).respond(ackPings());
    h.gossip({ type: 'dead', node: 'm3', incarnation: 1, from: 'x' });
    h.advanceTo(29_000);
    expect(h.node.member('m3')).toBeDefined();
    h.advanceTo(45_000); // a wrap after 30 s
    expect(h.node.member('m3')).toBeUndefined();
  });
});
