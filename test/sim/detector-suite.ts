/**
 * The simulator's property suite of a failure detector — SWIM, heartbeat gossip or the hybrid,
 * with fixed thresholds or phi accrual — run over fixed seeds by fast-check:
 *
 * - every detector: every crash detected by all within the derived bound (detector-bounds.ts), no
 *   false positives at N = 100 over 10 virtual minutes, a pause shorter than the detector's
 *   grace (SWIM's minimum suspicion timeout, the heartbeats' suspectAfter) never failed;
 * - SWIM: re-convergence after a 50/50 partition heals;
 * - the heartbeat detectors: tombstones stop resurrection, old tables replayed over a slow link
 *   do not bring a failed node back, a restarted node is accepted again.
 *
 * No run drops anything at the bounds against hostile peers (issue 11). Byte counting by the real
 * encoder is left to the scenario tests: it would triple these runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minSuspicionTimeout, resolveConfig, type Protocol, type ProtocolConfig } from '../../packages/hearsay/src/core/index.js';
import { buildSimulation, type Simulation } from '../../packages/hearsay/src/sim/index.js';
import { detectionBoundMs } from './detector-bounds.js';

export interface DetectorSuite {
  readonly detector: Protocol;
  /** What sets this run of the suite apart in the output, e.g. 'phi accrual (threshold 8)'. */
  readonly variant?: string;
  /** Overrides for every run (phi threshold, hybrid threshold). */
  readonly config: Partial<ProtocolConfig>;
  /** Largest cluster of the crash and pause properties (and the heartbeats' tombstones and restart). */
  readonly maxNodes: number;
  /** fast-check runs per property; `partition` is SWIM's, `tombstones` and `restart` the heartbeats'. */
  readonly numRuns: { crash: number; falsePositives: number; pause: number; partition?: number; tombstones?: number; restart?: number };
  /** Whether the crash and pause properties try the worst case first (largest cluster, worst loss). */
  readonly worstCaseFirst: boolean;
  /** Virtual time of the false-positive run (10 minutes unless a judgement is too slow for it). */
  readonly falsePositiveMs?: number;
  /** Further overrides for the false-positive run at N = 100. */
  readonly falsePositiveConfig?: Partial<ProtocolConfig>;
}

const NAMES: Record<Protocol, string> = { swim: 'SWIM', heartbeat: 'heartbeat gossip', hybrid: 'hybrid' };

/** Long synchronous runs would starve the test worker's link to vitest: yield between them. */
const breathe = () => new Promise((resolve) => setImmediate(resolve));

/** Runs until every crash is known everywhere or `limit`, a second of virtual time at a step. */
function runUntilDetected(sim: Simulation, limit: number): void {
  for (let t = sim.now; t <= limit; t += 1000) {
    sim.runUntil(t);
    const reports = sim.observer.crashReports;
    if (reports.length > 0 && reports.every((c) => c.all_failed_ms !== null)) return;
  }
  sim.runUntil(limit);
}

/** How long a false suspicion lives at most: the suspect hears of it and its refutation spreads. */
const REFUTATION_MS = 10_000;

/** Runs until every live node lists every live node alive, or `limit`; whether it got there. */
function runUntilConverged(sim: Simulation, limit: number): boolean {
  for (let t = sim.now; !sim.observer.converged && t < limit; ) {
    t = Math.min(limit, t + 250);
    sim.runUntil(t);
  }
  return sim.observer.converged;
}

/** Every live node's view of `name`: its status, or 'absent'. */
function viewsOf(sim: Simulation, name: string): string[] {
  const views: string[] = [];
  for (let i = 0; i < sim.options.nodes; i++) {
    const node = sim.node(i);
    if (node) views.push(node.member(name)?.status ?? 'absent');
  }
  return views;
}

/**
 * The bounds against hostile peers (issue 11: replies per packet, relays per second, new members
 * per packet and push/pull, epochs, heartbeats, the queue) never bite an honest cluster.
 */
function expectNothingDropped(sim: Simulation): void {
  for (let i = 0; i < sim.options.nodes; i++) expect(sim.node(i)?.stats.dropped ?? {}, `n${i}`).toEqual({});
}

