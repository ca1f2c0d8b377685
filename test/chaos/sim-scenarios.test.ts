import { describe, expect, it } from 'vitest';
import {
  convergenceS,
  declarers,
  deliveries,
  detection,
  failuresAbout,
  falseFailures,
  formedCluster,
  ghosts,
  peakMembers,
  viewsAt,
  type Interval,
  type Observation,
  type ObservationType,
} from '../../packages/chaos/src/metrics/index.js';
import { planVariants, timelineOf } from '../../packages/chaos/src/scenarios/plan.js';
import { simulateScenario } from '../../packages/chaos/src/sim/index.js';
import { RESULT_COLUMNS, type ResultRow, type ScenarioName } from '../../packages/chaos/src/types.js';

const ALWAYS: Interval[] = [{ fromMs: 0, toMs: Infinity }];
/** Members a, b, c up throughout unless told otherwise. */
const upOf = (runs: Record<string, Interval[]> = {}) => new Map(['a', 'b', 'c'].map((name) => [name, runs[name] ?? ALWAYS]));
const seen = (atMs: number, observer: string, type: ObservationType, member: string): Observation => ({ atMs, observer, type, member });
const formed = formedCluster(['a', 'b', 'c']);

describe('views', () => {
  it('follow each observer’s events, start empty with each run, and ignore a member that is down', () => {
    const up = upOf({
      c: [
        { fromMs: 0, toMs: 10 },
        { fromMs: 20, toMs: Infinity },
      ],
    });
    const observations = [
      ...formed,
      seen(1, 'a', 'suspect', 'b'),
      seen(2, 'b', 'update', 'c'),
      seen(3, 'a', 'failed', 'c'),
      seen(4, 'a', 'reap', 'c'),
      seen(15, 'c', 'join', 'a'),
      seen(20, 'c', 'join', 'c'),
      seen(21, 'c', 'join', 'a'),
    ];
    const at = (ms: number) => Object.fromEntries([...viewsAt(observations, up, ms)].map(([observer, view]) => [observer, Object.fromEntries(view)]));
    expect(at(1).a).toEqual({ a: 'alive', b: 'suspect', c: 'alive' });
    expect(at(3).a).toEqual({ a: 'alive', b: 'suspect', c: 'failed' });
    expect(at(4).a).toEqual({ a: 'alive', b: 'suspect' });
    expect(at(15).c).toBeUndefined();
    expect(at(20).c).toEqual({ c: 'alive' });
    expect(at(21).c).toEqual({ c: 'alive', a: 'alive' });
  });
});

describe('falseFailures', () => {
  const rules = { graceMs: 5000 };

  it('counts verdicts about a member up and unpaused, summed over observers', () => {
    const observations = [seen(1000, 'a', 'failed', 'c'), seen(1000, 'b', 'failed', 'c'), seen(1000, 'c', 'suspect', 'a')];
    expect(falseFailures(observations, upOf(), [], rules)).toBe(2);
    expect(falseFailures(observations, upOf(), [], { ...rules, exclude: ['c'] })).toBe(0);
  });

  it('spares a member that failed and came back, until it has been back for the grace', () => {
    // c crashed at 10 s and restarted at 20 s.
    const up = upOf({
      c: [
        { fromMs: 0, toMs: 10_000 },
        { fromMs: 20_000, toMs: Infinity },
      ],
    });
    expect(falseFailures([seen(15_000, 'a', 'failed', 'c')], up, [], rules)).toBe(0);
    expect(falseFailures([seen(24_000, 'a', 'failed', 'c')], up, [], rules)).toBe(0);
    expect(falseFailures([seen(26_000, 'a', 'failed', 'c')], up, [], rules)).toBe(1);
  });

  it('takes a restart at the same instant as an outage', () => {
    const up = upOf({
      c: [
        { fromMs: 0, toMs: 30_000 },
        { fromMs: 30_000, toMs: Infinity },
      ],
    });
    expect(falseFailures([seen(29_000, 'a', 'failed', 'c'), seen(33_000, 'a', 'failed', 'c')], up, [], rules)).toBe(1);
  });

  it('spares a paused member, and the grace after its pause; the window starts at 0', () => {
    const pauses = [{ member: 'c', fromMs: 10_000, toMs: 12_000 }];
    const observations = [seen(3000, 'a', 'failed', 'c'), seen(11_000, 'a', 'failed', 'c'), seen(16_000, 'a', 'failed', 'c'), seen(18_000, 'a', 'failed', 'c')];
    expect(falseFailures(observations, upOf(), pauses, rules)).toBe(2);
  });

  it('ignores verdicts reported by a member that is down', () => {
    const up = upOf({ a: [{ fromMs: 0, toMs: 500 }] });
    expect(falseFailures([seen(1000, 'a', 'failed', 'b')], up, [], rules)).toBe(0);
  });
});

