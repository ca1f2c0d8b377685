/**
 * The failure detector (docs/wire-format.md §3 ping handling, §8.2 probe round, §8.4 health): answering pings,
 * probing a member, the indirect and TCP fallbacks, nacks, and suspicion when all of them fail.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_VSN, type MemberProfile } from '../../packages/hearsay/src/core/index.js';
import { ackPings, addressOf, answerIndirectPings, Harness, members, PORT, profileOf, sameAddress, HEARTBEAT_CONFIG, type HarnessOptions } from './harness.js';

const T = profileOf('t', '10.0.0.20');
const HELPERS = members(3, 'h');
const VSN_PMAX3 = Uint8Array.of(1, 3, 2, 2, 5, 4);
const VSN_PMAX2 = Uint8Array.of(1, 2, 2, 2, 5, 4);

/** A node that knows t and three helpers; pings to everyone but t are acked after 5 ms. */
function cluster(options: HarnessOptions & { target?: MemberProfile; helpers?: MemberProfile[] } = {}): Harness {
  const { target = T, helpers = HELPERS, ...rest } = options;
  return new Harness({ seed: 3, preload: [target, ...helpers], ...rest }).respond(ackPings({ silent: ['t'] }));
}

/** Runs until this node sends its next probe to t; returns the probe. */
function nextProbeOfT(h: Harness) {
  const mark = h.mark();
  h.runUntil(() => h.probes(mark).some((p) => p.node === 't'));
  return h.probes(mark).find((p) => p.node === 't')!;
}

describe('ack payloads (Serf’s network coordinates ride on them)', () => {
  it('acks to UDP pings carry the payload set by setAckPayload; an empty one is left out', () => {
    const h = new Harness();
    h.input({ kind: 'setAckPayload', payload: Uint8Array.of(1, 0x80) });
    let mark = h.mark();
    h.packet({ host: '10.0.0.7', port: 7000 }, { type: 'ping', seqNo: 40, node: 'self' });
    expect(h.packets(mark)[0]!.messages[0]).toEqual({ type: 'ack', seqNo: 40, payload: Uint8Array.of(1, 0x80), digest: expect.any(Number) });
    h.input({ kind: 'setAckPayload', payload: new Uint8Array(0) });
    mark = h.mark();
    h.packet({ host: '10.0.0.7', port: 7000 }, { type: 'ping', seqNo: 41, node: 'self' });
    expect(h.packets(mark)[0]!.messages[0]).toEqual({ type: 'ack', seqNo: 41, digest: expect.any(Number) });
  });

  it('the payload of a direct probe’s ack comes out with its round-trip time', () => {
    const h = new Harness({ seed: 3, preload: [T] });
    const probe = nextProbeOfT(h);
    const mark = h.mark();
    h.advanceBy(7);
    h.packet(addressOf(T), { type: 'ack', seqNo: probe.seqNo, payload: Uint8Array.of(1, 2, 3) });
    const rtt = h
      .outputs(mark)
      .map((r) => r.output)
      .find((o) => o.kind === 'rtt');
    expect(rtt).toEqual({ kind: 'rtt', member: 't', ms: 7, payload: Uint8Array.of(1, 2, 3) });
  });
});

describe('piggybacking on acks', () => {
  it('SWIM acks carry queued updates; under the heartbeat detectors acks go out bare', () => {
    for (const detector of ['swim', 'hybrid'] as const) {
      const h = new Harness({ protocol: detector, config: HEARTBEAT_CONFIG, preload: members(3) });
      h.gossip({ type: 'alive', incarnation: 7, profile: profileOf('m1', '10.0.1.1') });
      const mark = h.mark();
      h.packet({ host: '10.0.0.7', port: 7000 }, { type: 'ping', seqNo: 50, node: 'self' });
      const ack = h.packets(mark).find((p) => p.messages.some((m) => m.type === 'ack'))!;
      if (detector === 'swim') expect(ack.messages.map((m) => m.type)).toEqual(['ack', 'alive']);
      else expect(ack.messages).toEqual([{ type: 'ack', seqNo: 50, digest: expect.any(Number) }]);
    }
  });
});

