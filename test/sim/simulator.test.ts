import { describe, expect, it } from 'vitest';
import { ConfigError, type Protocol } from '../../packages/hearsay/src/core/index.js';
import { buildSimulation, simulate, type SimOptions } from '../../packages/hearsay/src/sim/index.js';

const withoutWallTime = (result: object) => ({ ...result, wall_ms: 0 });

describe('simulator', () => {
  it('gives the same result, bit for bit, for the same seed', () => {
    const options: SimOptions = {
      nodes: 30,
      seed: 11,
      loss: 0.03,
      durationMs: 60_000,
      crash: 2,
      crashAtMs: 20_000,
      pauses: [{ name: 'n5', atMs: 10_000, forMs: 2_000 }],
      partitions: [{ atMs: 30_000, healAtMs: 40_000, groups: [['n1', 'n2', 'n3']] }],
      restarts: [{ name: 'n7', atMs: 45_000 }],
    };
    const first = simulate(options);
    const second = simulate(options);
    expect(JSON.stringify(withoutWallTime(second))).toBe(JSON.stringify(withoutWallTime(first)));
    const other = simulate({ ...options, seed: 12 });
    expect(JSON.stringify(withoutWallTime(other))).not.toBe(JSON.stringify(withoutWallTime(first)));
  });

  it('measures the mean time to first suspicion close to SWIM’s expectation at N = 100', async () => {
    // 400 crashes: one every 15 s in a cluster of 100, each victim restarted 12 s later so
    // that the cluster stays at 100 members.
    const samples: number[] = [];
    const swim: number[] = [];
    const continuous: number[] = [];
    for (let seed = 1; seed <= 8; seed++) {
      // Long synchronous runs would starve the test worker's link to vitest: yield between them.
      await new Promise((resolve) => setImmediate(resolve));
      const victims = [...new Set(Array.from({ length: 50 }, (_, i) => `n${(i * 37 + seed) % 100}`))];
      const result = simulate({
        nodes: 100,
        seed,
        start: 'converged',
        byteCounting: 'estimate',
        durationMs: 20_000 + victims.length * 15_000 + 15_000,
        crash: victims,
        crashAtMs: 20_000,
        crashEveryMs: 15_000,
        restarts: victims.map((name, i) => ({ name, atMs: 20_000 + i * 15_000 + 12_000 })),
      });
      for (const crash of result.crashes) samples.push(crash.first_suspect_ms!);
      swim.push(result.expected_first_suspect_ms!);
      continuous.push(result.expected_first_suspect_continuous_ms!);
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    expect(samples).toHaveLength(400);
    expect(samples.every((s) => s !== null)).toBe(true);
    // SWIM's e/(e−1) periods to the first probe + one probe for it to fail, with targets drawn at
    // random: round-robin probing finds the crashed node sooner (about 25% here).
    expect(mean(samples)).toBeLessThan(mean(swim));
    expect(Math.abs(mean(samples) - mean(swim)) / mean(swim)).toBeLessThanOrEqual(0.3);
    // The continuous-time, round-robin derivation predicts it much more closely.
    expect(Math.abs(mean(samples) - mean(continuous)) / mean(continuous)).toBeLessThanOrEqual(0.1);
  });

  it('lets a crashed node restart with the same name and outbid its failed incarnation', () => {
    // Restarted while the others still hold it failed (before gossipToTheDeadTime reaps it).
    const sim = buildSimulation({ nodes: 12, seed: 4, crash: ['n3'], crashAtMs: 10_000, restarts: [{ name: 'n3', atMs: 30_000 }] });
    sim.runUntil(29_000);
    expect(sim.node(0)!.member('n3')!.status).toBe('failed');
    sim.runUntil(60_000);
    expect(sim.observer.converged).toBe(true);
    for (let i = 0; i < 12; i++) expect(sim.node(i)!.member('n3')!.status).toBe('alive');
    expect(sim.node(3)!.incarnation).toBeGreaterThan(1);
    expect(sim.node(0)!.member('n3')!.incarnation).toBe(sim.node(3)!.incarnation);
  });

  it('lets a node restart after the others forgot it, as a new member', () => {
    const sim = buildSimulation({ nodes: 12, seed: 4, crash: ['n3'], crashAtMs: 10_000, restarts: [{ name: 'n3', atMs: 70_000 }] });
    sim.runUntil(69_000);
    expect(sim.node(0)!.member('n3')).toBeUndefined();
    sim.runUntil(90_000);
    expect(sim.observer.converged).toBe(true);
    for (let i = 0; i < 12; i++) expect(sim.node(i)!.member('n3')!.status).toBe('alive');
  });

  it('holds a paused node’s inputs and delivers them when it resumes', () => {
    const sim = buildSimulation({ nodes: 8, seed: 2, start: 'converged', pauses: [{ name: 'n4', atMs: 5_000, forMs: 2_500 }] });
    sim.runUntil(7_400);
    const whilePaused = sim.node(4)!.stats.probes;
    sim.runUntil(5_000 + 2_500 + 2_000);
    expect(sim.node(4)!.stats.probes).toBeGreaterThan(whilePaused);
    // Someone suspected it during the pause; it refuted once it resumed.
    expect(sim.node(4)!.stats.refutations).toBeGreaterThan(0);
    expect(sim.observer.failedVerdicts[4]).toBe(0);
  });

  it('spreads a graceful leave as left, never as failed', () => {
    const result = simulate({ nodes: 20, seed: 3, loss: 0.02, durationMs: 40_000, leaves: [{ name: 'n4', atMs: 10_000 }] });
    expect(result.leaves).toHaveLength(1);
    expect(result.leaves[0]!.all_left_ms).not.toBeNull();
    expect(result.leaves[0]!.failed_verdicts).toBe(0);
    expect(result.converged_at_end).toBe(true);
  });

  it('leaves as the runtime does: Serf’s intent first, the core’s leave two gossip intervals later', () => {
    const sim = buildSimulation({ nodes: 10, seed: 3, start: 'converged', durationMs: 20_000 });
    const firstLeftAt: number[] = [];
    sim.eventListeners.push((observer, member, event, now) => {
      if (observer !== 4 && member === 4 && event.type === 'left') firstLeftAt.push(now);
    });
    sim.runUntil(5_000);
    sim.leave(4, 5_000);
    // The intent is gossip queued at once; the core still runs and has announced nothing.
    expect(sim.node(4)!.queuedBroadcasts).toBeGreaterThan(0);
    sim.runUntil(5_000 + 2 * sim.config.gossipIntervalMs - 1);
    expect(firstLeftAt).toEqual([]);
    expect(sim.node(4)!.member('n4')!.status).toBe('alive');
    sim.runUntil(20_000);
    expect(Math.min(...firstLeftAt)).toBeGreaterThanOrEqual(5_000 + 2 * sim.config.gossipIntervalMs);
    expect(firstLeftAt).toHaveLength(9);
  });

  it('routes around one broken link with indirect probes', () => {
    const sim = buildSimulation({ nodes: 10, seed: 8, start: 'converged', durationMs: 60_000, links: [{ between: ['n1', 'n2'], loss: 1 }] });
    sim.runUntil(60_000);
    expect(sim.observer.falsePositives).toBe(0);
    expect(sim.observer.converged).toBe(true);
    // n1 cannot hear n2 directly, so some of its probes needed helpers.
    expect(sim.node(1)!.stats.indirectPings).toBeGreaterThan(0);
  });

  it('rejects impossible scenarios with a clear error', () => {
    expect(() => simulate({ nodes: 0 })).toThrow(ConfigError);
    expect(() => simulate({ nodes: 5, loss: 1.5 })).toThrow(/loss must be within 0 … 1/);
    expect(() => simulate({ nodes: 5, crash: 5 })).toThrow(/below the cluster size/);
    expect(() => simulate({ nodes: 5, pauses: [{ name: 'n9', atMs: 0, forMs: 1 }] })).toThrow(/no simulated node named "n9"/);
    expect(() => simulate({ nodes: 5, config: { probeTimeoutMs: 5_000 } })).toThrow(/must not exceed probeIntervalMs/);
    expect(() => simulate({ nodes: 5, protocol: 'gossip' as Protocol })).toThrow(/protocol must be one of swim, heartbeat, hybrid/);
    expect(() => simulate({ nodes: 5, switches: [{ atMs: 1000, protocol: 'heartbeat', via: 'n9' }] })).toThrow(/no simulated node named "n9"/);
  });
});

describe('pinned members in the simulator', () => {
  it('a node pins members it then heartbeats directly, across a restart; other nodes send none', () => {
    const sim = buildSimulation({ nodes: 30, seed: 4, start: 'converged', protocol: 'heartbeat', byteCounting: 'estimate', pinned: { n0: ['n5', 'n7'] } });
    sim.runUntil(10_500);
    expect(sim.node(0)!.pinned).toEqual(['n5', 'n7']);
    // One direct heartbeat per pinned member per 1 s period.
    expect(sim.node(0)!.stats.directHeartbeatsSent).toBeGreaterThanOrEqual(18);
    expect(sim.node(1)!.stats.directHeartbeatsSent).toBe(0);
    expect(sim.node(0)!.member('n5')!.rttMs).toBeGreaterThan(0);
    sim.restart(0);
    expect(sim.node(0)!.pinned).toEqual(['n5', 'n7']);
  });

  it('refuses names that are no simulated node', () => {
    expect(() => buildSimulation({ nodes: 5, pinned: { n0: ['n9'] } })).toThrow(ConfigError);
    expect(() => buildSimulation({ nodes: 5, pinned: { x: ['n1'] } })).toThrow(/no simulated node named "x"/);
  });
});