describe('failuresAbout and declarers', () => {
  it('count verdicts, and distinct observers, about one member', () => {
    const observations = [
      seen(1, 'a', 'failed', 'c'),
      seen(2, 'c', 'failed', 'c'),
      seen(3, 'a', 'alive', 'c'),
      seen(4, 'a', 'failed', 'c'),
      seen(5, 'b', 'failed', 'c'),
    ];
    expect(failuresAbout(observations, 'c')).toBe(3);
    expect(declarers(observations, 'c')).toBe(2);
  });
});

describe('detection', () => {
  const up = upOf({ c: [{ fromMs: 0, toMs: 10_000 }] });

  it('measures from the crash to the first and the last member up that lists it gone', () => {
    const observations = [...formed, seen(14_000, 'a', 'suspect', 'c'), seen(15_000, 'a', 'failed', 'c'), seen(17_500, 'b', 'failed', 'c')];
    expect(detection(observations, up, 'c', 10_000, 60_000)).toEqual({ detectionFirstS: 5, detectionAllS: 7.5 });
  });

  it('counts 0 for a member that already listed it failed, and null for all while one never does', () => {
    const observations = [...formed, seen(5000, 'a', 'failed', 'c')];
    expect(detection(observations, up, 'c', 10_000, 60_000)).toEqual({ detectionFirstS: 0, detectionAllS: null });
  });

  it('expects only the members up from the crash to the end', () => {
    const withBDown = new Map([...up, ['b', [{ fromMs: 0, toMs: 12_000 }]]]);
    const observations = [...formed, seen(13_000, 'a', 'failed', 'c')];
    expect(detection(observations, withBDown, 'c', 10_000, 60_000)).toEqual({ detectionFirstS: 3, detectionAllS: 3 });
  });
});

describe('convergenceS', () => {
  it('is 0 when the cluster never diverged, and null when it has not converged at the end', () => {
    expect(convergenceS(formed, upOf(), 5000, 60_000)).toBe(0);
    expect(convergenceS([...formed, seen(1000, 'a', 'failed', 'b')], upOf(), 500, 60_000)).toBeNull();
  });

  it('counts from the heal to the start of the convergence that lasts, not one that broke again', () => {
    const observations = [
      ...formed,
      seen(1000, 'a', 'failed', 'b'),
      seen(3000, 'a', 'join', 'b'),
      seen(4000, 'b', 'failed', 'c'),
      seen(6000, 'b', 'alive', 'c'),
    ];
    expect(convergenceS(observations, upOf(), 2000, 60_000)).toBe(4);
    // Watched only until 5 s, it had not converged again.
    expect(convergenceS(observations, upOf(), 2000, 5000)).toBeNull();
  });

  it('takes suspicion for alive, and a member down listed alive for a divergence', () => {
    expect(convergenceS([...formed, seen(1000, 'a', 'suspect', 'b')], upOf(), 0, 60_000)).toBe(0);
    const up = upOf({ c: [{ fromMs: 0, toMs: 2000 }] });
    const observations = [...formed, seen(5000, 'a', 'failed', 'c'), seen(7000, 'b', 'failed', 'c')];
    expect(convergenceS(observations, up, 2000, 60_000)).toBe(5);
  });

  it('waits after a restart until the new run lists everyone and everyone lists it', () => {
    const up = upOf({
      c: [
        { fromMs: 0, toMs: 10_000 },
        { fromMs: 10_000, toMs: Infinity },
      ],
    });
    const observations = [...formed, seen(10_000, 'c', 'join', 'c'), seen(10_500, 'c', 'join', 'a'), seen(11_000, 'c', 'join', 'b')];
    expect(convergenceS(observations, up, 10_000, 60_000)).toBe(1);
  });
});

