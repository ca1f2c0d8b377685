/**
 * memberlist's precedence rules (docs/wire-format.md §8.5): how alive, suspect and dead messages about another
 * member change this node's view of it, and which events the application sees.
 */
import { describe, expect, it } from 'vitest';
import type { AliveMessage, DeadMessage, MemberProfile, Message, Status, SuspectMessage } from '../../packages/hearsay/src/core/index.js';
import { about, Harness, PORT, profileOf, type HarnessOptions } from './harness.js';

const B = profileOf('b', '10.0.0.2');
const C = profileOf('c', '10.0.0.3');

function alive(profile: MemberProfile, incarnation: number): AliveMessage {
  return { type: 'alive', incarnation, profile };
}
function suspect(node: string, incarnation: number, from = 'c'): SuspectMessage {
  return { type: 'suspect', node, incarnation, from };
}
function dead(node: string, incarnation: number, from = 'c'): DeadMessage {
  return { type: 'dead', node, incarnation, from };
}
/** A voluntary leave: dead with from === node. */
function left(node: string, incarnation: number): DeadMessage {
  return dead(node, incarnation, node);
}

/**
 * A node ("self") that knows b in `status` at `incarnation` (and c alive), at time 0, before any
 * of its own timers have fired.
 */
function given(status: Status, incarnation: number, options: HarnessOptions = {}): Harness {
  const h = new Harness({ seed: 7, ...options });
  h.node.preload([
    { profile: B, incarnation },
    { profile: C, incarnation: 1 },
  ]);
  if (status === 'suspect') h.gossip(suspect('b', incarnation, 'c'));
  if (status === 'failed') h.gossip(dead('b', incarnation, 'c'));
  if (status === 'left') h.gossip(left('b', incarnation));
  expect(h.status('b')).toBe(status);
  expect(h.incarnationOf('b')).toBe(incarnation);
  return h;
}

/** The updates this node currently has queued, as seen piggybacked on the ack to a probe. */
function queuedUpdates(h: Harness): Message[] {
  const mark = h.mark();
  h.packet({ host: '10.9.9.8', port: PORT }, { type: 'ping', seqNo: 4242, node: '' });
  const [ack] = h.packets(mark);
  expect(ack?.messages[0]).toEqual({ type: 'ack', seqNo: 4242, digest: expect.any(Number) });
  return ack!.messages.slice(1);
}

interface Row {
  given: Status;
  message: Message;
  status: Status;
  incarnation: number;
  events: string[];
  rebroadcast: boolean;
}

function describeMessage(m: Message): string {
  switch (m.type) {
    case 'alive':
      return `an alive at incarnation ${m.incarnation}`;
    case 'suspect':
      return `a suspect at incarnation ${m.incarnation}`;
    case 'dead':
      return m.from === m.node ? `a leave (dead from itself) at incarnation ${m.incarnation}` : `a dead at incarnation ${m.incarnation}`;
    default:
      return m.type;
  }
}

