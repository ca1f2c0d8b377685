/**
 * The hybrid detector and pinned members (src/core/heartbeat.ts) on the fake clock: direct
 * heartbeats (pings) to every member while the cluster is at most hybridThreshold, gossiped
 * tables above it, acks within rttBoundMs as signs of life, and per-member smoothed RTT.
 */
import { describe, expect, it } from 'vitest';
import type { Address, ProtocolConfig } from '../../packages/hearsay/src/core/index.js';
import { addressOf, Harness, HEARTBEAT_CONFIG, members, type Responder } from './harness.js';

const CONFIG: Partial<ProtocolConfig> = { ...HEARTBEAT_CONFIG, hybridThreshold: 10, rttBoundMs: 300 };

/** Acks every direct heartbeat after `delay(target)` ms, except to the silent ones. */
function ackAfter(delay: (target: Address) => number, silent: readonly string[] = []): Responder {
  return (h, at, output) => {
    if (output.kind !== 'packet') return;
    for (const message of output.messages) {
      if (message.type !== 'ping' || silent.includes(message.node)) continue;
      h.deliver(at + delay(output.to), { kind: 'packet', from: output.to, messages: [{ type: 'ack', seqNo: message.seqNo }] });
    }
  };
}

describe('hybrid detector', () => {
  it('below the threshold pings every live member once per period and gossips no table', () => {
    const others = members(6);
    const h = new Harness({ protocol: 'hybrid', config: CONFIG, preload: others }).respond(ackAfter(() => 20));
    h.advanceTo(10_500);
    expect(h.node.allToAll).toBe(true);
    expect(h.sent('heartbeats')).toHaveLength(0);
    const pings = h.sent('ping');
    const rounds = [...new Set(pings.map((p) => p.at))];
    expect(rounds.length).toBeGreaterThanOrEqual(10);
    for (const at of rounds) {
      expect(
        pings
          .filter((p) => p.at === at)
          .map((p) => p.message.node)
          .sort(),
      ).toEqual(others.map((p) => p.name).sort());
    }
    expect(h.node.stats.directHeartbeatsSent).toBe(pings.length);
    expect(h.node.stats.directAcks).toBe(pings.length);
    for (const p of others) expect(h.status(p.name)).toBe('alive');
  });

  it('above the threshold gossips tables to M members and sends no direct heartbeat', () => {
    const h = new Harness({ protocol: 'hybrid', config: { ...CONFIG, hybridThreshold: 5 }, preload: members(6) });
    h.advanceTo(3500);
    expect(h.node.allToAll).toBe(false);
    expect(h.sent('ping')).toHaveLength(0);
    const rounds = new Set(h.sent('heartbeats').map((s) => s.at));
    for (const at of rounds) expect(h.sent('heartbeats').filter((s) => s.at === at)).toHaveLength(3);
  });

  it('switches to direct heartbeats when failures bring the live members down to the threshold', () => {
    // 7 live members with H = 6: gossip; m1 never answers anything, so it fails and the
    // cluster is small enough for direct heartbeats.
    const h = new Harness({ protocol: 'hybrid', config: { ...CONFIG, hybridThreshold: 6 }, preload: members(6) });
    h.advanceTo(5000);
    expect(h.node.allToAll).toBe(false);
    h.advanceTo(10_500);
    expect(h.events(0, 'failed').length).toBe(6); // nobody sends tables in this one-node world
    expect(h.node.allToAll).toBe(true);
  });

  it('an ack within the RTT bound keeps a member alive and measures its round trip', () => {
    const others = members(3);
    const h = new Harness({ protocol: 'hybrid', config: CONFIG, preload: others }).respond(ackAfter((to) => (to.host === others[0]!.host ? 40 : 120)));
    h.advanceTo(30_000);
    expect(h.events(0, 'suspect')).toEqual([]);
    expect(h.node.member('m1')!.rttMs).toBeCloseTo(40, 6);
    expect(h.node.member('m2')!.rttMs).toBeCloseTo(120, 6);
    expect(
      h
        .ofKind('rtt')
        .filter((r) => r.member === 'm1')
        .every((r) => r.ms === 40),
    ).toBe(true);
  });

  it('an ack later than the RTT bound is no sign of life: the member fails on schedule', () => {
    const others = members(2);
    const h = new Harness({ protocol: 'hybrid', config: CONFIG, preload: others }).respond(ackAfter((to) => (to.host === others[0]!.host ? 301 : 299)));
    h.advanceTo(20_000);
    // The tracks start at 0, the preload; with no sign of life m1 is suspect at 5 s, failed at 10 s.
    expect(h.events(0, 'suspect', 'm1').map((e) => e.at)).toEqual([5000]);
    expect(h.events(0, 'failed', 'm1').map((e) => e.at)).toEqual([10_000]);
    expect(h.status('m2')).toBe('alive');
    expect(h.node.stats.directAcksLate).toBeGreaterThan(0);
    expect(h.node.member('m1')!.rttMs).toBeUndefined();
  });

  it('a ping from a member is a sign of life even when its acks are lost', () => {
    const others = members(1);
    const h = new Harness({ protocol: 'hybrid', config: CONFIG, preload: others });
    for (let at = 700; at < 30_000; at += 1000) {
      h.input(
        {
          kind: 'packet',
          from: addressOf(others[0]!),
          messages: [{ type: 'ping', seqNo: at, node: 'self', source: { name: 'm1', host: others[0]!.host, port: others[0]!.port } }],
        },
        at,
      );
    }
    h.advanceTo(30_000);
    expect(h.status('m1')).toBe('alive');
    expect(h.events(0, 'suspect')).toEqual([]);
    // …and it is answered, so that m1 can judge this node too.
    expect(h.sent('ack').length).toBe(30);
  });

  it('a suspect member that answers again is alive, with an alive event', () => {
    const others = members(1);
    let answering = false;
    const h = new Harness({ protocol: 'hybrid', config: CONFIG, preload: others }).respond((hh, at, output) => {
      if (answering) ackAfter(() => 10)(hh, at, output);
    });
    h.advanceTo(6000);
    expect(h.status('m1')).toBe('suspect');
    answering = true;
    h.advanceTo(8000);
    expect(h.status('m1')).toBe('alive');
    expect(h.events(0, 'alive', 'm1')).toHaveLength(1);
    expect(h.events(0, 'failed')).toEqual([]);
  });
});