describe('answering pings', () => {
  it('a ping for this node is acked with the same seqNo to SourceAddr:SourcePort', () => {
    const h = new Harness();
    const mark = h.mark();
    h.packet({ host: '192.168.1.1', port: 40000 }, { type: 'ping', seqNo: 31, node: 'self', source: { name: 'a', host: '10.0.0.7', port: 7000 } });
    const [ack] = h.packets(mark);
    expect(ack).toMatchObject({ to: { host: '10.0.0.7', port: 7000 }, crc: false });
    expect(ack!.messages[0]).toEqual({ type: 'ack', seqNo: 31, digest: expect.any(Number) });
  });

  it('a ping without source fields is acked to the address it came from', () => {
    const h = new Harness();
    const mark = h.mark();
    h.packet({ host: '192.168.1.1', port: 40000 }, { type: 'ping', seqNo: 32, node: 'self' });
    const [ack] = h.packets(mark);
    expect(ack!.to).toEqual({ host: '192.168.1.1', port: 40000 });
    expect(ack!.messages[0]).toEqual({ type: 'ack', seqNo: 32, digest: expect.any(Number) });
  });

  it('a ping naming nobody ("") is acked', () => {
    const h = new Harness();
    const mark = h.mark();
    h.packet({ host: '192.168.1.1', port: 40000 }, { type: 'ping', seqNo: 33, node: '' });
    expect(h.sent('ack', mark).map((s) => s.message.seqNo)).toEqual([33]);
  });

  it('a ping for another name is dropped with a warning', () => {
    const h = new Harness();
    const mark = h.mark();
    h.packet({ host: '192.168.1.1', port: 40000 }, { type: 'ping', seqNo: 34, node: 'someone-else' });
    expect(h.packets(mark)).toEqual([]);
    expect(h.ofKind('notice', mark).some((n) => n.level === 'warn')).toBe(true);
    expect(h.node.stats.messagesIgnored).toBe(1);
  });

  it('a TCP ping is answered with an ack on the same stream', () => {
    const h = new Harness();
    const mark = h.mark();
    h.input({ kind: 'stream', from: { host: '10.0.0.7', port: 50000 }, stream: 9, message: { type: 'ping', seqNo: 35, node: 'self' } });
    expect(h.replies(mark)).toMatchObject([{ stream: 9, message: { type: 'ack', seqNo: 35 } }]);
  });

  it('a TCP ping for another name gets no ack', () => {
    const h = new Harness();
    const mark = h.mark();
    h.input({ kind: 'stream', from: { host: '10.0.0.7', port: 50000 }, stream: 9, message: { type: 'ping', seqNo: 35, node: 'x' } });
    expect(h.replies(mark)).toEqual([]);
  });

  it('one packet of 127 pings is answered with maxRepliesPerPacket acks, the rest counted as dropped', () => {
    const h = new Harness();
    const pings = Array.from({ length: 127 }, (_, seqNo) => ({ type: 'ping' as const, seqNo, node: 'self' }));
    const mark = h.mark();
    h.packet({ host: '192.168.1.1', port: 40000 }, ...pings);
    expect(h.sent('ack', mark).map((a) => a.message.seqNo)).toEqual([0, 1, 2, 3]);
    expect(h.config.maxRepliesPerPacket).toBe(4);
    expect(h.node.stats.dropped).toEqual({ 'reply-cap': 123 });
    // The cap is per packet: the next one is answered again.
    h.packet({ host: '192.168.1.1', port: 40000 }, { type: 'ping', seqNo: 500, node: 'self' });
    expect(h.sent('ack', mark)).toHaveLength(5);
  });
});

