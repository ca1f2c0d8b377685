/**
 * Anti-entropy and joining (docs/wire-format.md §4.2, §4.3, §8.7, §8.8): full-state exchanges over streams,
 * how remote records are merged, the protocol-version check, join through seeds, and the
 * rejoin of a restarted node by refutation.
 */
import { describe, expect, it } from 'vitest';
import { pushPullScale, type PushNodeState, type PushPullMessage, type StreamMessage } from '../../packages/hearsay/src/core/index.js';
import { ackPings, addressOf, Harness, members, Network, PORT, profileOf } from './harness.js';

const B = profileOf('b', '10.0.0.2');
const C = profileOf('c', '10.0.0.3');
const D = profileOf('d', '10.0.0.4');
const E = profileOf('e', '10.0.0.5');
const N1 = profileOf('n1', '10.0.0.11');

function pushPull(states: PushNodeState[], join = false): PushPullMessage {
  return { type: 'pushPull', join, states, userState: new Uint8Array(0) };
}

/** A node that knows b alive, c suspect, d failed and e left (all at incarnation 2). */
function populated(): Harness {
  const h = new Harness({ seed: 51, incarnation: 4 });
  h.node.preload([B, C, D, E].map((profile) => ({ profile, incarnation: 2 })));
  h.gossip(
    { type: 'suspect', node: 'c', incarnation: 2, from: 'x' },
    { type: 'dead', node: 'd', incarnation: 2, from: 'x' },
    { type: 'dead', node: 'e', incarnation: 2, from: 'e' },
  );
  return h;
}

/** Feeds an inbound push/pull stream and returns the reply. */
function inbound(h: Harness, message: StreamMessage, stream = 77): StreamMessage {
  const mark = h.mark();
  h.input({ kind: 'stream', from: { host: '10.0.0.99', port: 50000 }, stream, message });
  const replies = h.replies(mark);
  expect(replies).toHaveLength(1);
  expect(replies[0]!.stream).toBe(stream);
  return replies[0]!.message;
}

function byName(states: readonly PushNodeState[]): Record<string, [string, number]> {
  return Object.fromEntries(states.map((s) => [s.profile.name, [s.status, s.incarnation]]));
}

describe('answering a push/pull', () => {
  it.each([true, false])('replies with every local record and the same join flag (%s)', (join) => {
    const h = populated();
    const reply = inbound(h, pushPull([], join));
    expect(reply.type).toBe('pushPull');
    const state = reply as PushPullMessage;
    expect(state.join).toBe(join);
    expect(state.userState.length).toBe(0);
    expect(byName(state.states)).toEqual({
      self: ['alive', 4],
      b: ['alive', 2],
      c: ['suspect', 2],
      d: ['failed', 2],
      e: ['left', 2],
    });
    expect(state.states.find((s) => s.profile.name === 'self')!.profile).toEqual(h.self);
  });

  it('replies with its state as it was before merging the remote one', () => {
    const h = populated();
    const mark = h.mark();
    const reply = inbound(h, pushPull([{ profile: N1, incarnation: 1, status: 'alive' }]));
    expect(byName((reply as PushPullMessage).states).n1).toBeUndefined();
    expect(h.node.member('n1')).toMatchObject({ status: 'alive', incarnation: 1 });
    expect(h.events(mark, 'join', 'n1')).toHaveLength(1);
  });

  it('answers an unexpected stream message with an error', () => {
    const h = new Harness();
    expect(inbound(h, { type: 'ack', seqNo: 1 })).toMatchObject({ type: 'error' });
  });
});