describe('pinned members', () => {
  it('get a direct heartbeat every period in gossip mode too, beside the tables', () => {
    const h = new Harness({ protocol: 'heartbeat', config: CONFIG, preload: members(20), pinned: ['m3', 'm7', 'nobody'] }).respond(ackAfter(() => 15));
    h.advanceTo(5500);
    const pinged = h.sent('ping').map((p) => p.message.node);
    expect(new Set(pinged)).toEqual(new Set(['m3', 'm7']));
    expect(pinged.filter((n) => n === 'm3')).toHaveLength(5);
    expect(h.sent('heartbeats').length).toBeGreaterThan(0);
    expect(h.node.member('m3')!.rttMs).toBe(15);
    expect(h.node.member('m4')!.rttMs).toBeUndefined();
  });

  it('can be replaced at run time by a pin input', () => {
    const h = new Harness({ protocol: 'heartbeat', config: CONFIG, preload: members(5), pinned: ['m1'] });
    h.advanceTo(2000);
    h.input({ kind: 'pin', names: ['m2', 'm2'] });
    expect(h.node.pinned).toEqual(['m2']);
    const mark = h.mark();
    h.advanceTo(4000);
    expect(new Set(h.sent('ping', mark).map((p) => p.message.node))).toEqual(new Set(['m2']));
  });
});
