/**
 * hearsay's own messages — the heartbeat table (type 0x40) and the protocol switch (0x41):
 * round trips, the exact layout, and agreement of the core's size arithmetic with the encoder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitHeartbeats } from '../../packages/hearsay/src/core/heartbeat.js';
import { compoundOverhead, memberlistSize } from '../../packages/hearsay/src/core/message-size.js';
import type { HeartbeatEntry, HeartbeatsMessage, Message, ProtocolSwitchMessage, Status } from '../../packages/hearsay/src/core/types.js';
import { WireError } from '../../packages/hearsay/src/wire/errors.js';
import { decodeMessage, decodePacket, encodeMessage, encodePacket, WireType } from '../../packages/hearsay/src/wire/index.js';
import { hex, memberProfile, profile, RUNS, toHex } from './helpers.js';

const heartbeat = fc.oneof(
  fc.constantFrom(0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffff, 0x100000000, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 0, max: 0x7fffffff }),
);
const generation = fc.oneof(fc.constantFrom(0, 1, 127, 128, 0xffffffff), fc.integer({ min: 0, max: 0x7fffffff }));
const status = fc.constantFrom<Status>('alive', 'suspect', 'failed', 'left');
const heartbeatEntry: fc.Arbitrary<HeartbeatEntry> = fc.record({ profile: memberProfile, generation, heartbeat, status });
const heartbeats: fc.Arbitrary<HeartbeatsMessage> = fc.array(heartbeatEntry, { maxLength: 40 }).map((entries) => ({ type: 'heartbeats' as const, entries }));

describe('heartbeats message (type 0x40)', () => {
  it('uses type bytes 64 and 65, outside memberlist’s 0..13', () => {
    expect(WireType.heartbeats).toBe(64);
    expect(WireType.protocolSwitch).toBe(65);
    const hearsayOwn = new Set(['heartbeats', 'protocolSwitch']);
    expect(
      Math.max(
        ...Object.entries(WireType)
          .filter(([k]) => !hearsayOwn.has(k))
          .map(([, v]) => v),
      ),
    ).toBe(13);
  });

  it('encodes {Entries: [{Addr, Generation, Heartbeat, Meta, Name, Port, State, Vsn}]} with sorted keys', () => {
    const m: Message = {
      type: 'heartbeats',
      entries: [{ profile: profile('a', '10.0.0.1'), generation: 2, heartbeat: 300, status: 'suspect' }],
    };
    const expected = hex(`
      40 81 a7 456e7472696573 91
      88 a4 41646472 a4 0a000001
         aa 47656e65726174696f6e 02
         a9 4865617274626561 74 cd 012c
         a4 4d657461 a2 ff80
         a4 4e616d65 a1 61
         a4 506f7274 cd 1f0a
         a5 5374617465 01
         a3 56736e a6 010502020504`);
    expect(toHex(encodeMessage(m))).toBe(toHex(expected));
    expect(decodeMessage(expected)).toEqual(m);
    expect(memberlistSize(m)).toBe(expected.length);
  });

  it('round-trips, alone and inside a compound with memberlist messages', () => {
    fc.assert(
      fc.property(heartbeats, fc.boolean(), fc.boolean(), (m, crc, compress) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
        const alive: Message = { type: 'alive', incarnation: 3, profile: profile('x', '10.0.0.9') };
        expect(decodePacket(encodePacket([alive, m], { crc, compress }))).toEqual([alive, m]);
      }),
      RUNS,
    );
  });

  it('memberlistSize agrees with the encoder byte for byte', () => {
    fc.assert(
      fc.property(heartbeats, (m) => {
        expect(encodeMessage(m).length).toBe(memberlistSize(m));
      }),
      { ...RUNS, numRuns: 500 },
    );
    // Array headers of 16+ entries (array16) too.
    fc.assert(
      fc.property(fc.array(heartbeatEntry, { minLength: 16, maxLength: 70 }), (entries) => {
        const m: HeartbeatsMessage = { type: 'heartbeats', entries };
        expect(encodeMessage(m).length).toBe(memberlistSize(m));
        expect(encodePacket([m, m], { crc: false, compress: false }).length).toBe(2 * memberlistSize(m) + compoundOverhead(2));
      }),
      { ...RUNS, numRuns: 50 },
    );
  });

  it('skips entries with an unknown state, as push/pull merging does', () => {
    const good = encodeMessage({ type: 'heartbeats', entries: [{ profile: profile('a', '10.0.0.1'), generation: 1, heartbeat: 1, status: 'alive' }] });
    const bad = good.slice();
    // The State value (fixint 0) is the byte after "a5 State".
    const at = toHex(bad).indexOf('a55374617465') / 2 + 6;
    bad[at] = 9;
    expect(decodeMessage(bad)).toEqual({ type: 'heartbeats', entries: [] });
  });

  it('splitHeartbeats keeps every part within the budget and every entry exactly once', () => {
    fc.assert(
      fc.property(fc.array(heartbeatEntry, { maxLength: 80 }), fc.integer({ min: 400, max: 3000 }), (entries, budget) => {
        const parts = splitHeartbeats(entries, budget);
        expect(parts.flatMap((p) => p.entries)).toEqual(entries);
        for (const part of parts) {
          const size = encodeMessage(part).length;
          if (part.entries.length > 1) expect(size).toBeLessThanOrEqual(budget);
          expect(part.entries.length).toBeGreaterThan(0);
        }
      }),
      { ...RUNS, numRuns: 100 },
    );
  });
});

describe('protocol switch message (type 0x41)', () => {
  const protocolSwitch: fc.Arbitrary<ProtocolSwitchMessage> = fc.record({
    type: fc.constant('protocolSwitch' as const),
    protocol: fc.constantFrom('swim' as const, 'heartbeat' as const, 'hybrid' as const),
    epoch: fc.oneof(fc.constantFrom(0, 1, 127, 128, 65535, 65536, 0xffffffff), fc.nat()),
    origin: fc.string({ maxLength: 40 }),
  });

  it('encodes {Epoch, Origin, Protocol} with sorted keys and the detector as a small int', () => {
    const m: Message = { type: 'protocolSwitch', protocol: 'hybrid', epoch: 300, origin: 'n1' };
    const expected = hex(`
      41 83 a5 45706f6368 cd 012c
            a6 4f726967696e a2 6e31
            a8 50726f746f636f6c 02`);
    expect(toHex(encodeMessage(m))).toBe(toHex(expected));
    expect(decodeMessage(expected)).toEqual(m);
    expect(memberlistSize(m)).toBe(expected.length);
  });

  it('round-trips in compounds, and its size is exact', () => {
    fc.assert(
      fc.property(protocolSwitch, heartbeats, fc.boolean(), (m, table, crc) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
        expect(encodeMessage(m).length).toBe(memberlistSize(m));
        expect(decodePacket(encodePacket([table, m], { crc, compress: false }))).toEqual([table, m]);
      }),
      RUNS,
    );
  });

  it('refuses an unknown detector code', () => {
    const bytes = encodeMessage({ type: 'protocolSwitch', protocol: 'swim', epoch: 1, origin: 'a' });
    bytes[bytes.length - 1] = 7;
    expect(() => decodeMessage(bytes)).toThrow(WireError);
    expect(() => decodeMessage(bytes)).toThrow(/unknown detector/);
  });
});