/** The runs a detector-specific property asks for, which its suite must give. */
function runsOf(suite: DetectorSuite, property: 'partition' | 'tombstones' | 'restart'): number {
  const runs = suite.numRuns[property];
  if (runs === undefined) throw new Error(`the ${suite.detector} suite gives no numRuns.${property}`);
  return runs;
}

/** One describe block, named after the detector (and variant), holding its properties. */
export function detectorProperties(suite: DetectorSuite): void {
  const { detector } = suite;
  const name = `simulated ${NAMES[detector]} detector${suite.variant ? `, ${suite.variant}` : ''}: properties over seeds (fast-check, fixed seeds)`;
  describe(name, () => {
    const config = resolveConfig('lan', suite.config);
    const base = { protocol: detector, config: suite.config, byteCounting: 'estimate' as const };

    it('every surviving node marks every crashed node failed within the derived bound', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 5, max: suite.maxNodes }),
          fc.double({ min: 0, max: 0.05, noNaN: true }),
          fc.integer({ min: 1, max: 1_000_000 }),
          fc.integer({ min: 1, max: 4 }),
          fc.constantFrom<'join' | 'converged'>('join', 'converged'),
          async (nodes, loss, seed, crashes, start) => {
            await breathe();
            const crash = Math.min(crashes, nodes - 2);
            const crashAtMs = 15_000;
            const bound = detectionBoundMs(config, detector, nodes);
            const sim = buildSimulation({ ...base, nodes, loss, seed, start, crash, crashAtMs, durationMs: crashAtMs + bound });
            runUntilDetected(sim, crashAtMs + bound);
            const reports = sim.observer.crashReports;
            expect(reports).toHaveLength(crash);
            for (const report of reports) {
              expect(report.first_suspect_ms).not.toBeNull();
              expect(report.all_failed_ms).not.toBeNull();
              expect(report.all_failed_ms!).toBeLessThanOrEqual(bound);
            }
            expect(sim.observer.falsePositives).toBe(0);
            expectNothingDropped(sim);
          },
        ),
        // With worstCaseFirst, the largest cluster at the worst loss with the most crashes, then random draws.
        { seed: 20261122, numRuns: suite.numRuns.crash, examples: suite.worstCaseFirst ? [[suite.maxNodes, 0.05, 1, 4, 'join']] : [] },
      );
    });

    const falsePositiveMs = suite.falsePositiveMs ?? 600_000;
    it(`has no false positives over ${falsePositiveMs / 60_000} virtual minutes at N = 100 with loss up to 5%`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.double({ min: 0, max: 0.05, noNaN: true }),
          fc.integer({ min: 1, max: 1_000_000 }),
          // SWIM: without the TCP fallback every lost UDP round trip counts, so suspicions do happen.
          detector === 'swim' ? fc.boolean() : fc.constant(false),
          async (loss, seed, disableTcpPings) => {
            await breathe();
            const overrides = { ...suite.config, ...suite.falsePositiveConfig, disableTcpPings };
            const sim = buildSimulation({ ...base, config: overrides, nodes: 100, loss, seed, durationMs: falsePositiveMs });
            sim.runUntil(falsePositiveMs);
            expect(sim.observer.falsePositives).toBe(0);
            // Under loss a suspicion may be in flight at the last instant: it is refuted within seconds.
            expect(runUntilConverged(sim, falsePositiveMs + REFUTATION_MS)).toBe(true);
            expectNothingDropped(sim);
          },
        ),
        // The worst loss first; every further run costs as much again.
        { seed: 7, numRuns: suite.numRuns.falsePositives, examples: [[0.05, 5, detector === 'swim']] },
      );
    });

    // SWIM's grace is the shortest suspicion (it shrinks as confirmations come in), the heartbeats' suspectAfter.
    const grace = detector === 'swim' ? 'the minimum suspicion timeout' : 'suspectAfter';
    it(`never declares failed a node paused for less than ${grace}`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 5, max: suite.maxNodes }),
          fc.double({ min: 0, max: 0.05, noNaN: true }),
          fc.integer({ min: 1, max: 1_000_000 }),
          fc.double({ min: 0.05, max: 1, noNaN: true }),
          async (nodes, loss, seed, fraction) => {
            await breathe();
            const graceMs = detector === 'swim' ? minSuspicionTimeout(config.suspicionMult, nodes, config.probeIntervalMs) : config.suspectAfterMs;
            const forMs = Math.max(1, Math.floor(fraction * graceMs) - 1);
            const atMs = 10_000;
            const sim = buildSimulation({ ...base, nodes, loss, seed, start: 'converged', pauses: [{ name: 'n1', atMs, forMs }] });
            // Long enough for any verdict that the pause could cause to have come (for SWIM, for
            // every suspicion it started to have run out: the bound without awareness' stretch).
            const settleMs = detectionBoundMs(config, detector, nodes) / (detector === 'swim' ? config.awarenessMaxMultiplier : 1);
            sim.runUntil(atMs + forMs + settleMs);
            expect(sim.observer.failedVerdicts[1]).toBe(0);
            expect(sim.observer.falsePositives).toBe(0);
            expectNothingDropped(sim);
          },
        ),
        // With worstCaseFirst, the longest pause (the grace − 1 ms) at the worst loss, then random draws.
        { seed: 99, numRuns: suite.numRuns.pause, examples: suite.worstCaseFirst ? [[suite.maxNodes, 0.05, 1, 1]] : [] },
      );
    });

    if (detector === 'swim') swimProperties(suite);
    else heartbeatProperties(suite);
  });
}