describe('merging a remote state', () => {
  it('a remote "failed" record only makes the member suspect, from this node', () => {
    const h = populated();
    const mark = h.mark();
    inbound(h, pushPull([{ profile: B, incarnation: 2, status: 'failed' }]));
    expect(h.status('b')).toBe('suspect');
    expect(h.events(mark).map((e) => [e.type, e.member.name])).toEqual([['suspect', 'b']]);
    h.advanceBy(100);
    h.packet({ host: '10.9.9.9', port: PORT }, { type: 'ping', seqNo: 1, node: '' });
    expect(h.sentAbout('b', mark).map((s) => s.message)).toContainEqual({ type: 'suspect', node: 'b', incarnation: 2, from: 'self' });
  });

  it('a remote "suspect" record makes the member suspect', () => {
    const h = populated();
    inbound(h, pushPull([{ profile: B, incarnation: 3, status: 'suspect' }]));
    expect(h.node.member('b')).toMatchObject({ status: 'suspect', incarnation: 3 });
  });

  it('a remote "left" record makes the member left', () => {
    const h = populated();
    const mark = h.mark();
    inbound(h, pushPull([{ profile: B, incarnation: 2, status: 'left' }]));
    expect(h.status('b')).toBe('left');
    expect(h.events(mark).map((e) => [e.type, e.member.name])).toEqual([['left', 'b']]);
  });

  it('a remote "alive" record with a higher incarnation revives a failed member', () => {
    const h = populated();
    const mark = h.mark();
    inbound(h, pushPull([{ profile: D, incarnation: 3, status: 'alive' }]));
    expect(h.node.member('d')).toMatchObject({ status: 'alive', incarnation: 3 });
    expect(h.events(mark).map((e) => e.type)).toEqual(['join']);
  });

  it('remote records older than what this node holds change nothing', () => {
    const h = populated();
    const mark = h.mark();
    inbound(
      h,
      pushPull([
        { profile: B, incarnation: 1, status: 'failed' },
        { profile: C, incarnation: 1, status: 'alive' },
        { profile: D, incarnation: 2, status: 'alive' },
      ]),
    );
    expect(byName(h.node.members().map((m) => ({ profile: m, incarnation: m.incarnation, status: m.status })))).toMatchObject({
      b: ['alive', 2],
      c: ['suspect', 2],
      d: ['failed', 2],
    });
    expect(h.events(mark)).toEqual([]);
  });

  it('records about unknown members: alive ones join, others are ignored', () => {
    const h = populated();
    const n2 = profileOf('n2', '10.0.0.12');
    const n3 = profileOf('n3', '10.0.0.13');
    inbound(
      h,
      pushPull([
        { profile: N1, incarnation: 1, status: 'alive' },
        { profile: n2, incarnation: 1, status: 'failed' },
        { profile: n3, incarnation: 1, status: 'left' },
      ]),
    );
    expect(h.status('n1')).toBe('alive');
    expect(h.node.member('n2')).toBeUndefined();
    expect(h.node.member('n3')).toBeUndefined();
  });
});

describe('the protocol compatibility check (verifyProtocol)', () => {
  it.each([
    ['a delegate version outside the common range', Uint8Array.of(1, 5, 2, 0, 0, 0)],
    ['a protocol version above what others support', Uint8Array.of(3, 5, 3, 2, 5, 4)],
    ['all-zero versions', Uint8Array.of(0, 0, 0, 0, 0, 0)],
  ])('rejects the whole remote state when an alive record has %s, but still replies', (_what, vsn) => {
    const h = populated();
    const mark = h.mark();
    const bad = profileOf('bad', '10.0.0.66', { vsn });
    const reply = inbound(
      h,
      pushPull([
        { profile: N1, incarnation: 1, status: 'alive' },
        { profile: bad, incarnation: 1, status: 'alive' },
        { profile: B, incarnation: 2, status: 'failed' },
      ]),
    );
    expect(reply.type).toBe('pushPull');
    expect(h.node.member('n1')).toBeUndefined();
    expect(h.node.member('bad')).toBeUndefined();
    expect(h.status('b')).toBe('alive');
    expect(h.ofKind('notice', mark).some((n) => n.level === 'warn' && /push\/pull/.test(n.text))).toBe(true);
  });

  it('accepts different but overlapping version ranges', () => {
    const h = populated();
    const other = profileOf('other', '10.0.0.67', { vsn: Uint8Array.of(2, 4, 2, 2, 5, 5) });
    inbound(h, pushPull([{ profile: other, incarnation: 1, status: 'alive' }]));
    expect(h.status('other')).toBe('alive');
  });

  it('ignores the versions of records that are not alive', () => {
    const h = populated();
    const gone = profileOf('gone', '10.0.0.68', { vsn: Uint8Array.of(0, 0, 0, 0, 0, 0) });
    inbound(
      h,
      pushPull([
        { profile: gone, incarnation: 1, status: 'left' },
        { profile: N1, incarnation: 1, status: 'alive' },
      ]),
    );
    expect(h.status('n1')).toBe('alive');
  });
});

