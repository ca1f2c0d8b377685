/**
 * The heartbeat gossip failure detector (src/core/heartbeat.ts) on the fake clock: one node in
 * heartbeat mode, the rest of the cluster played by hand-made heartbeat tables.
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  PhiAccrual,
  PROFILES,
  resolveConfig,
  type HeartbeatEntry,
  type MemberProfile,
  type Status,
  type ProtocolConfig,
} from '../../packages/hearsay/src/core/index.js';
import { encodePacket } from '../../packages/hearsay/src/wire/index.js';
import { Harness, HEARTBEAT_CONFIG, members, Network, profileOf } from './harness.js';

const CONFIG = HEARTBEAT_CONFIG;

function entry(profile: MemberProfile, generation: number, heartbeat: number, status: Status = 'alive'): HeartbeatEntry {
  return { profile, generation, heartbeat, status };
}

function node(options: { preload?: MemberProfile[]; config?: Partial<ProtocolConfig> } = {}): Harness {
  return new Harness({
    protocol: 'heartbeat',
    config: { ...CONFIG, ...options.config },
    ...(options.preload ? { preload: options.preload } : {}),
  });
}

/** Feeds one heartbeat table from an anonymous peer at time `at`. */
function table(h: Harness, at: number, ...entries: HeartbeatEntry[]): void {
  h.input({ kind: 'packet', from: { host: '10.9.9.9', port: 7946 }, messages: [{ type: 'heartbeats', entries }] }, at);
}

const peer = profileOf('peer', '10.2.0.1');

describe('heartbeat detector: sending', () => {
  it('bumps its own heartbeat and sends the whole table to M random live members every period', () => {
    const others = members(6);
    const h = node({ preload: others });
    h.advanceTo(10_500);
    const sent = h.sent('heartbeats');
    expect(h.sent('ping')).toHaveLength(0); // the SWIM prober does not run
    const rounds = [...new Set(sent.map((s) => s.at))].sort((a, b) => a - b);
    expect(rounds.length).toBeGreaterThanOrEqual(10);
    for (let i = 1; i < rounds.length; i++) expect(rounds[i]! - rounds[i - 1]!).toBeCloseTo(1000, 6);
    rounds.forEach((at, i) => {
      const round = sent.filter((s) => s.at === at);
      expect(round).toHaveLength(3);
      expect(new Set(round.map((s) => s.to.host)).size).toBe(3);
      for (const { message, to } of round) {
        expect(to.host).not.toBe(h.self.host);
        expect(message.entries.map((e) => e.profile.name).sort()).toEqual(['self', ...others.map((p) => p.name)].sort());
        expect(message.entries.find((e) => e.profile.name === 'self')!.heartbeat).toBe(i + 1);
        expect(message.entries.every((e) => e.generation === 1)).toBe(true);
      }
    });
    expect(h.node.heartbeatOf('self')).toBe(rounds.length);
  });

  it('uses the node incarnation as its generation', () => {
    const h = new Harness({ protocol: 'heartbeat', config: CONFIG, incarnation: 42, preload: members(2) });
    h.advanceTo(2000);
    const self = h.sent('heartbeats')[0]!.message.entries.find((e) => e.profile.name === 'self')!;
    expect(self.generation).toBe(42);
  });

  it('splits a large table across packets, each within udpBufferSize', () => {
    const others = members(120, 'a-rather-long-member-name-');
    const h = node({ preload: others });
    h.advanceTo(1000);
    const packets = h.packets().filter((p) => p.messages[0]?.type === 'heartbeats');
    const targets = new Set(packets.map((p) => p.to.host));
    expect(targets.size).toBe(3);
    for (const host of targets) {
      const mine = packets.filter((p) => p.to.host === host);
      expect(mine.length).toBeGreaterThan(1);
      const names: string[] = [];
      for (const p of mine) {
        expect(p.messages).toHaveLength(1);
        expect(encodePacket(p.messages, { crc: p.crc, compress: false }).length).toBeLessThanOrEqual(h.config.udpBufferSize);
        const m = p.messages[0]!;
        if (m.type === 'heartbeats') names.push(...m.entries.map((e) => e.profile.name));
      }
      expect(names.sort()).toEqual(['self', ...others.map((p) => p.name)].sort());
    }
  });
});