/** SWIM's own: a healed partition. */
function swimProperties(suite: DetectorSuite): void {
  const config = resolveConfig('lan', suite.config);
  const base = { protocol: suite.detector, config: suite.config, byteCounting: 'estimate' as const };

  it('re-converges after a 50/50 partition heals', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 6, max: 120 }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 5_000, max: 90_000 }),
        async (nodes, loss, seed, splitMs) => {
          await breathe();
          const half = Array.from({ length: Math.floor(nodes / 2) }, (_, i) => `n${i}`);
          const atMs = 10_000;
          const healAtMs = atMs + splitMs;
          // After the heal every node tries a failed member within one reconnect interval, and
          // each such exchange makes both sides refute; three intervals leave ample room.
          const settleBound = 3 * config.reconnectIntervalMs;
          const sim = buildSimulation({ ...base, nodes, loss, seed, start: 'converged', partitions: [{ atMs, healAtMs, groups: [half] }] });
          sim.runUntil(healAtMs);
          // Probes across the cut fail within seconds, so the views have diverged by the heal.
          expect(sim.observer.converged).toBe(false);
          sim.runUntil(healAtMs + settleBound);
          expect(sim.observer.converged).toBe(true);
          expect(sim.observer.settledAt!).toBeLessThanOrEqual(healAtMs + settleBound);
          expectNothingDropped(sim);
        },
      ),
      { seed: 3, numRuns: runsOf(suite, 'partition') },
    );
  });
}

