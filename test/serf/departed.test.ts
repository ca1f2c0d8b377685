/**
 * Identity churn (issue 14), Serf's part: failed and left members stay listed after the core
 * forgets them, until Serf reaps them (reconnectTimeoutMs, tombstoneTimeoutMs), with a `reap`
 * report; the list is bounded; a member it holds, back at another address, is reported moved.
 */
import { describe, expect, it } from 'vitest';
import { createRandom, type MemberEvent, type ProtocolConfig } from '../../packages/hearsay/src/core/index.js';
import { DepartedMembers, SerfMember, type SerfReport } from '../../packages/hearsay/src/serf/index.js';
import { ackPings, Harness, PORT, profileOf } from '../core/harness.js';

const DAY = 24 * 3600_000;
const B = profileOf('b', '10.0.0.2');

/** A SerfMember on a harness's core, fed every output as a driver does; what it reports and the events as shown. */
function serfOn(config: Partial<ProtocolConfig> = {}) {
  // No gossip or push/pull rounds: a day of fake clock stays quick; probes (acked) keep running.
  const h = new Harness({ name: 'a', seed: 5, config: { gossipIntervalMs: 0, pushPullIntervalMs: 0, reconnectIntervalMs: 0, ...config } });
  h.respond(ackPings());
  const reports: SerfReport[] = [];
  const shown: MemberEvent[] = [];
  const member = new SerfMember({
    core: h.node,
    step: (input) => h.input(input),
    now: () => h.now,
    random: createRandom(7).float,
    coordinateRandom: createRandom(8),
    keyring: undefined,
    report: (report) => reports.push(report),
  });
  h.respond((_h, _at, output) => {
    const event = member.consume(output);
    if (event) shown.push(event);
  });
  h.node.preload([{ profile: B, incarnation: 3 }]);
  /** Advances the clock as a driver does: the core at its deadlines, the member's `tick` at its own. */
  const advanceTo = (t: number) => {
    while (member.nextDeadline() <= t) {
      h.advanceTo(Math.max(h.now, member.nextDeadline()));
      member.tick();
    }
    h.advanceTo(t);
  };
  return { h, member, reports, shown, advanceTo };
}

const reaped = (reports: SerfReport[]) => reports.flatMap((r) => (r.kind === 'reap' ? [[r.member.name, r.member.status, r.member.since]] : []));

describe('departed members', () => {
  it('a failed member stays listed after the core forgets it, and is reaped after reconnectTimeoutMs (24 h by default)', () => {
    const { h, member, reports, advanceTo } = serfOn();
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'c' });
    expect(member.departed()).toEqual([]); // the core still lists it
    advanceTo(120_000);
    expect(h.node.member('b')).toBeUndefined();
    expect(member.departed()).toMatchObject([{ name: 'b', host: '10.0.0.2', status: 'failed', since: 0, incarnation: 3, reapAt: DAY }]);
    expect(member.nextDeadline()).toBe(DAY);
    advanceTo(DAY - 1);
    expect(reaped(reports)).toEqual([]);
    advanceTo(DAY);
    expect(reaped(reports)).toEqual([['b', 'failed', 0]]);
    expect(member.departed()).toEqual([]);
    expect(member.nextDeadline()).toBe(Infinity);
  });

  it('a member that left is reaped after tombstoneTimeoutMs (24 h by default), with its last tags', () => {
    const { h, member, reports, advanceTo } = serfOn();
    expect(h.config.tombstoneTimeoutMs).toBe(DAY);
    h.advanceTo(1000);
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'b' });
    advanceTo(120_000);
    expect(member.departed()).toMatchObject([{ name: 'b', status: 'left', since: 1000, meta: B.meta }]);
    advanceTo(1000 + DAY);
    expect(reaped(reports)).toEqual([['b', 'left', 1000]]);
  });

  it('with short custom timeouts, each status is reaped after its own', () => {
    const { h, reports, advanceTo } = serfOn({ reconnectTimeoutMs: 50_000, tombstoneTimeoutMs: 20_000 });
    h.node.preload([{ profile: profileOf('c', '10.0.0.3'), incarnation: 1 }]);
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'x' });
    h.gossip({ type: 'dead', node: 'c', incarnation: 1, from: 'c' });
    advanceTo(19_999);
    expect(reaped(reports)).toEqual([]);
    advanceTo(20_000);
    expect(reaped(reports)).toEqual([['c', 'left', 0]]);
    advanceTo(50_000);
    expect(reaped(reports)).toEqual([
      ['c', 'left', 0],
      ['b', 'failed', 0],
    ]);
  });

  it('a member coming back leaves the list and is not reaped', () => {
    const { h, member, reports, shown, advanceTo } = serfOn({ reconnectTimeoutMs: 300_000 });
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'c' });
    advanceTo(120_000);
    expect(member.departed()).toHaveLength(1);
    h.gossip({ type: 'alive', incarnation: 4, profile: B });
    expect(shown.at(-1)).toMatchObject({ type: 'join', member: { name: 'b', host: '10.0.0.2' } });
    expect(member.departed()).toEqual([]);
    expect(member.nextDeadline()).toBe(Infinity);
    advanceTo(400_000);
    expect(reaped(reports)).toEqual([]);
  });

  it('a failed member the core forgot, back at another address, is shown moved: an update, not a join', () => {
    const { h, member, shown, advanceTo } = serfOn();
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'c' });
    advanceTo(120_000);
    h.gossip({ type: 'alive', incarnation: 4, profile: profileOf('b', '10.0.0.99') });
    expect(h.events(0, 'join', 'b').at(-1)?.member.host).toBe('10.0.0.99'); // the core, which forgot b, saw a join
    expect(shown.at(-1)).toMatchObject({ type: 'update', member: { name: 'b', host: '10.0.0.99', port: PORT, status: 'alive' } });
    expect(member.departed()).toEqual([]);
  });

  it('a member that left, forgotten by the core, back at another address with a newer incarnation, is shown moved too', () => {
    const { h, shown, advanceTo } = serfOn();
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'b' });
    advanceTo(120_000);
    expect(h.node.member('b')).toBeUndefined();
    h.gossip({ type: 'alive', incarnation: 4, profile: profileOf('b', '10.0.0.99') });
    expect(shown.at(-1)).toMatchObject({ type: 'update', member: { host: '10.0.0.99' } });
  });

  it('a move the core still knows of comes from the core as an update, and leaves the list', () => {
    const { h, member, shown } = serfOn();
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'c' });
    h.gossip({ type: 'alive', incarnation: 4, profile: profileOf('b', '10.0.0.99') });
    expect(shown.at(-1)).toMatchObject({ type: 'update', member: { host: '10.0.0.99' } });
    expect(member.nextDeadline()).toBe(Infinity);
  });
});

