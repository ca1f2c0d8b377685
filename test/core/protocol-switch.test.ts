/**
 * Switching the failure detector at run time (src/core/node.ts): a `setProtocol` input spreads
 * to the whole cluster as a protocolSwitch message, the highest (epoch, origin) wins, nodes that
 * missed it catch up, and the membership table survives every switch.
 */
import { describe, expect, it } from 'vitest';
import type { Protocol, ProtocolSwitchMessage, ProtocolConfig } from '../../packages/hearsay/src/core/index.js';
import { ackPings, addressOf, Harness, members, Network } from './harness.js';

const CONFIG: Partial<ProtocolConfig> = {
  pushPullIntervalMs: 0,
  reconnectIntervalMs: 0,
  heartbeatIntervalMs: 1000,
  suspectAfterMs: 5000,
  failAfterMs: 10_000,
};

function switchMessage(protocol: Protocol, epoch: number, origin: string): ProtocolSwitchMessage {
  return { type: 'protocolSwitch', protocol, epoch, origin };
}

/** `n` SWIM nodes that know each other, on one simulated network. */
function cluster(n: number): { net: Network; nodes: Harness[] } {
  const net = new Network();
  const nodes: Harness[] = [];
  for (let i = 0; i < n; i++) nodes.push(net.add(new Harness({ name: `n${i}`, host: `10.0.0.${i + 1}`, seed: i + 1, config: CONFIG })));
  for (const h of nodes) h.node.preload(nodes.filter((x) => x !== h).map((x) => ({ profile: x.self, incarnation: 1 })));
  return { net, nodes };
}

describe('protocol switch on one node', () => {
  it('a setProtocol input switches this node, reports it and queues the switch for gossip', () => {
    const peers = members(4);
    const h = new Harness({ config: CONFIG, preload: peers }).respond(ackPings());
    h.advanceTo(5000);
    expect(h.sent('ping').length).toBeGreaterThan(0);
    h.input({ kind: 'setProtocol', protocol: 'heartbeat' });
    expect(h.node.protocol).toBe('heartbeat');
    // The epoch is a hybrid logical clock in seconds: 5 s into the run.
    expect(h.node.protocolSwitch).toEqual({ epoch: 5, origin: 'self' });
    expect(h.ofKind('protocol')).toMatchObject([{ protocol: 'heartbeat', epoch: 5, origin: 'self' }]);
    const mark = h.mark();
    h.advanceTo(8000);
    // No more SWIM probes; heartbeat tables carry the switch along.
    expect(h.sent('ping', mark)).toEqual([]);
    const tables = h.packets(mark).filter((p) => p.messages[0]?.type === 'heartbeats');
    expect(tables.length).toBeGreaterThan(0);
    for (const p of tables) expect(p.messages).toContainEqual(switchMessage('heartbeat', 5, 'self'));
    for (const p of peers) expect(h.status(p.name)).toBe('alive');
    expect(h.node.stats.protocolSwitches).toBe(1);
  });

  it('adopts a newer switch, ignores an equal one, and ties on epoch go to the higher origin', () => {
    const h = new Harness({ config: CONFIG, preload: members(2) });
    const from = addressOf(members(1)[0]!);
    h.packet(from, switchMessage('hybrid', 3, 'b'));
    expect(h.node.protocol).toBe('hybrid');
    h.packet(from, switchMessage('hybrid', 3, 'b'));
    h.packet(from, switchMessage('swim', 3, 'a'));
    expect(h.node.protocol).toBe('hybrid');
    h.packet(from, switchMessage('heartbeat', 3, 'c'));
    expect(h.node.protocol).toBe('heartbeat');
    expect(h.ofKind('protocol').map((o) => [o.protocol, o.epoch, o.origin])).toEqual([
      ['hybrid', 3, 'b'],
      ['heartbeat', 3, 'c'],
    ]);
    // A local switch outbids everything seen.
    h.input({ kind: 'setProtocol', protocol: 'swim' });
    expect(h.node.protocolSwitch).toEqual({ epoch: 4, origin: 'self' });
  });

  it('answers a sender that is behind with the switch in force', () => {
    const h = new Harness({ config: CONFIG, preload: members(2) });
    const from = addressOf(members(1)[0]!);
    h.packet(from, switchMessage('heartbeat', 2, 'x'));
    const mark = h.mark();
    h.packet(from, switchMessage('swim', 1, 'y'));
    expect(h.node.protocol).toBe('heartbeat');
    expect(h.sent('protocolSwitch', mark).map((s) => [s.to, s.message])).toEqual([[from, switchMessage('heartbeat', 2, 'x')]]);
  });

  it('a SWIM node after a switch answers a heartbeat table (its sender missed the switch)', () => {
    const h = new Harness({ config: CONFIG, preload: members(2) });
    const from = addressOf(members(1)[0]!);
    h.input({ kind: 'setProtocol', protocol: 'heartbeat' });
    h.input({ kind: 'setProtocol', protocol: 'swim' });
    const mark = h.mark();
    h.packet(from, { type: 'heartbeats', entries: [] });
    expect(h.sent('protocolSwitch', mark).map((s) => s.message)).toEqual([switchMessage('swim', 2, 'self')]);
    // Without a switch in force (epoch 0) a table is just dropped.
    const fresh = new Harness({ config: CONFIG, preload: members(2) });
    const before = fresh.node.stats.messagesIgnored;
    fresh.packet(from, { type: 'heartbeats', entries: [] });
    expect(fresh.sent('protocolSwitch')).toEqual([]);
    expect(fresh.node.stats.messagesIgnored).toBe(before + 1);
  });

  it('a SWIM suspicion in progress ends at the switch; the heartbeat detector then judges afresh', () => {
    const peers = members(3);
    const h = new Harness({ config: CONFIG, preload: peers }).respond(ackPings({ silent: ['m1'] }));
    h.runUntil(() => h.status('m1') === 'suspect');
    const switchedAt = h.now;
    h.input({ kind: 'setProtocol', protocol: 'heartbeat' });
    // SWIM would fail m1 within its suspicion timeout (4 s at n = 4); the heartbeat detector
    // fails it failAfter after the switch, as nothing of m1 rises.
    h.advanceTo(switchedAt + 9_900);
    expect(h.status('m1')).toBe('suspect');
    h.advanceTo(switchedAt + 10_000);
    expect(h.status('m1')).toBe('failed');
    expect(h.events(0, 'failed', 'm1').map((e) => e.at)).toEqual([switchedAt + 10_000]);
  });

  it('back to SWIM, a member suspected by heartbeats becomes a SWIM suspicion told to the cluster', () => {
    const peers = members(3);
    const h = new Harness({ protocol: 'heartbeat', config: CONFIG, preload: peers });
    h.advanceTo(6000);
    expect(h.status('m1')).toBe('suspect');
    const mark = h.mark();
    h.input({ kind: 'setProtocol', protocol: 'swim' });
    h.advanceTo(6500);
    const told = h.sent('suspect', mark).map((s) => s.message.node);
    expect(new Set(told)).toEqual(new Set(['m1', 'm2', 'm3']));
    // A refutation (a higher incarnation) clears it; the others fail by SWIM's timeout.
    h.packet(addressOf(peers[0]!), { type: 'alive', incarnation: 2, profile: peers[0]! });
    expect(h.status('m1')).toBe('alive');
    h.advanceTo(30_000);
    expect(h.status('m1')).not.toBe('failed');
    expect(h.status('m2')).toBe('failed');
  });
});

