/**
 * The failure detector's message load per round: gossiped heartbeat tables cost O(N) messages
 * in all (N nodes × fanout M), hybrid's all-to-all direct heartbeats O(N²) (a ping and its ack
 * for each of the N(N − 1) ordered pairs).
 *
 * A message here is one logical transmission: a whole table sent to one peer counts once, however
 * many packets it was split into. The table itself grows with N, so the packets and bytes of
 * gossip grow quadratically too; they are asserted separately below.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../packages/hearsay/src/core/index.js';
import { buildSimulation, loadPerRound, type RoundLoad } from '../../packages/hearsay/src/sim/index.js';

const config = resolveConfig('lan');
const SIZES = [20, 40, 80] as const;

/** The mean load of rounds 10 … 20 of a converged, lossless cluster. */
function measure(protocol: 'heartbeat' | 'hybrid', nodes: number): RoundLoad {
  const sim = buildSimulation({ nodes, seed: 1, start: 'converged', protocol: protocol, byteCounting: 'estimate' });
  const from = 10 * config.heartbeatIntervalMs;
  const to = 20 * config.heartbeatIntervalMs;
  sim.runUntil(from);
  const before = { ...sim.traffic };
  sim.runUntil(to);
  return loadPerRound(before, sim.traffic, to - from, config.heartbeatIntervalMs);
}

/** Each doubling of N multiplies `key` by a factor within [low, high]. */
function expectGrowth(loads: RoundLoad[], key: keyof RoundLoad, low: number, high: number): void {
  for (let i = 1; i < loads.length; i++) {
    const ratio = loads[i]![key] / loads[i - 1]![key];
    expect(ratio, `${key} from N = ${SIZES[i - 1]} to ${SIZES[i]}`).toBeGreaterThanOrEqual(low);
    expect(ratio, `${key} from N = ${SIZES[i - 1]} to ${SIZES[i]}`).toBeLessThanOrEqual(high);
  }
}

describe('simulated message load per heartbeat round at N = 20, 40, 80', () => {
  it('grows linearly for heartbeat gossip: N × fanout table sends', () => {
    const loads = SIZES.map((n) => measure('heartbeat', n));
    SIZES.forEach((n, i) => {
      expect(loads[i]!.messages / (n * config.heartbeatFanout)).toBeCloseTo(1, 1);
      expect(loads[i]!.pings + loads[i]!.acks).toBe(0);
    });
    expectGrowth(loads, 'messages', 1.6, 2.5);
    // Each table lists every member: the bytes of a round grow fourfold per doubling.
    expectGrowth(loads, 'bytes', 3.3, 4.7);
  });

  it('grows quadratically for the hybrid below its threshold: a ping and an ack per ordered pair', () => {
    expect(config.hybridThreshold).toBeGreaterThanOrEqual(SIZES.at(-1)!);
    const loads = SIZES.map((n) => measure('hybrid', n));
    SIZES.forEach((n, i) => {
      expect(loads[i]!.messages / (2 * n * (n - 1))).toBeCloseTo(1, 1);
      expect(loads[i]!.tables).toBe(0);
    });
    expectGrowth(loads, 'messages', 3.3, 4.7);
  });
});