const rows: Row[] = [
  // alive: only a strictly higher incarnation wins, whatever the current state
  { given: 'alive', message: alive(B, 4), status: 'alive', incarnation: 4, events: [], rebroadcast: true },
  { given: 'suspect', message: alive(B, 4), status: 'alive', incarnation: 4, events: ['alive'], rebroadcast: true },
  { given: 'failed', message: alive(B, 4), status: 'alive', incarnation: 4, events: ['join'], rebroadcast: true },
  { given: 'left', message: alive(B, 4), status: 'alive', incarnation: 4, events: ['join'], rebroadcast: true },
  { given: 'alive', message: alive(B, 3), status: 'alive', incarnation: 3, events: [], rebroadcast: false },
  { given: 'suspect', message: alive(B, 3), status: 'suspect', incarnation: 3, events: [], rebroadcast: false },
  { given: 'failed', message: alive(B, 3), status: 'failed', incarnation: 3, events: [], rebroadcast: false },
  { given: 'left', message: alive(B, 3), status: 'left', incarnation: 3, events: [], rebroadcast: false },
  { given: 'alive', message: alive(B, 2), status: 'alive', incarnation: 3, events: [], rebroadcast: false },
  { given: 'suspect', message: alive(B, 2), status: 'suspect', incarnation: 3, events: [], rebroadcast: false },
  { given: 'failed', message: alive(B, 2), status: 'failed', incarnation: 3, events: [], rebroadcast: false },

  // suspect: overrides alive at the same or a higher incarnation only
  { given: 'alive', message: suspect('b', 3, 'd'), status: 'suspect', incarnation: 3, events: ['suspect'], rebroadcast: true },
  { given: 'alive', message: suspect('b', 4, 'd'), status: 'suspect', incarnation: 4, events: ['suspect'], rebroadcast: true },
  { given: 'alive', message: suspect('b', 2, 'd'), status: 'alive', incarnation: 3, events: [], rebroadcast: false },
  { given: 'failed', message: suspect('b', 3, 'd'), status: 'failed', incarnation: 3, events: [], rebroadcast: false },
  { given: 'failed', message: suspect('b', 4, 'd'), status: 'failed', incarnation: 3, events: [], rebroadcast: false },
  { given: 'left', message: suspect('b', 3, 'd'), status: 'left', incarnation: 3, events: [], rebroadcast: false },
  { given: 'left', message: suspect('b', 4, 'd'), status: 'left', incarnation: 3, events: [], rebroadcast: false },

  // dead (failed): overrides alive and suspect at the same or a higher incarnation
  { given: 'alive', message: dead('b', 3, 'd'), status: 'failed', incarnation: 3, events: ['failed'], rebroadcast: true },
  { given: 'alive', message: dead('b', 4, 'd'), status: 'failed', incarnation: 4, events: ['failed'], rebroadcast: true },
  { given: 'alive', message: dead('b', 2, 'd'), status: 'alive', incarnation: 3, events: [], rebroadcast: false },
  { given: 'suspect', message: dead('b', 3, 'd'), status: 'failed', incarnation: 3, events: ['failed'], rebroadcast: true },
  { given: 'suspect', message: dead('b', 4, 'd'), status: 'failed', incarnation: 4, events: ['failed'], rebroadcast: true },
  { given: 'suspect', message: dead('b', 2, 'd'), status: 'suspect', incarnation: 3, events: [], rebroadcast: false },
  { given: 'failed', message: dead('b', 4, 'd'), status: 'failed', incarnation: 3, events: [], rebroadcast: false },
  { given: 'left', message: dead('b', 4, 'd'), status: 'left', incarnation: 3, events: [], rebroadcast: false },

  // left (dead from the member itself): same precedence as dead, but the member becomes left
  { given: 'alive', message: left('b', 3), status: 'left', incarnation: 3, events: ['left'], rebroadcast: true },
  { given: 'alive', message: left('b', 4), status: 'left', incarnation: 4, events: ['left'], rebroadcast: true },
  { given: 'alive', message: left('b', 2), status: 'alive', incarnation: 3, events: [], rebroadcast: false },
  { given: 'suspect', message: left('b', 3), status: 'left', incarnation: 3, events: ['left'], rebroadcast: true },
  { given: 'suspect', message: left('b', 2), status: 'suspect', incarnation: 3, events: [], rebroadcast: false },
  // A failed member known elsewhere to have left (a forced leave, pushed by a peer): left here too, not gossiped (issue 15).
  { given: 'failed', message: left('b', 4), status: 'left', incarnation: 3, events: ['left'], rebroadcast: false },
  { given: 'left', message: left('b', 4), status: 'left', incarnation: 3, events: [], rebroadcast: false },
];