describe('joining through seeds', () => {
  const SEED1 = { host: '10.0.0.2', port: PORT };
  const SEED2 = { host: '10.0.0.3', port: PORT };

  it('opens a push/pull stream with join = true to each seed, carrying its own record', () => {
    const h = new Harness({ seed: 53 });
    const mark = h.mark();
    h.input({ kind: 'join', request: 1, seeds: [SEED1, SEED2] });
    const streams = h.streams(mark);
    expect(streams.map((s) => s.to)).toEqual([SEED1, SEED2]);
    for (const s of streams) {
      expect(s).toMatchObject({ timeoutMs: h.config.tcpTimeoutMs, expectReply: true, message: { type: 'pushPull', join: true } });
      expect(byName((s.message as PushPullMessage).states)).toEqual({ self: ['alive', 1] });
    }
    expect(streams[0]!.stream).not.toBe(streams[1]!.stream);
    expect(h.ofKind('joined', mark)).toEqual([]);
  });

  it('reports joined with how many seeds answered and why the others did not, once all are done', () => {
    const h = new Harness({ seed: 53 });
    const mark = h.mark();
    h.input({ kind: 'join', request: 7, seeds: [SEED1, SEED2, { host: '10.0.0.4', port: PORT }] });
    const [s1, s2, s3] = h.streams(mark);
    h.input(
      {
        kind: 'streamReply',
        stream: s1!.stream,
        message: pushPull(
          [
            { profile: B, incarnation: 1, status: 'alive' },
            { profile: C, incarnation: 3, status: 'alive' },
          ],
          true,
        ),
      },
      10,
    );
    expect(h.ofKind('joined', mark)).toEqual([]);
    h.input({ kind: 'streamFailed', stream: s2!.stream, reason: 'connection refused' }, 20);
    expect(h.ofKind('joined', mark)).toEqual([]);
    h.input({ kind: 'streamReply', stream: s3!.stream, message: { type: 'error', error: 'boom' } }, 30);
    const joined = h.ofKind('joined', mark);
    expect(joined).toHaveLength(1);
    expect(joined[0]).toMatchObject({ request: 7, contacted: 1, at: 30 });
    expect(joined[0]!.errors).toHaveLength(2);
    expect(joined[0]!.errors[0]).toMatch(/10\.0\.0\.3:7946: connection refused/);
    expect(joined[0]!.errors[1]).toMatch(/10\.0\.0\.4:7946: .*boom/);
    expect(h.node.member('b')).toMatchObject({ status: 'alive', incarnation: 1 });
    expect(h.node.member('c')).toMatchObject({ status: 'alive', incarnation: 3 });
    expect(
      h
        .events(mark, 'join')
        .map((e) => e.member.name)
        .sort(),
    ).toEqual(['b', 'c']);
  });

  it('counts an incompatible answer as an error', () => {
    const h = new Harness({ seed: 53 });
    const mark = h.mark();
    h.input({ kind: 'join', request: 2, seeds: [SEED1] });
    const [s] = h.streams(mark);
    const bad = profileOf('b', SEED1.host, { vsn: Uint8Array.of(1, 5, 2, 0, 0, 0) });
    h.input({ kind: 'streamReply', stream: s!.stream, message: pushPull([{ profile: bad, incarnation: 1, status: 'alive' }], true) });
    expect(h.ofKind('joined', mark)).toMatchObject([{ request: 2, contacted: 0 }]);
    expect(h.node.member('b')).toBeUndefined();
  });

  it('with no seeds, reports at once that nobody was contacted', () => {
    const h = new Harness({ seed: 53 });
    const mark = h.mark();
    h.input({ kind: 'join', request: 3, seeds: [] });
    const [joined] = h.ofKind('joined', mark);
    expect(joined).toMatchObject({ request: 3, contacted: 0 });
    expect(joined!.errors.length).toBe(1);
  });

  it('two nodes that join end up knowing each other', () => {
    const net = new Network();
    const a = net.add(new Harness({ name: 'a', host: '10.0.0.1', seed: 1 }));
    const b = net.add(new Harness({ name: 'b', host: '10.0.0.2', seed: 2 }));
    b.input({ kind: 'join', request: 1, seeds: [a.address] });
    net.advanceTo(1000);
    expect(b.ofKind('joined')).toMatchObject([{ request: 1, contacted: 1, errors: [] }]);
    expect(a.status('b')).toBe('alive');
    expect(b.status('a')).toBe('alive');
    expect(a.events(0, 'join', 'b')).toHaveLength(1);
    expect(b.events(0, 'join', 'a')).toHaveLength(1);
  });
});

describe('periodic push/pull', () => {
  it('exchanges state (join = false) with one random alive member every pushPullInterval', () => {
    const peers = members(5);
    const h = new Harness({ seed: 57, preload: peers }).respond(ackPings());
    h.gossip({ type: 'dead', node: 'm1', incarnation: 1, from: 'x' });
    h.advanceTo(125_000);
    const periodic = h.streams().filter((s) => s.message.type === 'pushPull' && !s.message.join);
    expect(periodic.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < periodic.length; i++) expect(periodic[i]!.at - periodic[i - 1]!.at).toBeCloseTo(30_000, 6);
    // Within the first interval (memberlist: a stagger, then one more interval).
    expect(periodic[0]!.at).toBeLessThan(30_000);
    const alive = peers.filter((p) => p.name !== 'm1').map(addressOf);
    for (const s of periodic) expect(alive).toContainEqual(s.to);
  });

  it('scales the period with the cluster size beyond 32 members', () => {
    expect(pushPullScale(1)).toBe(1);
    expect(pushPullScale(32)).toBe(1);
    expect(pushPullScale(33)).toBe(2);
    expect(pushPullScale(64)).toBe(2);
    expect(pushPullScale(65)).toBe(3);
    expect(pushPullScale(1000)).toBe(6);
  });
});

