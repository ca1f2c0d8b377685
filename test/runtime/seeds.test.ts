/** The pure policy deciding when an isolated node tries its seeds again, on a fake clock. */
import { describe, expect, it } from 'vitest';
import { SeedRetryPolicy } from '../../packages/hearsay/src/runtime/seeds.js';

/** Ticks `policy` every `stepMs` from `from` to `to` and returns the times it said to start an attempt (each finishing at once). */
function attemptTimes(policy: SeedRetryPolicy, from: number, to: number, stepMs: number, alone: (now: number) => boolean): number[] {
  const times: number[] = [];
  for (let now = from; now <= to; now += stepMs) {
    if (policy.due(now, alone(now))) {
      times.push(now);
      policy.finished();
    }
  }
  return times;
}

describe('SeedRetryPolicy', () => {
  it('retries while alone, at most once per interval', () => {
    const policy = new SeedRetryPolicy(1000);
    policy.remember(['seed.test:7946']);
    expect(attemptTimes(policy, 0, 3500, 250, () => true)).toEqual([0, 1000, 2000, 3000]);
  });

  it('does nothing while the node has company, and starts again once it is alone', () => {
    const policy = new SeedRetryPolicy(1000);
    policy.remember(['seed.test:7946']);
    expect(attemptTimes(policy, 0, 5000, 250, (now) => now >= 4200)).toEqual([4250]);
  });

  it('runs one attempt at a time: a slow one delays the next', () => {
    const policy = new SeedRetryPolicy(1000);
    policy.remember(['seed.test:7946']);
    expect(policy.due(0, true)).toBe(true);
    expect(policy.due(1000, true)).toBe(false);
    expect(policy.due(2500, true)).toBe(false);
    policy.finished();
    expect(policy.due(2600, true)).toBe(true);
  });

  it('never retries without seeds, with interval 0, or once stopped', () => {
    const none = new SeedRetryPolicy(1000);
    expect(attemptTimes(none, 0, 5000, 250, () => true)).toEqual([]);
    const disabled = new SeedRetryPolicy(0);
    disabled.remember(['seed.test:7946']);
    expect(attemptTimes(disabled, 0, 5000, 250, () => true)).toEqual([]);
    const stopped = new SeedRetryPolicy(1000);
    stopped.remember(['seed.test:7946']);
    expect(stopped.due(0, true)).toBe(true);
    stopped.finished();
    stopped.stop();
    expect(attemptTimes(stopped, 1000, 5000, 250, () => true)).toEqual([]);
  });

  it('remembers each entry once, as given, in the order first given', () => {
    const policy = new SeedRetryPolicy(1000);
    policy.remember(['a.test:1', 'dns+srv:_hearsay._udp.cluster.test']);
    policy.remember(['a.test:1', '10.0.0.1:7946']);
    expect(policy.seeds).toEqual(['a.test:1', 'dns+srv:_hearsay._udp.cluster.test', '10.0.0.1:7946']);
  });
});