describe('precedence of updates about another member', () => {
  it.each(rows.map((row) => [row.given, describeMessage(row.message), row] as const))(
    'given a member %s at incarnation 3, when %s arrives',
    (_given, _what, row) => {
      const h = given(row.given, 3);
      const mark = h.mark();
      h.gossip(row.message);

      expect(h.status('b')).toBe(row.status);
      expect(h.incarnationOf('b')).toBe(row.incarnation);
      const events = h.events(mark, undefined, 'b');
      expect(events.map((e) => e.type)).toEqual(row.events);
      for (const event of events) {
        expect(event.member).toMatchObject({ name: 'b', status: row.status, incarnation: row.incarnation });
        expect(event.at).toBe(h.now);
      }
      const queued = queuedUpdates(h).filter((m) => about(m) === 'b');
      if (row.rebroadcast) expect(queued).toContainEqual(row.message);
      else expect(queued).not.toContainEqual(row.message);
    },
  );

  it('given a suspect member, a second suspect at a higher incarnation keeps it suspect without a new event', () => {
    const h = given('suspect', 3);
    const mark = h.mark();
    h.gossip(suspect('b', 4, 'd'));
    expect(h.status('b')).toBe('suspect');
    expect(h.events(mark)).toEqual([]);
  });
});

describe('updates about an unknown member', () => {
  it('an alive at incarnation 1 adds it as alive with a join event', () => {
    const h = new Harness();
    const mark = h.mark();
    h.gossip(alive(B, 1));
    expect(h.node.member('b')).toMatchObject({ name: 'b', host: '10.0.0.2', port: PORT, incarnation: 1, status: 'alive' });
    expect(h.events(mark).map((e) => [e.type, e.member.name])).toEqual([['join', 'b']]);
    expect(queuedUpdates(h)).toContainEqual(alive(B, 1));
  });

  it('an alive at incarnation 0 is ignored', () => {
    const h = new Harness();
    const mark = h.mark();
    h.gossip(alive(B, 0));
    expect(h.node.member('b')).toBeUndefined();
    expect(h.events(mark)).toEqual([]);
  });

  it.each([
    ['a suspect', suspect('b', 5)],
    ['a dead', dead('b', 5)],
    ['a leave', left('b', 5)],
  ])('%s about an unknown member is ignored', (_what, message) => {
    const h = new Harness();
    const mark = h.mark();
    h.gossip(message);
    expect(h.node.member('b')).toBeUndefined();
    expect(h.events(mark)).toEqual([]);
    expect(queuedUpdates(h).filter((m) => about(m) === 'b')).toEqual([]);
  });

  it('an alive with an invalid protocol range (PMin > PMax) is ignored', () => {
    const h = new Harness();
    h.gossip(alive({ ...B, vsn: Uint8Array.of(3, 2, 2, 2, 5, 4) }, 1));
    expect(h.node.member('b')).toBeUndefined();
    h.gossip(alive({ ...B, vsn: Uint8Array.of(0, 5, 2, 2, 5, 4) }, 1));
    expect(h.node.member('b')).toBeUndefined();
  });

  it.each([0, 1, 3, 5, 7])('an alive with %i version bytes (not 6) is ignored and never passed on', (length) => {
    const h = new Harness();
    const mark = h.mark();
    h.gossip(alive({ ...B, vsn: new Uint8Array(length).fill(2) }, 1));
    expect(h.node.member('b')).toBeUndefined();
    expect(queuedUpdates(h).filter((m) => about(m) === 'b')).toEqual([]);
    expect(h.events(mark)).toEqual([]);
  });
});