describe('heartbeat detector: judging', () => {
  it('adds an unknown member from a table (join), but not one the table says failed', () => {
    const h = node();
    const dead = profileOf('dead', '10.2.0.2');
    table(h, 100, entry(peer, 1, 7), entry(dead, 1, 9, 'failed'));
    expect(h.events(0, 'join', 'peer')).toHaveLength(1);
    expect(h.status('peer')).toBe('alive');
    expect(h.node.heartbeatOf('peer')).toBe(7);
    expect(h.node.member('dead')).toBeUndefined();
  });

  it('a silent member goes suspect exactly suspectAfter and failed exactly failAfter after its last rise', () => {
    const h = node();
    table(h, 100, entry(peer, 1, 1));
    table(h, 2000, entry(peer, 1, 5));
    table(h, 3000, entry(peer, 1, 5)); // no rise: not news
    h.advanceTo(6999);
    expect(h.status('peer')).toBe('alive');
    h.advanceTo(7000);
    expect(h.events(0, 'suspect', 'peer').map((e) => e.at)).toEqual([7000]);
    h.advanceTo(11_999);
    expect(h.status('peer')).toBe('suspect');
    h.advanceTo(12_000);
    expect(h.events(0, 'failed', 'peer').map((e) => e.at)).toEqual([12_000]);
    // Verdicts are local: nothing about them is gossiped.
    expect(h.sent('suspect')).toHaveLength(0);
    expect(h.sent('dead')).toHaveLength(0);
  });

  it('a rising heartbeat revives a suspect (alive event), and silence counts again from the rise', () => {
    const h = node();
    table(h, 0, entry(peer, 1, 1));
    h.advanceTo(5000);
    expect(h.status('peer')).toBe('suspect');
    table(h, 8000, entry(peer, 1, 2));
    expect(h.events(0, 'alive', 'peer').map((e) => e.at)).toEqual([8000]);
    expect(h.status('peer')).toBe('alive');
    h.advanceTo(12_999);
    expect(h.events(0, 'failed', 'peer')).toHaveLength(0);
    h.advanceTo(13_000);
    expect(h.events(0, 'suspect', 'peer').map((e) => e.at)).toEqual([5000, 13_000]);
  });

  it('ignores gossiped suspicions and deaths: each node judges for itself', () => {
    const h = node();
    table(h, 0, entry(peer, 1, 1));
    h.gossip({ type: 'suspect', node: 'peer', incarnation: 1, from: 'x' }, { type: 'dead', node: 'peer', incarnation: 1, from: 'x' });
    expect(h.status('peer')).toBe('alive');
    // A peer's table saying "suspect" is its verdict, not ours.
    table(h, 1000, entry(peer, 1, 2, 'suspect'));
    expect(h.status('peer')).toBe('alive');
    expect(h.node.heartbeatOf('peer')).toBe(2);
  });

  it('keeps a failed member as a tombstone: an old table of the same generation does not resurrect it', () => {
    const h = node();
    table(h, 0, entry(peer, 1, 1));
    h.advanceTo(10_000);
    expect(h.status('peer')).toBe('failed');
    const mark = h.mark();
    table(h, 11_000, entry(peer, 1, 500));
    h.gossip({ type: 'alive', incarnation: 1, profile: peer });
    h.advanceTo(20_000);
    expect(h.status('peer')).toBe('failed');
    expect(h.events(mark)).toHaveLength(0);
  });

  it('accepts a higher generation after a failure (join), and then judges it afresh', () => {
    const h = node();
    table(h, 0, entry(peer, 1, 1));
    h.advanceTo(10_000);
    expect(h.status('peer')).toBe('failed');
    // A failed record of the new generation is no evidence either.
    table(h, 10_500, entry(peer, 2, 3, 'failed'));
    expect(h.status('peer')).toBe('failed');
    table(h, 11_000, entry(peer, 2, 1));
    expect(h.events(0, 'join', 'peer').map((e) => e.at)).toEqual([0, 11_000]);
    expect(h.status('peer')).toBe('alive');
    expect(h.incarnationOf('peer')).toBe(2);
    // An older generation is ignored from now on.
    table(h, 12_000, entry(peer, 1, 900));
    expect(h.node.heartbeatOf('peer')).toBe(1);
    h.advanceTo(16_000);
    expect(h.events(0, 'suspect', 'peer').map((e) => e.at)).toEqual([5000, 16_000]);
  });

  it('a higher generation also overrides a suspect (alive event, no failure)', () => {
    const h = node();
    table(h, 0, entry(peer, 1, 1));
    h.advanceTo(6000);
    table(h, 6000, entry(peer, 5, 1));
    expect(h.events(0, 'alive', 'peer').map((e) => e.at)).toEqual([6000]);
    h.advanceTo(10_500);
    expect(h.events(0, 'failed', 'peer')).toHaveLength(0);
  });

  it('forgets a failed member cleanupAfter after the verdict', () => {
    const h = node();
    table(h, 0, entry(peer, 1, 1));
    h.advanceTo(10_000);
    h.advanceTo(69_999);
    expect(h.status('peer')).toBe('failed');
    h.advanceTo(70_000);
    expect(h.node.member('peer')).toBeUndefined();
    // A tombstone elsewhere does not bring it back.
    table(h, 71_000, entry(peer, 1, 1, 'failed'));
    expect(h.node.member('peer')).toBeUndefined();
  });

  it('phi mode: suspect when phi reaches the threshold, failed when also silent for failAfter', () => {
    const h = node({ config: { phiThreshold: 8, suspectAfterMs: 1000, failAfterMs: 10_000 } });
    const reference = new PhiAccrual({ threshold: 8, firstHeartbeatEstimateMs: 1000 });
    let last = 0;
    for (let i = 0; i <= 20; i++) {
      last = i * 1000;
      table(h, last, entry(peer, 1, i + 1));
      reference.heartbeat(last);
    }
    // suspectAfterMs (1 s) is not the rule in phi mode.
    h.advanceTo(last + 2000);
    expect(h.status('peer')).toBe('alive');
    h.runUntil(() => h.status('peer') === 'suspect');
    const suspectAt = h.events(0, 'suspect', 'peer')[0]!.at;
    expect(reference.phi(suspectAt)).toBeGreaterThanOrEqual(8);
    expect(reference.phi(suspectAt - 0.01)).toBeLessThan(8);
    expect(suspectAt - last).toBeGreaterThan(2000);
    h.advanceTo(last + 9999);
    expect(h.status('peer')).toBe('suspect');
    h.advanceTo(last + 10_000);
    expect(h.events(0, 'failed', 'peer').map((e) => e.at)).toEqual([last + 10_000]);
  });

  it('phi mode: an irregular history raises the bar (no suspicion at the regular crossing)', () => {
    const regular = node({ config: { phiThreshold: 8 } });
    const irregular = node({ config: { phiThreshold: 8 } });
    const gaps = [200, 1800, 300, 2500, 100, 2900, 400, 1700];
    let a = 0;
    let b = 0;
    for (let i = 0; i < 16; i++) {
      a += 1000;
      b += gaps[i % gaps.length]!;
      table(regular, a, entry(peer, 1, i + 1));
      table(irregular, b, entry(peer, 1, i + 1));
    }
    regular.runUntil(() => regular.status('peer') === 'suspect');
    irregular.runUntil(() => irregular.status('peer') === 'suspect');
    const regularSilence = regular.events(0, 'suspect', 'peer')[0]!.at - a;
    const irregularSilence = irregular.events(0, 'suspect', 'peer')[0]!.at - b;
    expect(irregularSilence).toBeGreaterThan(regularSilence);
  });
});