/** The heartbeat detectors' own: tombstones, replayed tables and restarts. */
function heartbeatProperties(suite: DetectorSuite): void {
  const { detector } = suite;
  const config = resolveConfig('lan', suite.config);
  const base = { protocol: detector, config: suite.config, byteCounting: 'estimate' as const };

  it('keeps crashed nodes failed until their tombstones are cleaned up, then forgets them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 10, max: suite.maxNodes }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.integer({ min: 1, max: 1_000_000 }),
        async (nodes, loss, seed) => {
          await breathe();
          const crashAtMs = 15_000;
          const victims = ['n2', 'n3', 'n4'];
          const sim = buildSimulation({ ...base, nodes, loss, seed, start: 'converged', crash: victims, crashAtMs, crashEveryMs: 1000 });
          const verdictsBy = crashAtMs + (victims.length - 1) * 1000 + detectionBoundMs(config, detector, nodes);
          sim.runUntil(verdictsBy);
          for (const name of victims) expect(viewsOf(sim, name).every((status) => status === 'failed')).toBe(true);
          // Each node forgets a tombstone cleanupAfter after its own verdict. The observer counts
          // every node that lists a crashed member alive again after it had marked it failed.
          sim.runUntil(verdictsBy + config.cleanupAfterMs + 1000);
          for (const name of victims) expect(viewsOf(sim, name).every((status) => status === 'absent')).toBe(true);
          expect(sim.observer.resurrections).toBe(0);
          expect(sim.observer.falsePositives).toBe(0);
        },
      ),
      { seed: 31, numRuns: runsOf(suite, 'tombstones') },
    );
  });

  // Gossiped tables only: the hybrid is held above its threshold (all-to-all sends no tables).
  it('does not let old tables bring a failed node back before cleanup (a 30 s link replays them)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 5, max: 8 }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.integer({ min: 1, max: 1_000_000 }),
        async (nodes, loss, seed) => {
          await breathe();
          // With fanout N − 1 every node sends every other its table each period; n1's reach n2
          // 30 s after they were sent (n2 hears of n1 through the others meanwhile).
          const overrides = { ...suite.config, heartbeatFanout: nodes - 1, hybridThreshold: 1 };
          const config = resolveConfig('lan', overrides);
          const crashAtMs = 40_000;
          const replayMs = 30_000;
          const sim = buildSimulation({
            ...base,
            config: overrides,
            nodes,
            loss,
            seed,
            start: 'converged',
            links: [{ between: ['n1', 'n2'], delayMs: replayMs }],
            crash: ['n3'],
            crashAtMs,
          });
          const bound = detectionBoundMs(config, detector, nodes);
          sim.runUntil(crashAtMs + config.heartbeatIntervalMs);
          // n1 still lists n3 alive (or suspect) in the table it sends now, which n2 gets 30 s on…
          expect(sim.node(1)!.member('n3')!.status).not.toBe('failed');
          sim.runUntil(crashAtMs + replayMs);
          // …after its own verdict, and well before its tombstone is due for cleanup.
          expect(sim.node(2)!.member('n3')!.status).toBe('failed');
          expect(sim.node(2)!.member('n3')!.since + config.cleanupAfterMs).toBeGreaterThan(crashAtMs + replayMs + bound);
          // By now n1's last such table, sent before its own verdict, has arrived.
          sim.runUntil(crashAtMs + replayMs + bound + 1000);
          expect(viewsOf(sim, 'n3').every((status) => status === 'failed')).toBe(true);
          sim.runUntil(crashAtMs + bound + config.cleanupAfterMs + 1000);
          expect(viewsOf(sim, 'n3').every((status) => status === 'absent')).toBe(true);
          expect(sim.observer.resurrections).toBe(0);
          expect(sim.observer.falsePositives).toBe(0);
        },
      ),
      { seed: 17, numRuns: runsOf(suite, 'tombstones') },
    );
  });

  it('accepts a restarted node again: before the verdicts, while tombstones stand, after they are forgotten', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 5, max: suite.maxNodes }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1000, max: config.failAfterMs + config.cleanupAfterMs + 20_000 }),
        async (nodes, loss, seed, downMs) => {
          await breathe();
          const crashAtMs = 15_000;
          const restartAtMs = crashAtMs + downMs;
          // The join and the new generation's alive spread within seconds; a push/pull round
          // (30 s, scaled by cluster size) catches any node the gossip missed.
          const settledAt = restartAtMs + 40_000;
          const sim = buildSimulation({
            ...base,
            nodes,
            loss,
            seed,
            start: 'converged',
            crash: ['n1'],
            crashAtMs,
            restarts: [{ name: 'n1', atMs: restartAtMs }],
          });
          sim.runUntil(settledAt);
          const restarted = sim.node(1)!;
          expect(restarted.incarnation).toBeGreaterThan(restartAtMs);
          for (let i = 0; i < nodes; i++) {
            expect(sim.node(i)!.member('n1')).toMatchObject({ status: 'alive', incarnation: restarted.incarnation });
          }
          expect(sim.observer.converged).toBe(true);
          expect(sim.observer.falsePositives).toBe(0);
        },
      ),
      { seed: 5, numRuns: runsOf(suite, 'restart') },
    );
  });
}
