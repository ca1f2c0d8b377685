/**
 * Issue 18 on the simulator: view digests split by a partition and agreeing again after the heal,
 * a degraded pair under a one-way block, and the provenance of verdicts (who accused, on what
 * evidence) after a crash and a short pause. Deterministic seeds, a few hundred ms each.
 */
import { describe, expect, it } from 'vitest';
import { VIEW_WINDOW_PROBES } from '../../packages/hearsay/src/core/views.js';
import { buildSimulation, type Simulation, verdictTraces } from '../../packages/hearsay/src/sim/index.js';

const N = 12;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const SIDE_A = range(0, N / 2);
const SIDE_B = range(N / 2, N);

function nodes(sim: Simulation, indices: readonly number[] = range(0, sim.options.nodes)) {
  return indices.map((i) => {
    const node = sim.node(i);
    if (!node) throw new Error(`n${i} is not live`);
    return node;
  });
}

const digests = (sim: Simulation, indices?: readonly number[]) => new Set(nodes(sim, indices).map((node) => node.views().digest));

describe('view digests across a partition', () => {
  it('differ between the sides of a partition, and agree again (distinct 1 everywhere) after the heal', () => {
    const sim = buildSimulation({ nodes: N, seed: 1, start: 'converged', durationMs: 90_000 });
    const healAt = 35_000;
    sim.at(5000, () => sim.partition([SIDE_A]));
    sim.at(healAt, () => sim.heal());
    sim.runUntil(30_000);
    // Each side has declared the other failed: one view per side.
    for (const node of nodes(sim)) expect(node.members().filter((m) => m.status === 'failed')).toHaveLength(N / 2);
    const a = digests(sim, SIDE_A);
    const b = digests(sim, SIDE_B);
    expect(a.size).toBe(1);
    expect(b.size).toBe(1);
    expect(digests(sim).size).toBe(2);
    // Peers heard lately are all on the same side: nobody sees the split in band yet.
    expect(nodes(sim).every((node) => node.views().distinct === 1)).toBe(true);

    // After the heal, acks from the other side carry the other digest until the views merge.
    sim.runUntil(healAt);
    let sawSplit = false;
    let convergedAt: number | null = null;
    for (let t = healAt + 100; t <= 60_000 && convergedAt === null; t += 100) {
      sim.runUntil(t);
      if (nodes(sim).some((node) => node.views().distinct > 1)) sawSplit = true;
      if (sim.observer.converged) convergedAt = t;
    }
    expect(sawSplit).toBe(true);
    expect(convergedAt).not.toBeNull();
    expect(digests(sim).size).toBe(1);

    // Once what was heard before the merge has aged out of the window, every node counts one view.
    sim.runUntil(convergedAt! + VIEW_WINDOW_PROBES * sim.config.probeIntervalMs + 2000);
    expect(sim.observer.converged).toBe(true);
    expect(digests(sim).size).toBe(1);
    for (const node of nodes(sim)) expect(node.views()).toMatchObject({ distinct: 1, differing: [] });
  });
});

