/**
 * A run-time switch of failure detector in the simulator: SWIM → heartbeat gossip (or the
 * hybrid) → SWIM at N = 50 with mild loss. Every node follows each switch, the member tables
 * survive both, no live node is declared failed, a crash during the heartbeat stretch is detected
 * and stays failed, and a node restarted then (configured for SWIM) catches up with the switch.
 */
import { describe, expect, it } from 'vitest';
import { buildSimulation } from '../../packages/hearsay/src/sim/index.js';

const N = 50;

describe('simulated run-time switch of failure detector', () => {
  it.each(['heartbeat', 'hybrid'] as const)('switches the whole cluster SWIM → %s → SWIM without a false failure', (middle) => {
    const sim = buildSimulation({
      nodes: N,
      seed: 12,
      loss: 0.01,
      start: 'converged',
      byteCounting: 'estimate',
      switches: [
        { atMs: 20_000, protocol: middle, via: 'n4' },
        { atMs: 70_000, protocol: 'swim', via: 'n17' },
      ],
      crash: ['n9'],
      crashAtMs: 40_000,
      restarts: [{ name: 'n13', atMs: 45_000 }],
    });
    const detectors = () => Array.from({ length: N }, (_, i) => sim.node(i)?.protocol).filter((d) => d !== undefined);

    sim.runUntil(19_000);
    expect(new Set(detectors())).toEqual(new Set(['swim']));
    sim.runUntil(39_000);
    expect(new Set(detectors())).toEqual(new Set([middle]));
    const toMiddle = sim.switches.reports[0]!;
    // Spread like a membership update: a few gossip intervals.
    expect(toMiddle).toMatchObject({ protocol: middle, via: 'n4', epoch: 20 }); // the epoch is the virtual second of the request
    expect(toMiddle.all_switched_ms).toBeLessThanOrEqual(2000);
    for (let i = 0; i < N; i++)
      expect(
        sim
          .node(i)!
          .members()
          .filter((m) => m.status === 'alive'),
      ).toHaveLength(N);

    // The restart's new generation spreads by gossip within seconds, long before any push/pull
    // (the first comes 30–60 s after the restart): under the heartbeat detectors updates must not
    // ride on acks, which every round go to the same early pingers (hybrid lost 3 of 50 that way).
    sim.runUntil(50_000);
    const generation = sim.node(13)!.incarnation;
    for (let i = 0; i < N; i++) expect(sim.node(i)?.member('n13')?.incarnation ?? generation).toBe(generation);

    sim.runUntil(69_000);
    expect(sim.observer.crashReports[0]!.all_failed_ms).not.toBeNull();
    // The restarted node learned the switch from the heartbeats it received, and its new
    // generation outbid its old run's record everywhere.
    const restarted = sim.node(13)!;
    expect(restarted.protocol).toBe(middle);
    for (let i = 0; i < N; i++)
      expect(sim.node(i)?.member('n13') ?? { status: 'alive', incarnation: restarted.incarnation }).toMatchObject({
        status: 'alive',
        incarnation: restarted.incarnation,
      });

    sim.runUntil(110_000);
    expect(new Set(detectors())).toEqual(new Set(['swim']));
    const toSwim = sim.switches.reports[1]!;
    expect(toSwim).toMatchObject({ protocol: 'swim', via: 'n17', epoch: 70 });
    expect(toSwim.all_switched_ms).toBeLessThanOrEqual(2000);
    for (let i = 0; i < N; i++) {
      const node = sim.node(i);
      if (!node) continue;
      expect(node.protocolSwitch).toEqual({ epoch: 70, origin: 'n17' });
      const members = node.members();
      expect(members.filter((m) => m.status === 'alive')).toHaveLength(N - 1);
      expect(node.member('n9')?.status ?? 'absent').toMatch(/failed|absent/);
    }
    expect(sim.observer.converged).toBe(true);
    expect(sim.observer.falsePositives).toBe(0);
    expect(sim.observer.resurrections).toBe(0);
  });

  it('reports a switch asked of a node that is not running as never issued', () => {
    const sim = buildSimulation({
      nodes: 10,
      seed: 2,
      start: 'converged',
      byteCounting: 'estimate',
      crash: ['n3'],
      crashAtMs: 5000,
      switches: [{ atMs: 10_000, protocol: 'heartbeat', via: 'n3' }],
    });
    sim.runUntil(20_000);
    expect(sim.switches.reports).toEqual([{ protocol: 'heartbeat', at_ms: 10_000, via: 'n3', epoch: null, all_switched_ms: null }]);
    for (let i = 0; i < 10; i++) expect(sim.node(i)?.protocol ?? 'swim').toBe('swim');
  });
});