describe('probing a member', () => {
  it('a probe is a ping to the member naming it, with this node as source, sequence numbers counting from 1', () => {
    const h = cluster();
    h.advanceBy(3500);
    const probes = h.probes();
    expect(probes.length).toBeGreaterThanOrEqual(3);
    expect(probes.map((p) => p.seqNo)).toEqual(probes.map((_, i) => i + 1));
    const [first] = h.packets().filter((p) => p.messages[0]?.type === 'ping');
    const ping = first!.messages[0]!;
    expect(ping).toMatchObject({ type: 'ping', source: { name: 'self', host: '10.0.0.1', port: PORT } });
    const target = [T, ...HELPERS].find((m) => ping.type === 'ping' && m.name === ping.node)!;
    expect(first!.to).toEqual(addressOf(target));
    expect(first!.crc).toBe(false);
  });

  it('a member that acks is not suspected, and the success lowers the health score', () => {
    // t is the only other member, so the first probe is t's
    const h = new Harness({ seed: 3, preload: [T] }).respond(ackPings());
    h.gossip({ type: 'suspect', node: 'self', incarnation: 1, from: 'h1' });
    h.gossip({ type: 'suspect', node: 'self', incarnation: 2, from: 'h1' });
    expect(h.node.healthScore).toBe(2);
    const probe = nextProbeOfT(h);
    expect(h.node.healthScore).toBe(2);
    h.advanceTo(probe.at + 5); // the ack arrives
    expect(h.node.healthScore).toBe(1);
    h.advanceTo(probe.at + 1000);
    expect(h.events(0, 'suspect')).toEqual([]);
    expect(h.sent('indirectPing')).toEqual([]);
    expect(h.node.stats.probesFailed).toBe(0);
  });

  it('without an ack within probeTimeout, k helpers are asked with the same seqNo and a nack flag', () => {
    const h = cluster();
    const probe = nextProbeOfT(h);
    const mark = h.mark();
    h.advanceTo(probe.at + 499);
    expect(h.sent('indirectPing', mark)).toEqual([]);
    h.advanceTo(probe.at + 500);
    const requests = h.sent('indirectPing', mark);
    expect(requests).toHaveLength(3);
    const helpers = new Set(requests.map((r) => r.to.host));
    expect([...helpers].sort()).toEqual(HELPERS.map((p) => p.host).sort());
    for (const r of requests) {
      expect(r.at).toBe(probe.at + 500);
      expect(r.index).toBe(0);
      expect(r.message).toEqual({
        type: 'indirectPing',
        seqNo: probe.seqNo,
        node: 't',
        target: { host: T.host, port: T.port },
        nack: true,
        source: { name: 'self', host: '10.0.0.1', port: PORT },
      });
    }
  });

  it('asks exactly indirectChecks helpers, never the target nor itself', () => {
    const many = members(8, 'h');
    for (const [profile, k] of [
      ['lan', 3],
      ['local', 1],
    ] as const) {
      const h = cluster({ profile, helpers: many });
      const probe = nextProbeOfT(h);
      const mark = h.mark();
      h.advanceTo(probe.at + h.config.probeTimeoutMs);
      const requests = h.sent('indirectPing', mark);
      expect(requests).toHaveLength(k);
      const hosts = requests.map((r) => r.to.host);
      expect(new Set(hosts).size).toBe(k);
      expect(hosts.every((host) => many.some((m) => m.host === host))).toBe(true);
    }
  });

  it('only alive members are asked to help', () => {
    const h = cluster();
    h.gossip({ type: 'dead', node: 'h2', incarnation: 1, from: 'x' });
    h.gossip({ type: 'suspect', node: 'h3', incarnation: 1, from: 'x' });
    const probe = nextProbeOfT(h);
    const mark = h.mark();
    h.advanceTo(probe.at + 500);
    expect(h.sent('indirectPing', mark).map((r) => r.to.host)).toEqual([HELPERS[0]!.host]);
  });

  it('helpers whose PMax is below 4 are not asked for nacks', () => {
    const old = members(3, 'h', { vsn: VSN_PMAX3 });
    const h = cluster({ helpers: old });
    const probe = nextProbeOfT(h);
    const mark = h.mark();
    h.advanceTo(probe.at + 500);
    const requests = h.sent('indirectPing', mark);
    expect(requests).toHaveLength(3);
    expect(requests.every((r) => r.message.nack === false)).toBe(true);
  });

  it('alongside the indirect pings, a TCP ping with the same seqNo is opened until the probe deadline', () => {
    const h = cluster();
    const probe = nextProbeOfT(h);
    const mark = h.mark();
    h.advanceTo(probe.at + 500);
    const streams = h.streams(mark);
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({
      to: { host: T.host, port: T.port },
      message: { type: 'ping', seqNo: probe.seqNo, node: 't', source: { name: 'self' } },
      timeoutMs: 500,
      expectReply: true,
      at: probe.at + 500,
    });
  });

  it('no TCP ping to a target whose PMax is below 3, nor when TCP pings are disabled', () => {
    for (const options of [{ target: profileOf('t', T.host, { vsn: VSN_PMAX2 }) }, { config: { disableTcpPings: true } }]) {
      const h = cluster(options);
      const probe = nextProbeOfT(h);
      const mark = h.mark();
      h.advanceTo(probe.at + 1000);
      expect(h.sent('indirectPing', mark).length).toBe(3);
      expect(h.streams(mark).filter((s) => s.message.type === 'ping')).toEqual([]);
    }
  });

  it('a relayed ack carrying the original seqNo makes the probe a success', () => {
    const h = cluster().respond(answerIndirectPings('ack'));
    h.gossip({ type: 'suspect', node: 'self', incarnation: 1, from: 'h1' });
    expect(h.node.healthScore).toBe(1);
    const probe = nextProbeOfT(h);
    h.advanceTo(probe.at + 505); // indirect pings at +500, relayed acks at +505
    expect(h.node.healthScore).toBe(0);
    h.advanceTo(probe.at + 3000);
    expect(h.status('t')).toBe('alive');
    expect(h.events(0, 'suspect')).toEqual([]);
    expect(h.node.stats.probesFailed).toBe(0);
  });

  it('an ack on the TCP ping makes the probe a success', () => {
    const h = cluster();
    const probe = nextProbeOfT(h);
    h.advanceTo(probe.at + 500);
    const [stream] = h.streams().filter((s) => s.message.type === 'ping');
    h.input({ kind: 'streamReply', stream: stream!.stream, message: { type: 'ack', seqNo: probe.seqNo } }, probe.at + 600);
    h.advanceTo(probe.at + 1000);
    expect(h.status('t')).toBe('alive');
    expect(h.node.stats.probesFailed).toBe(0);
  });

  it('a TCP answer with another seqNo does not count', () => {
    const h = cluster();
    const probe = nextProbeOfT(h);
    h.advanceTo(probe.at + 500);
    const [stream] = h.streams().filter((s) => s.message.type === 'ping');
    h.input({ kind: 'streamReply', stream: stream!.stream, message: { type: 'ack', seqNo: probe.seqNo + 1000 } }, probe.at + 600);
    h.advanceTo(probe.at + 1000);
    expect(h.status('t')).toBe('suspect');
  });

  it('with no ack at all by the deadline, the target is suspected and the suspicion is gossiped', () => {
    const h = cluster();
    const probe = nextProbeOfT(h);
    const mark = h.mark();
    h.advanceTo(probe.at + 999);
    expect(h.status('t')).toBe('alive');
    h.advanceTo(probe.at + 1000);
    expect(h.status('t')).toBe('suspect');
    expect(h.events(mark, 'suspect')).toMatchObject([{ member: { name: 't', status: 'suspect', incarnation: 1 }, at: probe.at + 1000 }]);
    expect(h.node.stats.probesFailed).toBe(1);
    h.advanceBy(1000);
    const gossip = h.sentAbout('t', mark);
    expect(gossip.length).toBeGreaterThan(0);
    expect(gossip[0]!.message).toEqual({ type: 'suspect', node: 't', incarnation: 1, from: 'self' });
  });

  it('a direct ack that arrives after the probe timeout but before the deadline still counts', () => {
    const h = cluster();
    const probe = nextProbeOfT(h);
    h.advanceTo(probe.at + 700);
    expect(h.sent('indirectPing').length).toBe(3);
    h.packet(T, { type: 'ack', seqNo: probe.seqNo });
    h.advanceTo(probe.at + 1000);
    expect(h.status('t')).toBe('alive');
    expect(h.node.stats.probesFailed).toBe(0);
  });

  it('an ack with an unknown seqNo is ignored', () => {
    const h = cluster();
    h.packet(T, { type: 'ack', seqNo: 123_456 });
    expect(h.node.stats.messagesIgnored).toBe(1);
  });

  it('a late ack after the deadline changes nothing', () => {
    const h = cluster();
    const probe = nextProbeOfT(h);
    h.advanceTo(probe.at + 1000);
    expect(h.status('t')).toBe('suspect');
    const score = h.node.healthScore;
    h.packet(T, { type: 'ack', seqNo: probe.seqNo });
    expect(h.status('t')).toBe('suspect');
    expect(h.node.healthScore).toBe(score);
  });

  it('a suspect member is probed with the suspicion attached (Lifeguard buddy system), CRC-wrapped for PMax ≥ 5', () => {
    const h = cluster();
    const first = nextProbeOfT(h);
    h.advanceTo(first.at + 1000);
    expect(h.status('t')).toBe('suspect');
    const mark = h.mark();
    const second = nextProbeOfT(h);
    const packet = h.packets(mark).find((p) => p.at === second.at && sameAddress(p.to, T))!;
    expect(packet.crc).toBe(true);
    expect(packet.messages).toEqual([
      { type: 'ping', seqNo: second.seqNo, node: 't', source: { name: 'self', host: '10.0.0.1', port: PORT }, digest: expect.any(Number) },
      { type: 'suspect', node: 't', incarnation: 1, from: 'self' },
    ]);
  });
});

