import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minSuspicionTimeout, resolveConfig, type SwimConfig } from '../../packages/hearsay/src/core/index.js';
import { buildSimulation, maxSuspicionTimeoutMs, type SimOptions, type Simulation } from '../../packages/hearsay/src/sim/index.js';

const lan = resolveConfig('lan');

/**
 * The longest any live node can take to mark a crashed member failed, without counting on
 * gossip at all: its own randomised round-robin reaches the member within two passes
 * (2(N − 1) probe periods, the rest of this pass and the next), each period stretched at most
 * awarenessMax times by local health; that probe fails one (scaled) probe interval later; the
 * suspicion it starts runs out after at most the maximum Lifeguard timeout.
 */
function detectionBoundMs(config: SwimConfig, nodes: number): number {
  const period = config.probeIntervalMs * config.awarenessMaxMultiplier;
  return (2 * (nodes - 1) + 1) * period + maxSuspicionTimeoutMs(config, nodes);
}

/** Runs until every crash is known everywhere or `limit`, a second of virtual time at a step. */
function runUntilDetected(sim: Simulation, limit: number): void {
  for (let t = 0; t <= limit; t += 1000) {
    sim.runUntil(t);
    const reports = sim.observer.crashReports;
    if (reports.length > 0 && reports.every((c) => c.all_failed_ms !== null)) return;
  }
}

/**
 * The bounds against hostile peers (issue 11: replies per packet, relays per second, new members
 * per packet and push/pull, epochs, heartbeats, the queue) never bite an honest cluster.
 */
function expectNothingDropped(sim: Simulation): void {
  for (let i = 0; i < sim.options.nodes; i++) expect(sim.node(i)?.stats.dropped ?? {}, `n${i}`).toEqual({});
}

// Byte counting by the real encoder is left to the scenario tests: it would triple these runs.
describe('simulated SWIM: properties over seeds (fast-check, fixed seeds)', () => {
  it('every surviving node marks every crashed node failed within the derived bound', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 200 }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom<'join' | 'converged'>('join', 'converged'),
        (nodes, loss, seed, crashes, start) => {
          const crash = Math.min(crashes, nodes - 2);
          const crashAtMs = 15_000;
          const bound = detectionBoundMs(lan, nodes);
          const sim = buildSimulation({ nodes, loss, seed, start, crash, crashAtMs, durationMs: crashAtMs + bound, byteCounting: 'estimate' });
          runUntilDetected(sim, crashAtMs + bound);
          const reports = sim.observer.crashReports;
          expect(reports).toHaveLength(crash);
          for (const report of reports) {
            expect(report.first_suspect_ms).not.toBeNull();
            expect(report.all_failed_ms).not.toBeNull();
            expect(report.all_failed_ms!).toBeLessThanOrEqual(bound);
          }
          expectNothingDropped(sim);
        },
      ),
      { seed: 20261122, numRuns: 14 },
    );
  });

  it('has no false positives over 10 virtual minutes at N = 100 with loss up to 5%', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.integer({ min: 1, max: 1_000_000 }),
        // Without the TCP fallback every lost UDP round trip counts, so suspicions do happen.
        fc.boolean(),
        (loss, seed, disableTcpPings) => {
          const sim = buildSimulation({ nodes: 100, loss, seed, durationMs: 600_000, config: { disableTcpPings }, byteCounting: 'estimate' });
          sim.runUntil(600_000);
          expect(sim.observer.falsePositives).toBe(0);
          expect(sim.observer.converged).toBe(true);
          expectNothingDropped(sim);
        },
      ),
      { seed: 7, numRuns: 4, examples: [[0.05, 5, true]] },
    );
  });

  it('never declares failed a node paused for less than the minimum suspicion timeout', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 200 }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (nodes, loss, seed, fraction) => {
          const min = minSuspicionTimeout(lan.suspicionMult, nodes, lan.probeIntervalMs);
          const forMs = Math.max(1, Math.floor(fraction * min) - 1);
          const atMs = 10_000;
          const sim = buildSimulation({ nodes, loss, seed, start: 'converged', pauses: [{ name: 'n1', atMs, forMs }], byteCounting: 'estimate' });
          // Long enough for every suspicion that the pause started to have run out.
          sim.runUntil(atMs + forMs + detectionBoundMs(lan, nodes) / lan.awarenessMaxMultiplier);
          expect(sim.observer.failedVerdicts[1]).toBe(0);
          expect(sim.observer.falsePositives).toBe(0);
          expectNothingDropped(sim);
        },
      ),
      { seed: 99, numRuns: 12 },
    );
  });

  it('re-converges after a 50/50 partition heals', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 6, max: 120 }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 5_000, max: 90_000 }),
        (nodes, loss, seed, splitMs) => {
          const half = Array.from({ length: Math.floor(nodes / 2) }, (_, i) => `n${i}`);
          const atMs = 10_000;
          const healAtMs = atMs + splitMs;
          // After the heal every node tries a failed member within one reconnect interval, and
          // each such exchange makes both sides refute; three intervals leave ample room.
          const settleBound = 3 * lan.reconnectIntervalMs;
          const options: SimOptions = { nodes, loss, seed, start: 'converged', partitions: [{ atMs, healAtMs, groups: [half] }], byteCounting: 'estimate' };
          const sim = buildSimulation(options);
          sim.runUntil(healAtMs);
          // Probes across the cut fail within seconds, so the views have diverged by the heal.
          expect(sim.observer.converged).toBe(false);
          sim.runUntil(healAtMs + settleBound);
          expect(sim.observer.converged).toBe(true);
          expect(sim.observer.settledAt!).toBeLessThanOrEqual(healAtMs + settleBound);
          expectNothingDropped(sim);
        },
      ),
      { seed: 3, numRuns: 10 },
    );
  });
});
