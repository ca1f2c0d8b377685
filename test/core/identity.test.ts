/**
 * Identity churn (issue 14), the core's part: a name back at a new address once its member failed
 * or left is that member moved (an `update`); a claim on the name of a live member is a conflict,
 * reported once per name and interval however many forged alives arrive; a seed that lists this
 * node's own name alive elsewhere makes the join report it.
 */
import { describe, expect, it } from 'vitest';
import type { AliveMessage, MemberProfile, PushNodeState, PushPullMessage } from '../../packages/hearsay/src/core/index.js';
import { CONFLICT_REPORT_INTERVAL_MS } from '../../packages/hearsay/src/core/conflicts.js';
import { ackPings, Harness, members, PORT, profileOf } from './harness.js';

const B = profileOf('b', '10.0.0.2');
/** b restarted with a new IP, as a Kubernetes pod is. */
const B_MOVED = profileOf('b', '10.0.0.99');
const SEED = { host: '10.0.0.3', port: PORT };

function alive(profile: MemberProfile, incarnation: number): AliveMessage {
  return { type: 'alive', incarnation, profile };
}

function withB(): Harness {
  const h = new Harness({ seed: 11 });
  h.node.preload([{ profile: B, incarnation: 3 }]);
  return h;
}

function pushPull(states: PushNodeState[]): PushPullMessage {
  return { type: 'pushPull', join: true, states, userState: new Uint8Array(0) };
}

describe('a member back at a new address', () => {
  it('after it failed, is that member moved: alive at the new address, with an update event', () => {
    const h = withB();
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'c' });
    const mark = h.mark();
    h.gossip(alive(B_MOVED, 4));
    expect(h.node.member('b')).toMatchObject({ host: '10.0.0.99', port: PORT, incarnation: 4, status: 'alive' });
    expect(h.events(mark).map((e) => [e.type, e.member.host])).toEqual([['update', '10.0.0.99']]);
    expect(h.ofKind('conflict', mark)).toEqual([]);
  });

  it('after it left, is that member moved too', () => {
    const h = withB();
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'b' });
    const mark = h.mark();
    h.gossip(alive(B_MOVED, 4));
    expect(h.node.member('b')).toMatchObject({ host: '10.0.0.99', status: 'alive' });
    expect(h.events(mark).map((e) => e.type)).toEqual(['update']);
  });

  it('at its old address after it failed is a join, as before', () => {
    const h = withB();
    h.gossip({ type: 'dead', node: 'b', incarnation: 3, from: 'c' });
    const mark = h.mark();
    h.gossip(alive(B, 4));
    expect(h.events(mark).map((e) => e.type)).toEqual(['join']);
  });
});

describe('a claim on a live member’s name', () => {
  it('is ignored and reported as a conflict: the name, the address known and the one claiming it', () => {
    const h = withB();
    const mark = h.mark();
    h.gossip(alive(B_MOVED, 9));
    expect(h.node.member('b')).toMatchObject({ host: '10.0.0.2', incarnation: 3, status: 'alive' });
    expect(h.events(mark)).toEqual([]);
    expect(h.ofKind('conflict', mark)).toEqual([
      { kind: 'conflict', name: 'b', known: { host: '10.0.0.2', port: PORT }, claimed: { host: '10.0.0.99', port: PORT }, at: 0 },
    ]);
    expect(h.node.stats.messagesIgnored).toBe(1);
  });

  it('about this node’s own name is a conflict too (Serf’s cue for its resolution), and is not refuted', () => {
    const h = new Harness({ seed: 11, name: 'self', host: '10.0.0.1' });
    const mark = h.mark();
    h.gossip(alive(profileOf('self', '10.0.0.50'), 9));
    expect(h.ofKind('conflict', mark)).toMatchObject([{ name: 'self', known: { host: '10.0.0.1' }, claimed: { host: '10.0.0.50' } }]);
    expect(h.node.incarnation).toBe(1);
    expect(h.node.stats.refutations).toBe(0);
  });

  it('under a flood of 10,000 forged alives gives one output per interval; the rest are counted drops', () => {
    const h = withB();
    const mark = h.mark();
    for (let i = 0; i < 10_000; i++) h.gossip(alive(profileOf('b', `10.2.${i >> 8}.${i & 255}`), 10 + i));
    expect(h.ofKind('conflict', mark)).toHaveLength(1);
    expect(h.ofKind('notice', mark)).toEqual([]);
    expect(h.node.stats.dropped['conflict-repeated']).toBe(9_999);
    expect(h.node.member('b')).toMatchObject({ host: '10.0.0.2', incarnation: 3 });
    // Once the interval is over, a conflict still going on (b answering its probes) is reported again.
    h.respond(ackPings());
    h.advanceTo(CONFLICT_REPORT_INTERVAL_MS);
    h.gossip(alive(B_MOVED, 5));
    expect(h.status('b')).toBe('alive');
    expect(h.ofKind('conflict', mark)).toHaveLength(2);
  });

  it('about many names at once is reported at a bounded rate (10 a second) whatever their number', () => {
    const h = new Harness({ seed: 11 });
    const listed = members(100);
    h.node.preload(listed.map((profile) => ({ profile, incarnation: 1 })));
    const mark = h.mark();
    for (const profile of listed) h.gossip(alive({ ...profile, port: 9000 }, 2));
    expect(h.ofKind('conflict', mark)).toHaveLength(10);
    expect(h.node.stats.dropped['conflict-repeated']).toBe(90);
  });
});

describe('joining under a name the cluster holds elsewhere', () => {
  function joinWith(states: PushNodeState[]) {
    const h = new Harness({ seed: 11, name: 'self', host: '10.0.0.1' });
    const mark = h.mark();
    h.input({ kind: 'join', request: 1, seeds: [SEED] });
    const [stream] = h.streams(mark);
    h.input({ kind: 'streamReply', stream: stream!.stream, message: pushPull(states) }, 5);
    return h.ofKind('joined', mark);
  }
  const seed = { profile: profileOf('seed', SEED.host), incarnation: 1, status: 'alive' as const };

  it('reports the claim when the seed lists this node’s name alive at another address', () => {
    const other = { profile: profileOf('self', '10.0.0.77'), incarnation: 42, status: 'alive' as const };
    expect(joinWith([seed, other])).toMatchObject([{ request: 1, contacted: 1, conflict: { address: { host: '10.0.0.77', port: PORT }, incarnation: 42 } }]);
  });

  it('reports it for a suspect claimant as well, which is still running as far as the cluster knows', () => {
    const other = { profile: profileOf('self', '10.0.0.77'), incarnation: 42, status: 'suspect' as const };
    expect(joinWith([seed, other])[0]?.conflict).toEqual({ address: { host: '10.0.0.77', port: PORT }, incarnation: 42 });
  });

  it('reports none when the seed lists this node at its own address, or the other one failed or left', () => {
    expect(joinWith([seed, { profile: profileOf('self', '10.0.0.1'), incarnation: 7, status: 'alive' }])[0]).not.toHaveProperty('conflict');
    expect(joinWith([seed, { profile: profileOf('self', '10.0.0.77'), incarnation: 7, status: 'failed' }])[0]).not.toHaveProperty('conflict');
    expect(joinWith([seed, { profile: profileOf('self', '10.0.0.77'), incarnation: 7, status: 'left' }])[0]).not.toHaveProperty('conflict');
  });
});