describe('health score after a failed probe (Lifeguard nacks)', () => {
  /** The health score right when the probe of t concludes, starting from 0. */
  function scoreAfterFailedProbe(options: { helpers?: MemberProfile[]; answer?: Parameters<typeof answerIndirectPings>[0] }): number {
    const h = cluster({ helpers: options.helpers ?? HELPERS });
    if (options.answer) h.respond(answerIndirectPings(options.answer));
    const probe = nextProbeOfT(h);
    expect(h.node.healthScore).toBe(0);
    h.advanceTo(probe.at + 1000);
    expect(h.status('t')).toBe('suspect');
    return h.node.healthScore;
  }

  it('all expected nacks received: no penalty', () => {
    expect(scoreAfterFailedProbe({ answer: 'nack' })).toBe(0);
  });

  it('one nack of three received: +2 for the two missing', () => {
    const one = HELPERS[0]!.host;
    expect(scoreAfterFailedProbe({ answer: (helper) => (helper.host === one ? 'nack' : 'silent') })).toBe(2);
  });

  it('no nack of three received: +3', () => {
    expect(scoreAfterFailedProbe({ answer: 'silent' })).toBe(3);
  });

  it('no nacks expected (helpers too old to send them): +1', () => {
    expect(scoreAfterFailedProbe({ helpers: members(3, 'h', { vsn: VSN_PMAX3 }), answer: 'nack' })).toBe(1);
  });

  it('no helpers at all: +1', () => {
    expect(scoreAfterFailedProbe({ helpers: [] })).toBe(1);
  });

  it('nacks beyond the helpers asked are dropped: forged ones cannot make this node look healthier', () => {
    const h = cluster();
    const probe = nextProbeOfT(h);
    h.advanceTo(probe.at + 600);
    const helper = h.sent('indirectPing')[0]!;
    for (let i = 0; i < 10; i++) h.packet(helper.to, { type: 'nack', seqNo: probe.seqNo });
    h.advanceTo(probe.at + 1000);
    expect(h.node.stats.nacksReceived).toBe(3);
    expect(h.node.stats.dropped).toEqual({ 'unexpected-nack': 7 });
    expect(h.node.healthScore).toBe(0);
  });

  it('nacks never complete a probe', () => {
    const h = cluster().respond(answerIndirectPings('nack'));
    const probe = nextProbeOfT(h);
    h.advanceTo(probe.at + 1000);
    expect(h.node.stats.nacksReceived).toBe(3);
    expect(h.status('t')).toBe('suspect');
  });
});

