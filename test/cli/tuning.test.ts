/** `hearsay tune`'s pure parts: the candidate grid, the percentile, the recommendation rule, the agent flags it prints. */
import { describe, expect, it } from 'vitest';
import { agentCommand, mergeOptions } from '../../packages/agent/src/cli/agent-command.js';
import {
  agentFlags,
  candidateTimings,
  crashesFor,
  defaultWindowMs,
  formatDuration,
  percentile,
  recommend,
  type Measurement,
} from '../../packages/agent/src/cli/tuning.js';

/** A measurement with only what the rule reads; the timing is irrelevant to it. */
function measured(p99: number | null, falseFailuresPerNodeHour: number, extra: Partial<Measurement> = {}): Measurement {
  return {
    timing: { probeIntervalMs: 1000, probeTimeoutMs: 500, suspicionMult: 4 },
    detectionMeanMs: p99 === null ? null : p99 * 0.8,
    detectionP99Ms: p99,
    undetected: p99 === null ? 1 : 0,
    falseFailures: falseFailuresPerNodeHour * 10,
    falseFailuresPerNodeHour,
    packetsPerNodePerS: 3,
    ...extra,
  };
}

describe('candidateTimings', () => {
  it('spans three intervals from half the LAN profile’s, four suspicion multipliers, each timeout half its interval', () => {
    const grid = candidateTimings(1);
    expect(grid).toHaveLength(12);
    expect([...new Set(grid.map((t) => t.probeIntervalMs))]).toEqual([500, 1000, 2000]);
    expect([...new Set(grid.map((t) => t.suspicionMult))]).toEqual([2, 3, 4, 6]);
    for (const timing of grid) expect(timing.probeTimeoutMs).toBe(timing.probeIntervalMs / 2);
  });

  it.each([1, 90, 200, 333, 1000])('keeps every timeout at 3 round trips of %i ms or more, on whole milliseconds', (rttMs) => {
    const grid = candidateTimings(rttMs);
    expect(grid).toHaveLength(12);
    for (const timing of grid) {
      expect(timing.probeTimeoutMs).toBeGreaterThanOrEqual(3 * rttMs);
      expect(Number.isInteger(timing.probeTimeoutMs)).toBe(true);
    }
    // Past 83 ms the shortest interval follows the round trip: 6 RTTs, rounded up to 100 ms.
    expect(Math.min(...grid.map((t) => t.probeIntervalMs))).toBe(Math.max(500, Math.ceil((6 * rttMs) / 100) * 100));
  });
});

describe('crashesFor and defaultWindowMs', () => {
  it('crash enough for some 250 samples, at most one node per ten and five, at least one', () => {
    expect([2, 9, 10, 25, 50, 100, 200, 500, 2000].map(crashesFor)).toEqual([1, 1, 1, 2, 5, 3, 2, 1, 1]);
  });

  it('run 500 node-minutes without a crash, in whole minutes from 1m to 1h', () => {
    expect([2, 12, 50, 200, 500, 2000].map((n) => defaultWindowMs(n) / 60_000)).toEqual([60, 42, 10, 3, 1, 1]);
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 200 }, (_, i) => 200 - i);
    expect(percentile(values, 0.99)).toBe(198);
    expect(percentile([5], 0.99)).toBe(5);
    expect(percentile([3, 1, 2], 0.5)).toBe(2);
  });

  it('is null for no values, and when the rank falls on a member that never detected', () => {
    expect(percentile([], 0.99)).toBeNull();
    expect(percentile([1, 2, Number.POSITIVE_INFINITY], 0.99)).toBeNull();
    // One never among 200 stays above the 99th percentile.
    expect(percentile([...Array.from({ length: 199 }, (_, i) => i + 1), Number.POSITIVE_INFINITY], 0.99)).toBe(198);
  });
});

describe('recommend', () => {
  it('takes the fastest timing without false failures, however fast the others are', () => {
    const all = [measured(2000, 3), measured(9000, 0), measured(5000, 0), measured(1000, 0.5)];
    expect(recommend(all)).toEqual({ choice: 2, meetsTarget: null, fastestMeetingTarget: null });
  });

  it('takes the fastest of those with the fewest false failures when none ran without', () => {
    const all = [measured(2000, 3), measured(9000, 0.2), measured(5000, 0.2), measured(1000, 0.5)];
    expect(recommend(all).choice).toBe(2);
  });

  it('says the target is met when its choice meets it, a p99 equal to the target included', () => {
    const all = [measured(2000, 3), measured(5000, 0)];
    expect(recommend(all, 5000)).toEqual({ choice: 1, meetsTarget: true, fastestMeetingTarget: null });
  });

  it('does not trade false failures for the target, but names the fastest timing that meets it', () => {
    const all = [measured(3000, 1), measured(2000, 3), measured(5000, 0)];
    expect(recommend(all, 4000)).toEqual({ choice: 2, meetsTarget: false, fastestMeetingTarget: 1 });
  });

  it('says so when no timing meets the target', () => {
    const all = [measured(3000, 1), measured(5000, 0)];
    expect(recommend(all, 1000)).toEqual({ choice: 1, meetsTarget: false, fastestMeetingTarget: null });
  });

  it('ranks a timing that left a crash undetected last, and never as meeting a target', () => {
    const all = [measured(null, 0), measured(20_000, 0)];
    expect(recommend(all, 60_000)).toEqual({ choice: 1, meetsTarget: true, fastestMeetingTarget: null });
    expect(recommend([measured(null, 0)], 60_000)).toEqual({ choice: 0, meetsTarget: false, fastestMeetingTarget: null });
  });

  it('breaks a tie of p99 by the mean, then by fewer packets, then by grid order', () => {
    expect(recommend([measured(4000, 0, { detectionMeanMs: 3500 }), measured(4000, 0, { detectionMeanMs: 3000 })]).choice).toBe(1);
    expect(recommend([measured(4000, 0, { packetsPerNodePerS: 6 }), measured(4000, 0, { packetsPerNodePerS: 3 })]).choice).toBe(1);
    expect(recommend([measured(4000, 0), measured(4000, 0)]).choice).toBe(0);
  });

  it('refuses an empty list', () => {
    expect(() => recommend([])).toThrow(RangeError);
  });
});

describe('agentFlags', () => {
  it('are flags `hearsay agent` parses into the very timing, on the LAN profile', async () => {
    for (const timing of candidateTimings(150)) {
      const command = agentCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
      let flags: Record<string, unknown> = {};
      command.action((parsed: Record<string, unknown>) => {
        flags = parsed;
      });
      await command.parseAsync(agentFlags(timing), { from: 'user' });
      expect(mergeOptions({}, flags)).toEqual({ profile: 'lan', config: timing });
    }
  });

  it('write durations in the largest whole unit', () => {
    expect([250, 1500, 2000, 600_000, 3_600_000, 0].map(formatDuration)).toEqual(['250ms', '1500ms', '2s', '10m', '1h', '0s']);
  });
});