describe('ghosts', () => {
  it('counts members up listed failed or left, and members down listed alive or suspect', () => {
    const up = upOf({ c: [{ fromMs: 0, toMs: 1000 }] });
    // a lists b failed and c alive, b lists c suspect.
    const observations = [...formed, seen(2000, 'a', 'failed', 'b'), seen(2000, 'b', 'suspect', 'c')];
    expect(ghosts(observations, up, 60_000)).toBe(3);
    const settled = [...observations, seen(3000, 'a', 'alive', 'b'), seen(3000, 'a', 'failed', 'c'), seen(3000, 'b', 'left', 'c')];
    expect(ghosts(settled, up, 60_000)).toBe(0);
    expect(ghosts(settled, up, 2500)).toBe(3);
    // After its restart c lists nobody yet: not a ghost, only not converged.
    expect(
      ghosts(
        formed,
        upOf({
          c: [
            { fromMs: 0, toMs: 5000 },
            { fromMs: 5000, toMs: Infinity },
          ],
        }),
        60_000,
      ),
    ).toBe(0);
  });
});

describe('peakMembers', () => {
  it('counts alive, suspect and failed members, not those that left', () => {
    const up = new Map([...upOf(), ['d', [{ fromMs: 1000, toMs: Infinity }]]]);
    expect(peakMembers(formed, up)).toBe(3);
    const observations = [...formed, seen(2000, 'a', 'join', 'd'), seen(3000, 'a', 'failed', 'b'), seen(4000, 'a', 'left', 'c')];
    expect(peakMembers(observations, up)).toBe(4);
    expect(peakMembers(observations, up, 1500)).toBe(3);
  });
});

describe('deliveries', () => {
  const user = (atMs: number, observer: string, event: string): Observation => ({ atMs, observer, type: 'user', event });

  it('expects members up from the sending to the end; the sender only if it reports its own event', () => {
    const up = upOf({
      c: [
        { fromMs: 0, toMs: 5000 },
        { fromMs: 5000, toMs: Infinity },
      ],
    });
    const sent = [
      { atMs: 1000, from: 'a', name: 'e1' },
      { atMs: 6000, from: 'a', name: 'e2' },
    ];
    // e1: c restarted after it, so only b is expected; e2: b and c, and a, which reported it.
    const observations = [user(1100, 'b', 'e1'), user(1100, 'c', 'e1'), user(6000, 'a', 'e2'), user(6100, 'b', 'e2'), user(5500, 'c', 'e2')];
    expect(deliveries(observations, up, sent, 60_000)).toEqual({ eventsSent: 2, eventsDelivered: 3, eventDeliveryRatio: 0.75 });
  });

  it('has no ratio when nobody was expected', () => {
    expect(deliveries([], new Map([['a', ALWAYS]]), [{ atMs: 0, from: 'a', name: 'e' }], 1000)).toEqual({
      eventsSent: 1,
      eventsDelivered: 0,
      eventDeliveryRatio: null,
    });
  });
});