describe('a degraded pair under one-way loss', () => {
  it('is reported (output and degradedPeers) while helpers carry the probes, without a false failure, and clears when direct acks return', () => {
    // n1's packets do not reach n2 from 5 s to 45 s: n1's pings of n2 are lost, so n1 hears from
    // n2 only through helpers (and n2's pings of n1 get their acks only through helpers too).
    // Round-robin probing reaches a given member once every N probe intervals, and a pair needs
    // two such probes in a row.
    const sim = buildSimulation({ nodes: N, seed: 3, start: 'converged', durationMs: 80_000, blocks: [{ from: 'n1', to: 'n2', atMs: 5000, untilMs: 45_000 }] });
    const changes: { observer: number; member: string; degraded: boolean; at: number }[] = [];
    sim.degradedListeners.push((observer, member, degraded, at) => changes.push({ observer, member, degraded, at }));
    const failed: string[] = [];
    sim.eventListeners.push((observer, member, event) => {
      if (event.type === 'failed') failed.push(`n${observer}→n${member}`);
    });

    sim.runUntil(45_000);
    const began = changes.find((c) => c.observer === 1 && c.member === 'n2' && c.degraded);
    expect(began).toBeDefined();
    expect(began!.at).toBeGreaterThan(5000);
    expect(sim.node(1)!.degradedPeers()).toEqual([{ member: 'n2', since: began!.at }]);
    // Nobody else's probes are hurt; n2 may see n1 so too (its acks to n1 are lost).
    for (const i of range(0, N)) if (i !== 1 && i !== 2) expect(sim.node(i)!.degradedPeers()).toEqual([]);
    for (const pair of sim.node(2)!.degradedPeers()) expect(pair.member).toBe('n1');
    expect(verdictTraces(sim, ['n2'])[0]!.degraded).toEqual([{ observer: 'n1', since: began!.at }]);

    // The block lifted, the next direct ack ends the pair.
    sim.runUntil(80_000);
    const ended = changes.find((c) => c.observer === 1 && c.member === 'n2' && !c.degraded);
    expect(ended).toBeDefined();
    expect(ended!.at).toBeGreaterThan(45_000);
    expect(sim.node(1)!.degradedPeers()).toEqual([]);
    expect(failed).toEqual([]);
    expect(sim.observer.falsePositives).toBe(0);
  });
});

describe('provenance of verdicts in the simulator', () => {
  it('a crashed node’s history at each survivor ends failed, on its own probe’s evidence or a named accuser’s word', () => {
    const sim = buildSimulation({ nodes: N, seed: 2, start: 'converged', durationMs: 40_000, crash: ['n7'], crashAtMs: 5000 });
    sim.runUntil(40_000);
    const [trace] = verdictTraces(sim, ['n7']);
    const survivors = range(0, N)
      .filter((i) => i !== 7)
      .map((i) => `n${i}`);
    expect(new Set(trace!.episodes.map((e) => e.observer))).toEqual(new Set(survivors));
    let ownProbes = 0;
    for (const name of survivors) {
      const last = sim.node(sim.indexOf(name))!.history('n7').at(-1)!;
      expect(last.outcome).toMatchObject({ kind: 'failed', incarnation: 1 });
      expect(last.outcome!.at).toBeGreaterThan(5000);
      if (last.own && last.probe) {
        ownProbes++;
        expect(last.accuser).toBe(name);
        expect(last.probe.helpers.length).toBeGreaterThan(0);
        // No helper reached the crashed node: each nacked or said nothing.
        for (const helper of last.probe.helpers) expect(['nack', 'none']).toContain(helper.answer);
        expect(last.probe.tcp).not.toBe('not tried');
      } else {
        expect(survivors).toContain(last.accuser);
        expect(last.accuser).not.toBe(name);
      }
    }
    // Someone's own probe started it.
    expect(ownProbes).toBeGreaterThan(0);
  });

  it('a node paused for less than the suspicion timeout leaves a refuted episode at some survivor', () => {
    const sim = buildSimulation({ nodes: N, seed: 4, start: 'converged', durationMs: 20_000, pauses: [{ name: 'n5', atMs: 5000, forMs: 3000 }] });
    sim.runUntil(20_000);
    expect(sim.observer.falsePositives).toBe(0);
    const [trace] = verdictTraces(sim, ['n5']);
    const refuted = trace!.episodes.filter((e) => e.record.outcome?.kind === 'refuted');
    expect(refuted.length).toBeGreaterThan(0);
    for (const { record } of refuted) {
      expect(record.suspectedAt).toBeGreaterThan(5000);
      expect(record.outcome).toMatchObject({ kind: 'refuted', incarnation: 2 });
    }
    // No episode ended in a verdict.
    expect(trace!.episodes.filter((e) => e.record.outcome?.kind === 'failed')).toEqual([]);
  });
});
