/**
 * Serf's force-leave (issue 15): a leave intent about a failed member makes it `left` (its event),
 * with prune removes it at once (a `reap` report); about a live member it changes nothing; about
 * this node it is refuted with a join intent. Each intent is gossiped on once (newest per member),
 * and a `left` record pushed by a peer teaches a node that missed the intent.
 */
import { describe, expect, it } from 'vitest';
import type { MemberEvent } from '../../packages/hearsay/src/core/index.js';
import type { SerfReport } from '../../packages/hearsay/src/serf/index.js';
import { decodeSerfMessage, encodeSerfLeave } from '../../packages/hearsay/src/wire/index.js';
import { ackPings, Harness, profileOf } from '../core/harness.js';
import { serfMemberOn } from './member-on.js';

const B = profileOf('b', '10.0.0.2');

function serfOn() {
  const h = new Harness({ name: 'a', seed: 5, config: { gossipIntervalMs: 0, pushPullIntervalMs: 0, reconnectIntervalMs: 0 } });
  h.respond(ackPings());
  const reports: SerfReport[] = [];
  const shown: MemberEvent[] = [];
  const { member, stepped } = serfMemberOn(h, (report) => reports.push(report));
  h.respond((_h, _at, output) => {
    const event = member.consume(output);
    if (event) shown.push(event);
  });
  h.node.preload([{ profile: B, incarnation: 3 }]);
  const fail = (name = 'b') => h.gossip({ type: 'dead', node: name, incarnation: 3, from: 'c' });
  /** The leave intents this member gossiped, decoded, with their keys. */
  const intents = () =>
    stepped.flatMap((input) =>
      input.kind === 'broadcast' && input.key.startsWith('serf-leave:') ? [{ key: input.key, ...decodeSerfMessage(input.payload) }] : [],
    );
  const status = (name: string) => h.node.member(name)?.status ?? member.departed().find((d) => d.name === name)?.status;
  return { h, member, reports, shown, stepped, fail, intents, status };
}

const leaveIntent = (node: string, ltime: bigint, prune = false) => encodeSerfLeave({ ltime, node, prune });

describe('force-leave', () => {
  it('forcing a failed member out makes it left, with its event, and gossips the intent', () => {
    const { member, shown, fail, intents, status } = serfOn();
    fail();
    member.forceLeave('b', false);
    expect(status('b')).toBe('left');
    expect(shown.filter((e) => e.member.name === 'b').map((e) => e.type)).toEqual(['failed', 'left']);
    expect(intents()).toMatchObject([{ key: 'serf-leave:b', type: 'leave', node: 'b', prune: false }]);
  });

  it('with prune the member is removed from the core and the departed list at once, with a reap report', () => {
    const { h, member, reports, fail, intents } = serfOn();
    fail();
    member.forceLeave('b', true);
    expect(h.node.member('b')).toBeUndefined();
    expect(member.departed()).toEqual([]);
    expect(reports.filter((r) => r.kind === 'reap').map((r) => [r.member.name, r.member.status])).toEqual([['b', 'left']]);
    expect(intents()).toMatchObject([{ node: 'b', prune: true }]);
  });

  it('a left member can still be pruned', () => {
    const { member, reports, fail } = serfOn();
    fail();
    member.forceLeave('b', false);
    member.forceLeave('b', true);
    expect(member.departed()).toEqual([]);
    expect(reports.filter((r) => r.kind === 'reap')).toHaveLength(1);
  });

  it('an intent from a peer is applied and gossiped on once: a repeat or an older one is not', () => {
    const { member, shown, fail, intents, status } = serfOn();
    fail();
    member.receiveUser(leaveIntent('b', 10n));
    expect(status('b')).toBe('left');
    expect(intents()).toHaveLength(1);
    member.receiveUser(leaveIntent('b', 10n));
    member.receiveUser(leaveIntent('b', 9n, true));
    expect(intents()).toHaveLength(1);
    expect(status('b')).toBe('left');
    expect(shown.filter((e) => e.type === 'left')).toHaveLength(1);
    // A newer one (a prune asked later) is taken.
    member.receiveUser(leaveIntent('b', 11n, true));
    expect(status('b')).toBeUndefined();
    expect(intents()).toHaveLength(2);
  });

  it('the intent carries a time after every member time seen, and its own echo is not taken again', () => {
    const { member, fail, intents } = serfOn();
    fail();
    member.receiveUser(leaveIntent('c', 41n)); // about a member not listed here: only the clock moves
    expect(intents()).toEqual([]);
    member.forceLeave('b', false);
    const [sent] = intents();
    expect(sent!.type === 'leave' && sent!.ltime > 41n).toBe(true);
    member.receiveUser(leaveIntent('b', (sent as { ltime: bigint }).ltime));
    expect(intents()).toHaveLength(1);
  });

  it('about an alive member, the status is memberlist’s to judge: it stays alive (the intent still goes on)', () => {
    const { member, shown, intents, status } = serfOn();
    member.receiveUser(leaveIntent('b', 5n, true));
    expect(status('b')).toBe('alive');
    expect(shown.filter((e) => e.member.name === 'b')).toEqual([]);
    expect(intents()).toHaveLength(1);
  });

  it('about this node while it runs, the intent is refuted with a join intent', () => {
    const { h, member, stepped, intents } = serfOn();
    member.receiveUser(leaveIntent('a', 7n));
    expect(h.node.member('a')?.status).toBe('alive');
    expect(intents()).toEqual([]);
    const joins = stepped.flatMap((input) => (input.kind === 'broadcast' ? [decodeSerfMessage(input.payload)] : []));
    expect(joins).toMatchObject([{ type: 'join', node: 'a' }]);
    expect((joins[0] as { ltime: bigint }).ltime > 7n).toBe(true);
  });

  it('a failed member the core already forgot is made left in the departed list, with a `left` report', () => {
    const { h, member, reports, fail, status } = serfOn();
    fail();
    h.advanceTo(120_000);
    expect(h.node.member('b')).toBeUndefined();
    member.forceLeave('b', false);
    expect(status('b')).toBe('left');
    expect(reports.filter((r) => r.kind === 'left').map((r) => [r.member.name, r.member.since])).toEqual([['b', 120_000]]);
    member.forceLeave('b', true);
    expect(member.departed()).toEqual([]);
    expect(reports.filter((r) => r.kind === 'reap').map((r) => r.member.name)).toEqual(['b']);
  });

  it('a node that missed the intent learns it from a peer’s `left` record (the core turns failed into left)', () => {
    const { h, shown, fail } = serfOn();
    fail();
    // As push/pull merges a `left` record: a dead from the member itself.
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'b' });
    expect(h.node.member('b')?.status).toBe('left');
    expect(shown.filter((e) => e.member.name === 'b').map((e) => e.type)).toEqual(['failed', 'left']);
  });

  it('the core’s forceLeave input leaves an alive or suspect member as it is', () => {
    const { h } = serfOn();
    h.input({ kind: 'forceLeave', node: 'b', prune: true });
    expect(h.node.member('b')?.status).toBe('alive');
    h.gossip({ type: 'suspect', node: 'b', incarnation: 3, from: 'c' });
    h.input({ kind: 'forceLeave', node: 'b', prune: true });
    expect(h.node.member('b')?.status).toBe('suspect');
  });
});
