/**
 * The heartbeat detectors in the simulator, scenario by scenario: detection bound, no false
 * positives, a restarted node accepted again through its higher generation, and the hybrid's
 * regime following the cluster size. The properties over seeds are in detector-suite.ts, run by *-properties.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../packages/hearsay/src/core/index.js';
import { buildSimulation, heartbeatDetectionBoundMs, heartbeatSpreadBoundMs, loadPerRound, simulate } from '../../packages/hearsay/src/sim/index.js';

const N = 30;
const config = resolveConfig('lan');

describe('simulated heartbeat detectors', () => {
  it('uses the heartbeat detector on every node, with no SWIM probes', () => {
    const sim = buildSimulation({ nodes: 10, seed: 3, start: 'converged', protocol: 'heartbeat', durationMs: 5000, byteCounting: 'estimate' });
    sim.runUntil(5000);
    for (let i = 0; i < 10; i++) {
      expect(sim.node(i)!.protocol).toBe('heartbeat');
      expect(sim.node(i)!.stats.probes).toBe(0);
      expect(sim.node(i)!.heartbeatOf(`n${i}`)).toBeGreaterThanOrEqual(4);
    }
  });

  it.each([
    [0, 11, 'converged'],
    [0.02, 12, 'join'],
    [0.05, 13, 'converged'],
    [0.05, 14, 'join'],
  ] as const)('at N = 30, loss %s (seed %s, %s): every crash is detected by all within failAfter + spread', (loss, seed, start) => {
    const bound = heartbeatDetectionBoundMs(config, N);
    // N = 30, M = 3: ⌈log4 30⌉ + ⌈ln 30 / 3⌉ = 3 + 2 = 5 rounds → (2 × 5 + 1) × 1 s = 11 s.
    expect(heartbeatSpreadBoundMs(config, N)).toBe(11_000);
    const result = simulate({
      nodes: N,
      seed,
      loss,
      start,
      protocol: 'heartbeat',
      crash: 3,
      crashAtMs: 20_000,
      crashEveryMs: 5000,
      durationMs: 20_000 + 10_000 + bound + 1000,
      byteCounting: 'estimate',
    });
    expect(result.protocol).toBe('heartbeat');
    expect(result.crashes).toHaveLength(3);
    for (const crash of result.crashes) {
      expect(crash.all_failed_ms).not.toBeNull();
      expect(crash.all_failed_ms!).toBeLessThanOrEqual(bound);
      // The last rise anyone sees comes from a table sent at most one period before the crash.
      expect(crash.first_suspect_ms!).toBeGreaterThanOrEqual(config.suspectAfterMs - config.heartbeatIntervalMs - 10);
    }
    expect(result.false_positives).toBe(0);
  });

  it.each([
    [0.05, 21, 0],
    [0.05, 22, 8],
  ] as const)('has no false positives over 5 virtual minutes at N = 30, loss %s (seed %s, phi %s)', (loss, seed, phiThreshold) => {
    const result = simulate({
      nodes: N,
      seed,
      loss,
      start: 'join',
      protocol: 'heartbeat',
      config: { phiThreshold },
      durationMs: 300_000,
      byteCounting: 'estimate',
    });
    expect(result.false_positives).toBe(0);
    expect(result.converged_at_end).toBe(true);
  });

  it.each([
    ['before the verdicts', 25_000],
    ['while tombstones stand', 50_000],
    ['after the tombstones are forgotten', 120_000],
  ] as const)('accepts a restarted node again (restart %s)', (_, restartAt) => {
    const sim = buildSimulation({
      nodes: N,
      seed: 5,
      loss: 0.02,
      start: 'converged',
      protocol: 'heartbeat',
      crash: ['n7'],
      crashAtMs: 20_000,
      restarts: [{ name: 'n7', atMs: restartAt }],
      durationMs: restartAt + 30_000,
      byteCounting: 'estimate',
    });
    sim.runUntil(restartAt + 30_000);
    const restarted = sim.node(7)!;
    expect(restarted.incarnation).toBeGreaterThan(restartAt);
    for (let i = 0; i < N; i++) {
      const member = sim.node(i)!.member('n7');
      expect(member?.status).toBe('alive');
      expect(member?.incarnation).toBe(restarted.incarnation);
    }
    expect(sim.observer.converged).toBe(true);
    expect(sim.observer.falsePositives).toBe(0);
  });

  it('runs the hybrid by the cluster size: gossiped tables above the threshold, direct heartbeats at or below it', () => {
    // 24 nodes over a threshold of 20, until four crashes bring the live members down to 20.
    const sim = buildSimulation({
      nodes: 24,
      seed: 9,
      start: 'converged',
      protocol: 'hybrid',
      config: { hybridThreshold: 20 },
      crash: ['n20', 'n21', 'n22', 'n23'],
      crashAtMs: 10_000,
      byteCounting: 'estimate',
    });
    const loadBetween = (from: number, to: number) => {
      sim.runUntil(from);
      const before = { ...sim.traffic };
      sim.runUntil(to);
      return loadPerRound(before, sim.traffic, to - from, config.heartbeatIntervalMs);
    };
    const above = loadBetween(2000, 9000);
    expect(above.tables).toBeCloseTo(24 * config.heartbeatFanout, 0);
    expect(above.pings).toBe(0);
    expect(sim.node(0)!.allToAll).toBe(false);
    const below = loadBetween(40_000, 50_000);
    expect(sim.node(0)!.allToAll).toBe(true);
    expect(below.tables).toBe(0);
    expect(below.pings).toBeCloseTo(20 * 19, 0);
    expect(below.acks).toBeCloseTo(20 * 19, 0);
    expect(sim.observer.crashReports.every((c) => c.all_failed_ms !== null)).toBe(true);
    expect(sim.observer.falsePositives).toBe(0);
  });
});