describe('heartbeat detector: configuration and selection', () => {
  it('has the heartbeat settings in every profile, with the documented defaults', () => {
    for (const profile of Object.values(PROFILES)) {
      expect(profile).toMatchObject({
        heartbeatIntervalMs: 1000,
        heartbeatFanout: 3,
        suspectAfterMs: 5000,
        failAfterMs: 10_000,
        cleanupAfterMs: 60_000,
        phiThreshold: 0,
      });
    }
  });

  it('validates the heartbeat settings like the others', () => {
    expect(() => resolveConfig('lan', { heartbeatIntervalMs: 0 })).toThrow(ConfigError);
    expect(() => resolveConfig('lan', { heartbeatFanout: 0 })).toThrow(ConfigError);
    expect(() => resolveConfig('lan', { heartbeatFanout: 2.5 })).toThrow(ConfigError);
    expect(() => resolveConfig('lan', { phiThreshold: -1 })).toThrow(ConfigError);
    expect(() => resolveConfig('lan', { suspectAfterMs: 8000, failAfterMs: 4000 })).toThrow(/failAfterMs/);
    expect(resolveConfig('lan', { phiThreshold: 10, cleanupAfterMs: 0 })).toMatchObject({ phiThreshold: 10, cleanupAfterMs: 0 });
  });

  it('a SWIM node (the default) ignores heartbeat tables and sends none', () => {
    const h = new Harness({ config: CONFIG, preload: members(3) });
    expect(h.node.protocol).toBe('swim');
    const ignored = h.node.stats.messagesIgnored;
    table(h, 100, entry(peer, 1, 1));
    expect(h.node.member('peer')).toBeUndefined();
    expect(h.node.stats.messagesIgnored).toBe(ignored + 1);
    h.advanceTo(5000);
    expect(h.sent('heartbeats')).toHaveLength(0);
    expect(h.probes().length).toBeGreaterThan(0);
  });

  it('a graceful leave still applies in heartbeat mode, and the leaver stops its heartbeat', () => {
    const h = node();
    table(h, 0, entry(peer, 1, 1));
    h.gossip({ type: 'dead', node: 'peer', incarnation: 1, from: 'peer' });
    expect(h.status('peer')).toBe('left');
    expect(h.events(0, 'left', 'peer')).toHaveLength(1);
    table(h, 100, entry(profileOf('other', '10.2.0.3'), 1, 1));
    h.input({ kind: 'leave', timeoutMs: 0 }, 200);
    const mark = h.mark();
    h.advanceTo(5000);
    expect(h.sent('heartbeats', mark)).toHaveLength(0);
  });
});