describe('protocol switch across a cluster', () => {
  it('SWIM → heartbeat → hybrid → SWIM on 8 nodes: every node follows, nobody is suspected, the table is kept', () => {
    const { net, nodes } = cluster(8);
    net.advanceTo(10_000);
    const steps: [number, Protocol, Harness][] = [
      [10_000, 'heartbeat', nodes[3]!],
      [40_000, 'hybrid', nodes[6]!],
      [70_000, 'swim', nodes[0]!],
    ];
    for (const [at, protocol, via] of steps) {
      net.advanceTo(at);
      via.input({ kind: 'setProtocol', protocol }, at);
      net.advanceTo(at + 2000);
      for (const h of nodes) expect([h.name, h.node.protocol]).toEqual([h.name, protocol]);
    }
    net.advanceTo(100_000);
    for (const h of nodes) {
      expect(h.events(0, 'suspect')).toEqual([]);
      expect(h.events(0, 'failed')).toEqual([]);
      expect(h.node.members().filter((m) => m.status === 'alive')).toHaveLength(8);
      expect(h.ofKind('protocol').map((o) => o.protocol)).toEqual(['heartbeat', 'hybrid', 'swim']);
    }
  });

  it('a node cut off during a switch catches up when it is heard again', () => {
    const { net, nodes } = cluster(5);
    const cut = nodes[4]!;
    net.advanceTo(5000);
    net.drop = (from, to) => from === cut || (to.host === cut.self.host && to.port === cut.self.port);
    nodes[0]!.input({ kind: 'setProtocol', protocol: 'heartbeat' }, 5000);
    net.advanceTo(8000); // the gossip of the switch is over before the cut heals
    expect(cut.node.protocol).toBe('swim');
    net.drop = () => false;
    net.advanceTo(11_000);
    expect(cut.node.protocol).toBe('heartbeat');
    expect(cut.node.protocolSwitch).toEqual({ epoch: 5, origin: 'n0' });
  });

  it('a node that missed earlier switches still wins when asked later', () => {
    const { net, nodes } = cluster(5);
    net.advanceTo(5000);
    nodes[1]!.input({ kind: 'setProtocol', protocol: 'heartbeat' }, 5000);
    net.advanceTo(20_000);
    nodes[2]!.input({ kind: 'setProtocol', protocol: 'swim' }, 20_000);
    net.advanceTo(30_000);
    // A newcomer knows nothing of the epochs 5 and 20 it would have to outbid.
    const late = net.add(new Harness({ name: 'late', host: '10.0.0.9', seed: 9, config: CONFIG, start: 30_000 }));
    late.node.preload(nodes.map((x) => ({ profile: x.self, incarnation: 1 })));
    for (const h of nodes) h.node.preload([{ profile: late.self, incarnation: 1 }]);
    net.advanceTo(60_000);
    late.input({ kind: 'setProtocol', protocol: 'hybrid' }, 60_000);
    net.advanceTo(63_000);
    for (const h of [...nodes, late]) expect([h.name, h.node.protocol, h.node.protocolSwitch]).toEqual([h.name, 'hybrid', { epoch: 60, origin: 'late' }]);
  });
});