describe('relaying an indirect ping for another member (the helper side)', () => {
  const REQUESTER = { name: 'r', host: '10.0.0.30', port: 7000 };
  const TARGET = { host: '10.0.0.40', port: 7946 };

  function helper(config: HarnessOptions['config'] = {}): Harness {
    // A node that lists the targets but probes so rarely that none of its own probes get in the way.
    return new Harness({
      seed: 5,
      preload: [profileOf('x', TARGET.host), profileOf('y', '10.0.0.41')],
      config: { probeIntervalMs: 3_600_000, pushPullIntervalMs: 0, ...config },
    });
  }

  function request(h: Harness, nack: boolean, target = TARGET) {
    const mark = h.mark();
    h.packet({ host: '172.16.0.1', port: 1234 }, { type: 'indirectPing', seqNo: 500, node: 'x', target, nack, source: REQUESTER });
    const pings = h.sent('ping', mark);
    expect(pings).toHaveLength(1);
    return pings[0]!;
  }

  it('pings the target with its own fresh seqNo, naming the target, as itself', () => {
    const h = helper();
    const ping = request(h, true);
    expect(ping.to).toEqual(TARGET);
    expect(ping.index).toBe(0);
    expect(ping.message).toEqual({ type: 'ping', seqNo: 1, node: 'x', source: { name: 'self', host: '10.0.0.1', port: PORT }, digest: expect.any(Number) });
  });

  it('uses the member’s port when the request gives target port 0 (memberlist before protocol 2)', () => {
    const h = helper();
    const ping = request(h, true, { host: '10.0.0.40', port: 0 });
    expect(ping.to).toEqual({ host: '10.0.0.40', port: PORT });
  });

  it('on the target’s ack, sends an ack with the requester’s seqNo to the requester', () => {
    const h = helper();
    const ping = request(h, true);
    h.advanceBy(100);
    const mark = h.mark();
    h.packet(TARGET, { type: 'ack', seqNo: ping.message.seqNo });
    const acks = h.sent('ack', mark);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.to).toEqual({ host: REQUESTER.host, port: REQUESTER.port });
    expect(acks[0]!.message).toEqual({ type: 'ack', seqNo: 500 });
    h.advanceBy(10_000);
    expect(h.sent('nack')).toEqual([]);
  });

  it('without an ack within probeTimeout, sends a nack with the requester’s seqNo when asked to', () => {
    const h = helper();
    const ping = request(h, true);
    h.advanceTo(ping.at + 499);
    expect(h.sent('nack')).toEqual([]);
    h.advanceTo(ping.at + 500);
    const nacks = h.sent('nack');
    expect(nacks).toHaveLength(1);
    expect(nacks[0]).toMatchObject({ at: ping.at + 500, to: { host: REQUESTER.host, port: REQUESTER.port }, message: { type: 'nack', seqNo: 500 } });
    expect(h.node.stats.nacksSent).toBe(1);
  });

  it('without an ack and without the nack flag, stays silent', () => {
    const h = helper();
    request(h, false);
    h.advanceBy(10_000);
    expect(h.sent('nack')).toEqual([]);
    expect(h.sent('ack')).toEqual([]);
  });

  it('an ack arriving after the nack was sent is not relayed', () => {
    const h = helper();
    const ping = request(h, true);
    h.advanceTo(ping.at + 600);
    const mark = h.mark();
    h.packet(TARGET, { type: 'ack', seqNo: ping.message.seqNo });
    expect(h.sent('ack', mark)).toEqual([]);
  });

  it('answers the address the request came from when it has no source fields', () => {
    const h = helper();
    h.packet({ host: '172.16.0.1', port: 1234 }, { type: 'indirectPing', seqNo: 600, node: 'x', target: TARGET, nack: true });
    h.advanceBy(500);
    expect(h.sent('nack').map((n) => n.to)).toEqual([{ host: '172.16.0.1', port: 1234 }]);
  });

  it('keeps its relays apart: two requests get two seqNos and each ack goes to its own requester', () => {
    const h = helper();
    const first = request(h, true);
    const mark = h.mark();
    h.packet(
      { host: '172.16.0.2', port: 1 },
      {
        type: 'indirectPing',
        seqNo: 900,
        node: 'y',
        target: { host: '10.0.0.41', port: PORT },
        nack: true,
        source: { name: 'q', host: '10.0.0.31', port: 7001 },
      },
    );
    const second = h.sent('ping', mark)[0]!;
    expect(second.message.seqNo).not.toBe(first.message.seqNo);
    const acks = h.mark();
    h.packet({ host: '10.0.0.41', port: PORT }, { type: 'ack', seqNo: second.message.seqNo });
    h.packet(TARGET, { type: 'ack', seqNo: first.message.seqNo });
    expect(h.sent('ack', acks).map((a) => [a.to.host, a.message.seqNo])).toEqual([
      ['10.0.0.31', 900],
      ['10.0.0.30', 500],
    ]);
  });

  it('pings only a member it lists at that address; one asked for elsewhere is refused and counted', () => {
    const h = helper();
    for (const [i, target] of [
      { host: '192.0.2.66', port: PORT },
      { host: TARGET.host, port: 9 },
    ].entries()) {
      h.packet({ host: '172.16.0.1', port: 1234 }, { type: 'indirectPing', seqNo: 700 + i, node: 'x', target, nack: true, source: REQUESTER });
    }
    h.advanceBy(10_000);
    expect(h.sent('ping')).toEqual([]);
    expect(h.sent('nack')).toEqual([]);
    expect(h.node.stats.dropped).toEqual({ 'relay-unknown-target': 2 });
    expect(h.node.stats.relayedPings).toBe(0);
  });

  it('a member it does not list is not pinged either; the requester gets a nack at once (it may have forgotten it)', () => {
    const h = helper();
    h.packet({ host: '172.16.0.1', port: 1234 }, { type: 'indirectPing', seqNo: 710, node: 'nobody', target: TARGET, nack: true, source: REQUESTER });
    expect(h.sent('ping')).toEqual([]);
    expect(h.sent('nack').map((n) => [n.to.host, n.message.seqNo])).toEqual([[REQUESTER.host, 710]]);
    expect(h.node.stats.messagesIgnored).toBe(1);
    expect(h.node.stats.dropped).toEqual({});
  });

  it('relays at most relayRatePerSource a second for one requesting address, and relayRate for all', () => {
    const h = helper({ relayRatePerSource: 3, relayRate: 5 });
    const ask = (from: number, seqNo: number) =>
      h.packet({ host: `172.16.0.${from}`, port: 1234 }, { type: 'indirectPing', seqNo, node: 'x', target: TARGET, nack: false, source: REQUESTER });
    for (let i = 0; i < 10; i++) ask(1, i);
    expect(h.sent('ping')).toHaveLength(3);
    for (let i = 0; i < 10; i++) ask(2, 100 + i);
    expect(h.sent('ping')).toHaveLength(5);
    expect(h.node.stats.dropped).toEqual({ 'relay-rate': 15 });
    // The buckets refill with time: a second later each source may relay again.
    h.advanceBy(1000);
    const mark = h.mark();
    for (let i = 0; i < 10; i++) ask(3, 200 + i);
    expect(h.sent('ping', mark)).toHaveLength(3);
    expect(h.node.stats.relayedPings).toBe(8);
  });

  it('one packet of many indirect pings relays at most maxRepliesPerPacket of them', () => {
    const h = helper();
    const requests = Array.from({ length: 127 }, (_, i) => ({
      type: 'indirectPing' as const,
      seqNo: i,
      node: 'x',
      target: TARGET,
      nack: true,
      source: REQUESTER,
    }));
    h.packet({ host: '172.16.0.1', port: 1234 }, ...requests);
    expect(h.sent('ping')).toHaveLength(h.config.maxRepliesPerPacket);
    expect(h.node.stats.dropped).toEqual({ 'reply-cap': 127 - h.config.maxRepliesPerPacket });
    // Nor does the packet cause more nacks later than the relays it was allowed.
    h.advanceBy(10_000);
    expect(h.sent('nack')).toHaveLength(h.config.maxRepliesPerPacket);
  });
});

it('DEFAULT_VSN advertises PMax 5, so peers wrap their gossip in a CRC', () => {
  expect(Array.from(DEFAULT_VSN)).toEqual([1, 5, 2, 2, 5, 4]);
});
