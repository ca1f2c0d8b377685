/**
 * Failure provenance (core/verdicts.ts), degraded pairs and view digests (core/views.ts,
 * MemberTable.digest), on the fake clock: each verdict carries who raised it and on what evidence.
 */
import { describe, expect, it } from 'vitest';
import { createRandom, MemberTable, Registry } from '../../packages/hearsay/src/core/index.js';
import { ALIVE, FAILED, LEFT, SUSPECT } from '../../packages/hearsay/src/core/member-table.js';
import { ackPings, answerIndirectPings, Harness, members, profileOf } from './harness.js';

const T = profileOf('t', '10.0.0.20');
const HELPERS = members(3, 'h');

describe('failure provenance', () => {
  it('explains this node’s own verdict: direct ping timed out, every helper nacked, TCP got no answer, then the suspicion timed out', () => {
    const h = new Harness({ seed: 3, preload: [T, ...HELPERS] }).respond(ackPings({ silent: ['t'] }), answerIndirectPings('nack'));
    h.runUntil(() => h.status('t') === 'failed');
    const [record, ...rest] = h.node.history('t');
    expect(rest).toEqual([]);
    expect(record).toMatchObject({ member: 't', incarnation: 1, accuser: 'self', own: true, healthScore: 0, heartbeat: null, returnedAt: null });
    expect(record!.probe).toMatchObject({ directTimeoutMs: 500, waitedMs: 1000, tcp: 'no answer' });
    expect(record!.probe!.helpers.map((helper) => helper.answer)).toEqual(['nack', 'nack', 'nack']);
    expect(new Set(record!.probe!.helpers.map((helper) => helper.name))).toEqual(new Set(['h1', 'h2', 'h3']));
    expect(record!.probe!.sentAt + 1000).toBe(record!.suspectedAt);
    // 5 members: the suspicion starts at its maximum, 6 × 4 s, with 2 confirmations expected.
    expect(record!.timeout).toEqual({ minMs: 4000, maxMs: 24_000, confirmationsExpected: 2 });
    expect(record!.outcome).toEqual({ kind: 'failed', at: record!.suspectedAt! + 24_000, by: 'self', incarnation: 1 });
  });

  it('records a rumour’s accuser, each confirmation with its new deadline, and the refutation', () => {
    const h = new Harness({ seed: 3, preload: [T, ...HELPERS] }).respond(ackPings());
    h.gossip({ type: 'suspect', node: 't', incarnation: 1, from: 'h1' });
    const suspectedAt = h.now;
    h.advanceBy(1000);
    h.gossip({ type: 'suspect', node: 't', incarnation: 1, from: 'h2' });
    h.gossip({ type: 'suspect', node: 't', incarnation: 1, from: 'h2' }); // the same accuser again: no confirmation
    h.advanceBy(1000);
    h.gossip({ type: 'alive', incarnation: 2, profile: T });
    const [record] = h.node.history('t');
    expect(record).toMatchObject({ accuser: 'h1', own: false, probe: null, suspectedAt });
    expect(record!.confirmations).toEqual([{ from: 'h2', at: suspectedAt + 1000, deadline: expect.any(Number) }]);
    expect(record!.confirmations[0]!.deadline).toBeLessThan(suspectedAt + 24_000);
    expect(record!.outcome).toEqual({ kind: 'refuted', at: suspectedAt + 2000, incarnation: 2 });
  });

  it('attaches this node’s own probe evidence to its confirmation of a suspicion someone else raised', () => {
    const h = new Harness({ seed: 3, preload: [T, ...HELPERS] }).respond(ackPings({ silent: ['t'] }), answerIndirectPings('nack'));
    h.gossip({ type: 'suspect', node: 't', incarnation: 1, from: 'h1' });
    h.runUntil(() => h.node.history('t')[0]!.confirmations.length > 0);
    const [confirmation] = h.node.history('t')[0]!.confirmations;
    expect(confirmation).toMatchObject({ from: 'self', probe: { directTimeoutMs: 500, tcp: 'no answer' } });
    expect(confirmation!.probe!.helpers.map((helper) => helper.answer)).toEqual(['nack', 'nack', 'nack']);
  });

  it('records a failure heard from another node without a suspicion here, and the member’s return', () => {
    const h = new Harness({ seed: 3, preload: [T, ...HELPERS] }).respond(ackPings());
    h.gossip({ type: 'dead', node: 't', incarnation: 1, from: 'h3' });
    h.advanceBy(500);
    h.gossip({ type: 'alive', incarnation: 5, profile: T });
    expect(h.node.history('t')).toEqual([
      expect.objectContaining({
        suspectedAt: null,
        accuser: 'h3',
        own: false,
        outcome: { kind: 'failed', at: 0, by: 'h3', incarnation: 1 },
        returnedAt: 500,
      }),
    ]);
  });

  it('records a graceful leave as the member’s own', () => {
    const h = new Harness({ seed: 3, preload: [T, ...HELPERS] }).respond(ackPings());
    h.gossip({ type: 'dead', node: 't', incarnation: 1, from: 't' });
    expect(h.node.history('t')).toEqual([expect.objectContaining({ accuser: 't', outcome: { kind: 'left', at: 0 } })]);
  });

  it('keeps at most 16 episodes per member, the latest', () => {
    const h = new Harness({ seed: 3, preload: [T, ...HELPERS] }).respond(ackPings());
    for (let incarnation = 1; incarnation <= 20; incarnation += 2) {
      h.gossip({ type: 'suspect', node: 't', incarnation, from: 'h1' });
      h.gossip({ type: 'alive', incarnation: incarnation + 1, profile: T });
      h.gossip({ type: 'suspect', node: 't', incarnation: incarnation + 1, from: 'h2' });
      h.gossip({ type: 'alive', incarnation: incarnation + 2, profile: T });
    }
    const history = h.node.history('t');
    expect(history).toHaveLength(16);
    expect(history.at(-1)!.outcome).toMatchObject({ kind: 'refuted', incarnation: 21 });
  });

  it('explains a heartbeat detector’s verdict by how long the heartbeat had not risen', () => {
    const h = new Harness({ seed: 3, protocol: 'heartbeat', preload: [T, ...HELPERS] });
    h.runUntil(() => h.status('t') === 'suspect');
    const [record] = h.node.history('t');
    expect(record).toMatchObject({ own: true, accuser: 'self', probe: null, timeout: null });
    expect(record!.heartbeat!.silentForMs).toBeGreaterThan(0);
  });
});