describe('heartbeat detector: a healed partition', () => {
  it('the two sides take each other back long before their tombstones expire', () => {
    const net = new Network();
    const config = { ...CONFIG, cleanupAfterMs: 600_000, reconnectIntervalMs: 5000 };
    const nodes = [0, 1, 2, 3, 4, 5].map((i) => net.add(new Harness({ name: `n${i}`, host: `10.0.0.${i + 1}`, seed: i + 1, protocol: 'heartbeat', config })));
    for (const h of nodes) h.node.preload(nodes.filter((x) => x !== h).map((x) => ({ profile: x.self, incarnation: 1 })));
    const side = (h: Harness) => nodes.indexOf(h) < 3;
    net.advanceTo(5000);
    net.drop = (from, to) => side(from) !== side(net.byAddress(to)!);
    net.advanceTo(40_000);
    for (const h of nodes) {
      expect(h.node.members().filter((m) => m.status === 'failed')).toHaveLength(3);
    }
    net.drop = () => false;
    const marks = nodes.map((h) => h.mark());
    net.advanceTo(160_000);
    for (const h of nodes) {
      // Back as a new generation (a join), everyone alive; the tombstones had 10 minutes to go.
      expect([h.name, h.node.members().filter((m) => m.status === 'alive').length]).toEqual([h.name, 6]);
      expect(h.events(marks[nodes.indexOf(h)], 'join').length).toBe(3);
    }
  });
});
