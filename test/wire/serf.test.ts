/** Serf 0.9.4's layer (docs/wire-format.md §9): tags, join/leave intents, the LTime in push/pull user state. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeSerfUserEvent,
  encodeSerfUserState,
  WireError,
  decodeSerfMessage,
  decodeTags,
  encodeSerfJoin,
  encodeSerfLeave,
  encodeTags,
  parseSerfUserState,
  serfStateLTime,
} from '../../packages/hearsay/src/wire/index.js';
import { MsgpackWriter } from '../../packages/hearsay/src/wire/msgpack.js';
import { SERF } from '../fixtures/wire-vectors.js';
import { RUNS, hex, toHex } from './helpers.js';

describe('tags', () => {
  it('round-trip any string map', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ maxLength: 10 }).filter((k) => k !== '__proto__'),
          fc.string({ maxLength: 20 }),
          { maxKeys: 8 },
        ),
        (tags) => {
          expect(decodeTags(encodeTags(tags))).toEqual(tags);
        },
      ),
      RUNS,
    );
  });

  it('legacy Meta without 0xFF is the role; empty Meta is no tags', () => {
    expect(decodeTags(new TextEncoder().encode('web'))).toEqual({ role: 'web' });
    expect(decodeTags(new Uint8Array(0))).toEqual({});
  });

  it('refuses tags over 512 bytes when encoding and malformed maps when decoding', () => {
    expect(encodeTags({ k: 'v'.repeat(500) }).length).toBeLessThanOrEqual(512);
    expect(() => encodeTags({ k: 'v'.repeat(510) })).toThrow(/512/);
    expect(() => decodeTags(hex('ff 81 a1 6b 07'))).toThrow(WireError);
    expect(() => decodeTags(hex('ff 93'))).toThrow(WireError);
    expect(() => decodeTags(hex('ff 81 a1'))).toThrow(WireError);
  });
});

describe('intents', () => {
  it('leave: 00 + {LTime, Node, Prune}; join: 01 + {LTime, Node}', () => {
    expect(toHex(encodeSerfLeave({ ltime: 5, node: 'a', prune: false }))).toBe(toHex(hex(SERF.leave)));
    expect(toHex(encodeSerfJoin({ ltime: 300, node: 'a' }))).toBe(toHex(hex(SERF.join)));
    expect(decodeSerfMessage(encodeSerfLeave({ ltime: 5, node: 'a', prune: true }))).toEqual({ type: 'leave', ltime: 5n, node: 'a', prune: true });
    expect(decodeSerfMessage(encodeSerfJoin({ ltime: 300, node: 'a' }))).toEqual({ type: 'join', ltime: 300n, node: 'a' });
  });

  it('uint64 LTimes decode exactly: 2^53, 2^53 + 1, 2^64 − 1', () => {
    for (const ltime of [2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n]) {
      expect(decodeSerfMessage(encodeSerfJoin({ ltime, node: 'a' }))).toEqual({ type: 'join', ltime, node: 'a' });
      expect(decodeSerfMessage(encodeSerfLeave({ ltime, node: 'a', prune: false }))).toEqual({ type: 'leave', ltime, node: 'a', prune: false });
      const event = { ltime, name: 'e', payload: Uint8Array.of(1), coalesce: false };
      expect(decodeSerfMessage(encodeSerfUserEvent(event))).toEqual({ type: 'event', ...event });
    }
    expect(toHex(encodeSerfJoin({ ltime: 2n ** 64n - 1n, node: 'a' }))).toBe(toHex(hex(SERF.joinMaxLtime)));
  });

  it('other Serf types are reported by number, never thrown', () => {
    for (const type of [2, 4, 5, 6, 7, 8, 9, 200]) expect(decodeSerfMessage(Uint8Array.of(type, 0xc1))).toEqual({ type: 'other', serfType: type });
  });

  it('user events round-trip, and match the bytes of the captured `serf event`', () => {
    const event = { ltime: 5n, name: 'deploy', payload: Uint8Array.of(1, 2, 3), coalesce: false };
    expect(decodeSerfMessage(encodeSerfUserEvent(event))).toEqual({ type: 'event', ...event });
    // 03 + {CC: false, LTime, Name, Payload}, keys in Go's sorted order.
    expect(toHex(encodeSerfUserEvent(event))).toBe(toHex(hex(SERF.userEvent)));
  });

  it('empty or malformed intents are WireErrors', () => {
    for (const bad of [new Uint8Array(0), Uint8Array.of(0), hex('00 91 01'), hex('01 81 a5 4c54696d65 a1 31'), hex('00 81 a5 4c54696d65 ff')]) {
      expect(() => decodeSerfMessage(bad)).toThrow(WireError);
    }
  });
});

describe('push/pull user state', () => {
  const state = (ltime: number | bigint) => new MsgpackWriter().byte(2).struct({ EventLTime: 4, LTime: ltime, QueryLTime: 9 }).finish();

  it('reads the clocks from 02 + {LTime, EventLTime, QueryLTime, ...}', () => {
    expect(parseSerfUserState(state(17))).toEqual({ ltime: 17n, eventLTime: 4n, queryLTime: 9n, events: [] });
    expect(serfStateLTime(state(17))).toBe(17n);
    expect(serfStateLTime(state(1n << 60n))).toBe(1n << 60n);
    expect(serfStateLTime(state(2n ** 64n - 1n))).toBe(2n ** 64n - 1n);
  });

  it('reads through the other fields Serf sends', () => {
    const w = new MsgpackWriter().byte(2).mapHeader(6);
    w.text('EventLTime').uint(3);
    w.text('Events').byte(0xdc).u16(512);
    for (let i = 0; i < 512; i++) {
      if (i === 3) w.mapHeader(2).text('Events').byte(0x91).mapHeader(2).text('Name').text('deploy').text('Payload').nil().text('LTime').uint(3);
      else w.nil();
    }
    w.text('LTime').uint(42);
    w.text('LeftMembers').byte(0x91).text('gone');
    w.text('QueryLTime').uint(1);
    w.text('StatusLTimes').mapHeader(1).text('a').uint(42);
    expect(parseSerfUserState(w.finish())).toEqual({
      ltime: 42n,
      eventLTime: 3n,
      queryLTime: 1n,
      events: [{ ltime: 3n, events: [{ name: 'deploy', payload: new Uint8Array(0) }] }],
    });
  });

  it('null for anything else', () => {
    for (const bad of [new Uint8Array(0), Uint8Array.of(1, 0x80), Uint8Array.of(2), Uint8Array.of(2, 0x91, 1), hex('02 81 a5 4c54696d65 a1 31')]) {
      expect(parseSerfUserState(bad)).toBeNull();
    }
  });
});

describe('push/pull user state written by hearsay', () => {
  it('round-trips clocks and recent events, with empty member intents', () => {
    const state = {
      ltime: 7,
      eventLTime: 12,
      queryLTime: 3,
      events: [
        { ltime: 11, events: [{ name: 'deploy', payload: Buffer.from('v1') }] },
        {
          ltime: 12,
          events: [
            { name: 'a', payload: new Uint8Array(0) },
            { name: 'b', payload: Uint8Array.of(0, 255) },
          ],
        },
      ],
    };
    const bytes = encodeSerfUserState(state);
    expect(bytes[0]).toBe(2);
    const parsed = parseSerfUserState(bytes)!;
    expect(parsed.ltime).toBe(7n);
    expect(parsed.eventLTime).toBe(12n);
    expect(parsed.queryLTime).toBe(3n);
    expect(parsed.events.map((slot) => ({ ltime: slot.ltime, events: slot.events.map((e) => `${e.name}:${Buffer.from(e.payload).toString('hex')}`) }))).toEqual(
      [
        { ltime: 11n, events: ['deploy:7631'] },
        { ltime: 12n, events: ['a:', 'b:00ff'] },
      ],
    );
    // Serf reads LeftMembers as nil and StatusLTimes as an empty map: nothing said about members.
    expect(toHex(bytes)).toContain(toHex(new MsgpackWriter().text('LeftMembers').nil().text('QueryLTime').uint(3).text('StatusLTimes').mapHeader(0).finish()));
  });

  it('carries clocks at the top of the uint64 range exactly', () => {
    const top = 2n ** 64n - 1n;
    const events = [{ ltime: top, events: [{ name: 'e', payload: Uint8Array.of(1) }] }];
    const state = { ltime: top, eventLTime: 2n ** 53n, queryLTime: top, events };
    expect(parseSerfUserState(encodeSerfUserState(state))).toEqual(state);
  });

  it('skips malformed event slots but keeps the clocks', () => {
    const w = new MsgpackWriter().byte(2).mapHeader(3);
    w.text('EventLTime').uint(5).text('Events').arrayHeader(2).uint(9).mapHeader(1).text('LTime').uint(4);
    w.text('LTime').uint(2);
    expect(parseSerfUserState(w.finish())).toEqual({ ltime: 2n, eventLTime: 5n, queryLTime: 0n, events: [{ ltime: 4n, events: [] }] });
  });
});