describe('degraded pairs', () => {
  it('a member answering only through helpers twice in a row is a degraded pair, until a direct ack', () => {
    let direct = false;
    const h = new Harness({ seed: 5, preload: [T, ...HELPERS] }).respond(ackPings({ silent: ['t'] }), answerIndirectPings('ack'), (harness, at, output) => {
      if (!direct || output.kind !== 'packet') return;
      for (const m of output.messages) {
        if (m.type === 'ping' && m.node === 't') harness.deliver(at + 5, { kind: 'packet', from: output.to, messages: [{ type: 'ack', seqNo: m.seqNo }] });
      }
    });
    h.runUntil(() => h.ofKind('degraded').length > 0, 60_000);
    expect(h.ofKind('degraded')).toEqual([expect.objectContaining({ member: 't', degraded: true })]);
    expect(h.node.degradedPeers()).toEqual([{ member: 't', since: h.ofKind('degraded')[0]!.at }]);
    expect(h.status('t')).toBe('alive');
    direct = true;
    h.runUntil(() => h.ofKind('degraded').length > 1, 60_000);
    expect(h.ofKind('degraded')[1]).toMatchObject({ member: 't', degraded: false });
    expect(h.node.degradedPeers()).toEqual([]);
  });
});

describe('view digests', () => {
  function table(entries: [string, number, number][]): MemberTable {
    const registry = new Registry();
    const t = new MemberTable(registry);
    const rng = createRandom(entries.length);
    for (const [name, incarnation, status] of entries) {
      t.insert(registry.nameId(name), registry.profileId(profileOf(name, '10.0.0.1')), incarnation, status as 0, 0, rng);
    }
    return t;
  }

  it('depends on which members are up at which incarnation, not on order, suspicion or tombstones', () => {
    const a = table([
      ['a', 1, ALIVE],
      ['b', 2, ALIVE],
      ['c', 3, SUSPECT],
    ]);
    const b = table([
      ['c', 3, ALIVE],
      ['a', 1, ALIVE],
      ['b', 2, ALIVE],
      ['d', 9, FAILED],
      ['e', 4, LEFT],
    ]);
    expect(a.digest).toBe(b.digest);
    const before = a.digest;
    a.setIncarnation(a.find('b'), 3);
    expect(a.digest).not.toBe(before);
    a.setIncarnation(a.find('b'), 2);
    expect(a.digest).toBe(before);
    a.setStatus(a.find('c'), FAILED, 0);
    expect(a.digest).not.toBe(before);
    a.setStatus(a.find('c'), ALIVE, 0);
    expect(a.digest).toBe(before);
    a.removeAt(a.find('a'));
    expect(a.digest).not.toBe(before);
  });

  it('rides on pings and acks; a node counts the distinct views its peers sent lately', () => {
    const h = new Harness({ seed: 3, preload: [T, ...HELPERS] });
    const own = h.node.views().digest;
    expect(h.node.views()).toEqual({ digest: own, distinct: 1, agreeing: 0, differing: [] });
    h.packet(T, { type: 'ping', seqNo: 1, node: 'self', source: { name: 't', host: T.host, port: T.port }, digest: own });
    h.packet(HELPERS[0]!, { type: 'ping', seqNo: 2, node: 'self', source: { name: 'h1', host: HELPERS[0]!.host, port: HELPERS[0]!.port }, digest: own + 1 });
    expect(h.node.views()).toEqual({ digest: own, distinct: 2, agreeing: 1, differing: ['h1'] });
    const [ack] = h.packets().filter((p) => p.messages[0]?.type === 'ack');
    expect(ack!.messages[0]).toMatchObject({ digest: own });
    // Ten probe intervals later, what was heard no longer counts.
    h.advanceBy(10_001);
    h.input({ kind: 'tick' });
    expect(h.node.views()).toMatchObject({ distinct: 1, differing: [] });
  });
});