describe('the bound on departed members', () => {
  const event = (type: MemberEvent['type'], name: string, at: number): MemberEvent => ({
    type,
    at,
    member: { ...profileOf(name, '10.0.0.9'), incarnation: 1, status: type === 'left' ? 'left' : type === 'failed' ? 'failed' : 'alive', since: at },
  });

  it('holds at most maxMembers: when full, the member departed longest ago is evicted, and counted', () => {
    const drops: string[] = [];
    const departed = new DepartedMembers({
      selfName: 'a',
      capacity: 3,
      reconnectTimeoutMs: DAY,
      tombstoneTimeoutMs: DAY,
      drop: (reason) => drops.push(reason),
    });
    departed.observe(event('left', 'l1', 10));
    departed.observe(event('failed', 'f1', 20));
    departed.observe(event('left', 'l2', 30));
    departed.observe(event('failed', 'f2', 40));
    expect(departed.list().map((m) => m.name)).toEqual(['f1', 'f2', 'l2']);
    departed.observe(event('failed', 'f3', 50));
    expect(departed.list().map((m) => m.name)).toEqual(['f2', 'f3', 'l2']);
    expect(drops).toEqual(['departed-full', 'departed-full']);
    expect(departed.size).toBe(3);
  });

  it('is fed through SerfMember with the core’s maxMembers, evictions in the layer’s drops', () => {
    const { h, member } = serfOn({ maxMembers: 3 });
    h.node.preload([{ profile: profileOf('c', '10.0.0.3'), incarnation: 1 }]);
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'x' });
    h.gossip({ type: 'dead', node: 'c', incarnation: 1, from: 'x' });
    h.advanceTo(120_000);
    // Both forgotten by the core; two newcomers fail in turn: b, departed longest ago, makes room.
    for (const name of ['d', 'e']) {
      h.gossip({ type: 'alive', incarnation: 1, profile: profileOf(name, '10.0.1.1') });
      h.gossip({ type: 'dead', node: name, incarnation: 1, from: 'x' });
    }
    expect(member.layer.stats.dropped['departed-full']).toBe(1);
    // d and e are still listed by the core itself; of those it forgot, only c is left.
    expect(member.departed().map((m) => m.name)).toEqual(['c']);
  });

  it('never lists this node itself', () => {
    const departed = new DepartedMembers({ selfName: 'a', capacity: 3, reconnectTimeoutMs: DAY, tombstoneTimeoutMs: DAY, drop: () => {} });
    departed.observe(event('left', 'a', 10));
    expect(departed.size).toBe(0);
  });
});