describe('rejoining after a restart', () => {
  /** A member that holds b in `status` at incarnation 5, and a restarted b at incarnation 1. */
  function restart(status: 'failed' | 'left') {
    const net = new Network();
    const a = net.add(new Harness({ name: 'a', host: '10.0.0.1', seed: 61 }));
    a.node.preload([{ profile: profileOf('b', '10.0.0.2'), incarnation: 5 }]);
    a.gossip({ type: 'dead', node: 'b', incarnation: 5, from: status === 'left' ? 'b' : 'a' });
    expect(a.node.member('b')).toMatchObject({ status, incarnation: 5 });
    const b = net.add(new Harness({ name: 'b', host: '10.0.0.2', seed: 62 }));
    expect(b.node.incarnation).toBe(1);
    return { net, a, b };
  }

  it.each(['failed', 'left'] as const)(
    'a restarted node that learns by push/pull that it is held %s at incarnation 5 refutes to 6, and the cluster takes it back',
    (status) => {
      const { net, a, b } = restart(status);
      const mark = a.mark();
      b.input({ kind: 'join', request: 1, seeds: [a.address] });
      net.advanceTo(50);
      expect(b.ofKind('joined')).toMatchObject([{ contacted: 1 }]);
      expect(b.node.incarnation).toBe(6);
      expect(b.node.member('b')).toMatchObject({ status: 'alive', incarnation: 6 });
      net.advanceTo(2000);
      expect(a.node.member('b')).toMatchObject({ status: 'alive', incarnation: 6 });
      expect(a.events(0, undefined, 'b').map((e) => e.type)).toEqual([status, 'join']);
      expect(a.events(mark, 'join', 'b')[0]!.member.incarnation).toBe(6);
    },
  );

  it('the same, with the push/pull answer fed by hand', () => {
    const b = new Harness({ name: 'b', host: '10.0.0.2', seed: 62 });
    const mark = b.mark();
    b.input({ kind: 'join', request: 1, seeds: [{ host: '10.0.0.1', port: PORT }] });
    const [stream] = b.streams(mark);
    b.input({
      kind: 'streamReply',
      stream: stream!.stream,
      message: pushPull(
        [
          { profile: profileOf('a', '10.0.0.1'), incarnation: 1, status: 'alive' },
          { profile: b.self, incarnation: 5, status: 'failed' },
        ],
        true,
      ),
    });
    expect(b.node.incarnation).toBe(6);
    expect(b.node.healthScore).toBe(1);
    b.packet({ host: '10.0.0.1', port: PORT }, { type: 'ping', seqNo: 1, node: 'b' });
    expect(b.sentAbout('b', mark).map((s) => s.message)).toContainEqual({ type: 'alive', incarnation: 6, profile: b.self });
  });

  it('end to end: a member is detected as failed, restarts with incarnation 1 and is taken back above its old incarnation', () => {
    const net = new Network();
    const nodes = ['a', 'b', 'c'].map((name, i) => net.add(new Harness({ name, host: `10.0.0.${i + 1}`, seed: 70 + i })));
    for (const h of nodes) h.node.preload(nodes.filter((x) => x !== h).map((x) => ({ profile: x.self, incarnation: 1 })));
    const [a, b, c] = nodes as [Harness, Harness, Harness];
    // b's incarnation goes up a few times first (meta changes), then it crashes.
    for (let i = 0; i < 3; i++) b.input({ kind: 'setMeta', meta: Uint8Array.of(0xff, 0x80, i) });
    net.advanceTo(5000);
    expect(a.incarnationOf('b')).toBe(4);
    net.remove(b);
    net.advanceTo(40_000);
    expect(a.status('b')).toBe('failed');
    expect(c.status('b')).toBe('failed');

    const b2 = net.add(new Harness({ name: 'b', host: '10.0.0.2', seed: 99, start: 40_000 }));
    b2.input({ kind: 'join', request: 1, seeds: [a.address] });
    net.advanceTo(45_000);
    expect(b2.node.incarnation).toBeGreaterThan(4);
    for (const h of [a, c]) {
      expect(h.node.member('b')).toMatchObject({ status: 'alive', incarnation: b2.node.incarnation });
      expect(h.events(0, 'join', 'b').length).toBeGreaterThanOrEqual(1);
    }
  });
});