describe('probe timeouts from measured round trips (probeTimeoutFromRtt)', () => {
  /** When the indirect pings of the first probe of `t` that t does not answer went out, after that probe. */
  function indirectDelay(probeTimeoutFromRtt: boolean): number {
    let answered = 0;
    const h = new Harness({ seed: 3, preload: [T], config: { probeTimeoutFromRtt } }).respond((harness, at, output) => {
      if (output.kind !== 'packet') return;
      for (const m of output.messages) {
        if (m.type !== 'ping' || m.node !== 't' || answered >= 4) continue;
        answered++;
        harness.deliver(at + 5, { kind: 'packet', from: output.to, messages: [{ type: 'ack', seqNo: m.seqNo }] });
      }
    });
    const tcpPings = () => h.streams().filter((s) => s.message.type === 'ping');
    h.runUntil(() => tcpPings().length > 0, 60_000);
    // The TCP ping goes out with the indirect probe: t has no helper to ask here.
    const [tcp] = tcpPings();
    const probe = h.probes().find((p) => p.node === 't' && tcp!.message.type === 'ping' && p.seqNo === tcp!.message.seqNo)!;
    return tcp!.at - probe.at;
  }

  it('waits probeTimeoutMs for a direct ack by default, and the member’s own measure (here the floor, 50 ms) when on', () => {
    expect(indirectDelay(false)).toBe(500);
    expect(indirectDelay(true)).toBe(50);
  });
});