describe('the scenarios on the simulator, N = 8', () => {
  const specs = [...planVariants({ nodes: 8, seed: 1, faultMs: 20_000 }), ...planVariants({ nodes: 8, seed: 1, scenarios: ['pause'] })];
  const rows = new Map<string, ResultRow>();
  const run = (scenario: ScenarioName, param?: number): ResultRow => {
    const spec = specs.find((s) => s.scenario === scenario && (param === undefined || s.param === param))!;
    const key = `${spec.variant} ${spec.faultMs}`;
    if (!rows.has(key)) rows.set(key, simulateScenario(spec, 1));
    return rows.get(key)!;
  };

  it('fills every column, its own figures only, the same way every time', () => {
    const spec = specs.find((s) => s.scenario === 'loss' && s.param === 10)!;
    const row = simulateScenario(spec, 2);
    expect(Object.keys(row).sort()).toEqual([...RESULT_COLUMNS].sort());
    expect(row).toMatchObject({ system: 'sim', rep: 2, seed: 2, nodes: 8, faultS: 20, ghosts: null, eventsSent: null, pausedDeclared: null });
    expect(simulateScenario(spec, 2)).toEqual(row);
  });

  it('loss 0%: no false failure, no failed probe, the kill detected by everyone within seconds', () => {
    const row = run('loss', 0);
    expect(row).toMatchObject({ falseFailures: 0, failedProbes: 0, refutations: 0 });
    expect(row.detectionFirstS).toBeGreaterThan(1);
    expect(row.detectionAllS).toBeGreaterThanOrEqual(row.detectionFirstS!);
    expect(row.detectionAllS).toBeLessThan(10);
    expect(row.packetsPerNodeS).toBeGreaterThan(1);
  });

  it('loss 30%: probes fail and are refuted, more packets go out, the kill is still detected by everyone', () => {
    const calm = run('loss', 0);
    const row = run('loss', 30);
    expect(row.failedProbes).toBeGreaterThan(0);
    expect(row.refutations).toBeGreaterThan(0);
    expect(row.packetsPerNodeS).toBeGreaterThan(calm.packetsPerNodeS!);
    expect(row.detectionAllS).not.toBeNull();
  });

  it('one-way loss: indirect probes keep both members from being declared failed', () => {
    expect(run('oneway')).toMatchObject({ falseFailures: 0 });
  });

  it('partition: heals with no ghost', () => {
    const row = run('partition');
    expect(row.ghosts).toBe(0);
    expect(row.convergenceS).not.toBeNull();
    expect(row.convergenceS).toBeLessThan(60);
    expect(row.eventsSent).toBe(2);
  });

  // The heal goes through reconnects, whose join exchanges deliver the events that did not cross.
  it('partition: delivers both sides’ events everywhere after the heal', () => {
    expect(run('partition').eventDeliveryRatio).toBe(1);
  });

  it('flap: a member cut 1 s in 2 is not declared failed, nor anyone else', () => {
    expect(run('flap')).toMatchObject({ flapsSeen: 0, falseFailures: 0 });
  });

  it('pause: 2 s goes unnoticed, 10 s is declared by everyone else, and both converge after', () => {
    expect(run('pause', 2)).toMatchObject({ pausedDeclared: 0, falseFailures: 0, convergenceS: 0 });
    const long = run('pause', 10);
    expect(long).toMatchObject({ pausedDeclared: 7, falseFailures: 0 });
    expect(long.convergenceS).not.toBeNull();
    expect(long.convergenceS).toBeLessThan(10);
  });

  it('churn: ends with no ghost, never lists more than the cluster, delivers every event', () => {
    const row = run('churn');
    const timeline = timelineOf(specs.find((s) => s.scenario === 'churn')!, 1);
    expect(row).toMatchObject({ ghosts: 0, falseFailures: 0, eventsSent: timeline.events.length, eventDeliveryRatio: 1 });
    expect(row.peakMembers).toBe(8);
    expect(row.convergenceS).not.toBeNull();
  });
});