describe('conflicting addresses', () => {
  const moved = { ...B, port: 8000 };

  it.each(['alive', 'suspect'] as const)('given a member %s, an alive from a different address is ignored and reported as a conflict', (status) => {
    const h = given(status, 3);
    const mark = h.mark();
    h.gossip(alive(moved, 9));
    expect(h.node.member('b')).toMatchObject({ port: PORT, incarnation: 3, status });
    expect(h.events(mark)).toEqual([]);
    expect(h.ofKind('conflict', mark)).toMatchObject([{ name: 'b', known: { host: B.host, port: PORT }, claimed: { host: B.host, port: 8000 } }]);
  });

  it.each(['failed', 'left'] as const)('given a member %s, an alive from a new address is the member moved (update event)', (status) => {
    const h = given(status, 3);
    const mark = h.mark();
    h.gossip(alive(moved, 4));
    expect(h.node.member('b')).toMatchObject({ port: 8000, incarnation: 4, status: 'alive' });
    expect(h.events(mark).map((e) => e.type)).toEqual(['update']);
    expect(h.ofKind('conflict', mark)).toEqual([]);
  });

  it('given a member that left, an alive from a new address is accepted even at the same incarnation', () => {
    const h = given('left', 3);
    h.gossip(alive(moved, 3));
    expect(h.node.member('b')).toMatchObject({ port: 8000, incarnation: 3, status: 'alive' });
  });

  it('given a failed member and deadNodeReclaimTime, a new address is a conflict until that time has passed', () => {
    const h = given('failed', 3, { config: { deadNodeReclaimTimeMs: 5000 } });
    h.advanceTo(5000);
    const mark = h.mark();
    h.gossip(alive(moved, 4));
    expect(h.node.member('b')).toMatchObject({ port: PORT, status: 'failed' });
    expect(h.ofKind('conflict', mark)).toHaveLength(1);
    h.advanceTo(5001);
    h.gossip(alive(moved, 4));
    expect(h.node.member('b')).toMatchObject({ port: 8000, incarnation: 4, status: 'alive' });
  });
});

describe('events', () => {
  it('a node announces its own join when it starts', () => {
    const h = new Harness({ start: 1234 });
    expect(h.events().map((e) => [e.type, e.member.name, e.at])).toEqual([['join', 'self', 1234]]);
  });

  it('given an alive member, an alive with a higher incarnation and new meta raises an update event', () => {
    const h = given('alive', 3);
    const mark = h.mark();
    const meta = Uint8Array.of(0xff, 0x81, 0xa1, 0x72, 0xa1, 0x77);
    h.gossip(alive({ ...B, meta }, 4));
    const events = h.events(mark);
    expect(events.map((e) => e.type)).toEqual(['update']);
    expect(Array.from(events[0]!.member.meta)).toEqual(Array.from(meta));
    expect(Array.from(h.node.member('b')!.meta)).toEqual(Array.from(meta));
  });

  it('given an alive member, an alive with a higher incarnation and the same meta raises no event', () => {
    const h = given('alive', 3);
    const mark = h.mark();
    h.gossip(alive({ ...B, meta: Uint8Array.of(0xff, 0x80) }, 4));
    expect(h.events(mark)).toEqual([]);
  });

  it('given a suspect member, a refuting alive with new meta raises alive then update', () => {
    const h = given('suspect', 3);
    const mark = h.mark();
    h.gossip(alive({ ...B, meta: Uint8Array.of(1, 2, 3) }, 4));
    expect(h.events(mark).map((e) => e.type)).toEqual(['alive', 'update']);
  });

  it('an event carries the local time at which it happened', () => {
    const h = given('alive', 3);
    h.advanceTo(250);
    const mark = h.mark();
    h.gossip(dead('b', 3));
    expect(h.events(mark)).toMatchObject([{ type: 'failed', at: 250, member: { name: 'b', status: 'failed', since: 250 } }]);
  });

  it('a user message is handed to the application with its sender', () => {
    const h = new Harness();
    const mark = h.mark();
    h.packet({ host: '10.0.0.9', port: 1 }, { type: 'user', payload: Uint8Array.of(8, 0) });
    expect(h.ofKind('message', mark)).toMatchObject([{ payload: Uint8Array.of(8, 0), from: { host: '10.0.0.9', port: 1 } }]);
  });
});
