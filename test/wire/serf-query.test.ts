/** Serf queries (docs/wire-format.md §9.3): query 4, query response 5, relay 9, key request 7 / response 8, conflict response 6. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_QUERY_BYTES,
  MAX_QUERY_RESPONSE_BYTES,
  QueryFlag,
  decodeHost,
  decodeSerfKeyRequest,
  decodeSerfKeyResponse,
  decodeSerfQuery,
  decodeSerfQueryResponse,
  decodeSerfRelay,
  encodeSerfConflictResponse,
  encodeSerfKeyRequest,
  encodeSerfKeyResponse,
  encodeSerfQuery,
  encodeSerfQueryResponse,
  encodeSerfRelay,
  type QueryFilter,
  type SerfConflictMember,
  type SerfKeyResponse,
  type SerfQuery,
  type SerfQueryResponse,
} from '../../packages/hearsay/src/wire/index.js';
import { MsgpackWriter, readObject } from '../../packages/hearsay/src/wire/msgpack.js';
import { SERF } from '../fixtures/wire-vectors.js';
import { RUNS, VSN, hex, host, name, toHex } from './helpers.js';

// ---- generators

const uint32 = fc.oneof(fc.constantFrom(0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffff), fc.nat({ max: 0xffffffff }));
const uint8 = fc.oneof(fc.constantFrom(0, 1, 5, 127, 128, 255), fc.nat({ max: 0xff }));
const port = fc.oneof(fc.constantFrom(0, 7946, 65535), fc.nat({ max: 0xffff }));
// Lamport times are Go uint64s, all of them: past 2^53 and up to 2^64 − 1.
const ltime = fc.oneof(
  fc.constantFrom(0n, 1n, 127n, 128n, 0xffffffffn, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);
const payload = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 200, maxLength: 900 }));

const filter: fc.Arbitrary<QueryFilter> = fc.oneof(
  fc.array(name, { maxLength: 5 }).map((names) => ({ kind: 'nodes' as const, names })),
  fc.record({ kind: fc.constant('tag' as const), tag: name, expr: name }),
  fc.integer({ min: 2, max: 255 }).map((type) => ({ kind: 'unknown' as const, type })),
);

const query: fc.Arbitrary<SerfQuery> = fc.record({
  ltime,
  id: uint32,
  host,
  port,
  sourceNode: name,
  filters: fc.array(filter, { maxLength: 4 }),
  flags: uint32,
  relayFactor: uint8,
  // Whole milliseconds, up to a day: Go's nanoseconds are exactly ms × 10⁶.
  timeoutMs: fc.oneof(fc.constantFrom(0, 1, 1000, 3_600_000), fc.nat({ max: 86_400_000 })),
  name,
  payload,
});

const queryResponse: fc.Arbitrary<SerfQueryResponse> = fc.record({ ltime, id: uint32, from: name, flags: uint32, payload });

const base64Key = fc
  .constantFrom(16, 24, 32)
  .chain((length) => fc.uint8Array({ minLength: length, maxLength: length }))
  .map((key) => Buffer.from(key).toString('base64'));

/** A struct with hand-picked field encodings, keys sorted as go-msgpack writes them. */
function rawStruct(type: number, fields: Record<string, (w: MsgpackWriter) => unknown>): Uint8Array {
  const keys = Object.keys(fields).sort();
  const w = new MsgpackWriter().byte(type).mapHeader(keys.length);
  for (const key of keys) {
    w.text(key);
    fields[key]!(w);
  }
  return w.finish();
}

const validQueryFields = (): Record<string, (w: MsgpackWriter) => unknown> => ({
  Addr: (w) => w.raw(Uint8Array.of(10, 0, 0, 1)),
  Filters: (w) => w.nil(),
  Flags: (w) => w.uint(0),
  ID: (w) => w.uint(7),
  LTime: (w) => w.uint(5),
  Name: (w) => w.text('q'),
  Payload: (w) => w.raw(Uint8Array.of(1, 2)),
  Port: (w) => w.uint(7946),
  RelayFactor: (w) => w.uint(0),
  SourceNode: (w) => w.text('a'),
  Timeout: (w) => w.uint(1_000_000_000),
});

const queryWith = (overrides: Record<string, (w: MsgpackWriter) => unknown>): Uint8Array => rawStruct(4, { ...validQueryFields(), ...overrides });

/** The WireError a decoder throws (fails the test for anything else, or no error). */
function wireError(fn: () => unknown): { reason: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toMatchObject({ name: 'WireError' });
    return error as { reason: string; message: string };
  }
  throw new Error('expected a WireError, but the input was accepted');
}

const BASE_QUERY: SerfQuery = {
  ltime: 5n,
  id: 7,
  host: '10.0.0.1',
  port: 7946,
  sourceNode: 'a',
  filters: [],
  flags: QueryFlag.ack,
  relayFactor: 0,
  timeoutMs: 1000,
  name: 'q',
  payload: Uint8Array.of(1, 2),
};

describe('serf query (type 4)', () => {
  it('limits and flags are Serf’s', () => {
    expect(MAX_QUERY_BYTES).toBe(1024);
    expect(MAX_QUERY_RESPONSE_BYTES).toBe(1024);
    expect(QueryFlag).toEqual({ ack: 1, noBroadcast: 2 });
  });

  it('round-trips every field: filters of both kinds, IPv4/IPv6/v4-mapped hosts, timeouts', () => {
    fc.assert(
      fc.property(query, (q) => {
        const bytes = encodeSerfQuery(q);
        expect(bytes[0]).toBe(4);
        expect(decodeSerfQuery(bytes)).toEqual(q);
      }),
      RUNS,
    );
  });

  it('hex vector: a query without filters, ack wanted, Timeout 1 s = 10⁹ ns', () => {
    const expected = hex(SERF.query);
    expect(toHex(encodeSerfQuery(BASE_QUERY))).toBe(toHex(expected));
    expect(decodeSerfQuery(expected)).toEqual(BASE_QUERY);
  });

  it('hex vector: node and tag filters, IPv6 Addr, 40-byte source name (str16), big ID and LTime', () => {
    const q: SerfQuery = {
      ...BASE_QUERY,
      ltime: 70000n,
      id: 0xffffffff,
      host: 'fd00::1',
      port: 80,
      sourceNode: 'n'.repeat(40),
      filters: [
        { kind: 'nodes', names: ['a', 'b'] },
        { kind: 'tag', tag: 'role', expr: '^web' },
      ],
      flags: QueryFlag.ack | QueryFlag.noBroadcast,
      relayFactor: 3,
      timeoutMs: 15,
      payload: new Uint8Array(0),
    };
    const expected = hex(SERF.queryFiltered);
    expect(toHex(encodeSerfQuery(q))).toBe(toHex(expected));
    expect(decodeSerfQuery(expected)).toEqual(q);
  });

  it('Timeout: Go nanoseconds ↔ milliseconds, fractions of a ms included', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(0, 1, 999_999, 1_000_000, 1_500_000), fc.nat({ max: 2 ** 48 })), (nanos) => {
        const bytes = queryWith({ Timeout: (w) => w.uint(nanos) });
        const decoded = decodeSerfQuery(bytes);
        expect(decoded.timeoutMs).toBe(nanos / 1_000_000);
        // And back to the very same bytes.
        expect(toHex(encodeSerfQuery(decoded))).toBe(toHex(bytes));
      }),
      RUNS,
    );
    // A uint64 beyond 2^53 ns (104 days) still decodes, as a number.
    expect(decodeSerfQuery(queryWith({ Timeout: (w) => w.uint(2n ** 60n) })).timeoutMs).toBeCloseTo(2 ** 60 / 1e6, -3);
  });

  it('Timeout: negative (Go int64), nil or absent counts as 0', () => {
    expect(decodeSerfQuery(queryWith({ Timeout: (w) => w.byte(0xff) })).timeoutMs).toBe(0); // fixint −1
    expect(decodeSerfQuery(queryWith({ Timeout: (w) => w.byte(0xd3).u32(0xffffffff).u32(0xffffff00) })).timeoutMs).toBe(0); // int64 −256
    expect(decodeSerfQuery(queryWith({ Timeout: (w) => w.nil() })).timeoutMs).toBe(0);
    const { Timeout: _, ...withoutTimeout } = validQueryFields();
    expect(decodeSerfQuery(rawStruct(4, withoutTimeout)).timeoutMs).toBe(0);
    // A negative timeout is sent as 0.
    expect(decodeSerfQuery(encodeSerfQuery({ ...BASE_QUERY, timeoutMs: -5 })).timeoutMs).toBe(0);
  });

  it('missing fields are zero values; only Addr is required', () => {
    const minimal = hex('04 81 a4 41646472 a4 0a000001');
    expect(decodeSerfQuery(minimal)).toEqual({
      ltime: 0n,
      id: 0,
      host: '10.0.0.1',
      port: 0,
      sourceNode: '',
      filters: [],
      flags: 0,
      relayFactor: 0,
      timeoutMs: 0,
      name: '',
      payload: new Uint8Array(0),
    });
  });

  it('reads what Go also accepts: str8 strings, bin payloads, an empty Filters array, unknown keys, trailing bytes', () => {
    const q = decodeSerfQuery(
      queryWith({
        Name: (w) =>
          w
            .byte(0xd9)
            .byte(3)
            .bytes(Uint8Array.of(0x61, 0x62, 0x63)),
        Payload: (w) => w.byte(0xc4).byte(2).bytes(Uint8Array.of(9, 8)),
        Filters: (w) => w.arrayHeader(0),
        Zzz: (w) => w.arrayHeader(2).uint(1).text('x'),
      }),
    );
    expect(q).toMatchObject({ name: 'abc', payload: Uint8Array.of(9, 8), filters: [] });
    const withTail = Uint8Array.of(...encodeSerfQuery(BASE_QUERY), 0xc1, 0xff);
    expect(decodeSerfQuery(withTail)).toEqual(BASE_QUERY);
  });

  it('an unknown filter type decodes as {kind: "unknown"}, whatever follows its type byte', () => {
    const filters = (list: Uint8Array[]) =>
      queryWith({
        Filters: (w) => {
          w.arrayHeader(list.length);
          for (const f of list) w.raw(f);
        },
      });
    expect(decodeSerfQuery(filters([Uint8Array.of(2)])).filters).toEqual([{ kind: 'unknown', type: 2 }]);
    expect(decodeSerfQuery(filters([Uint8Array.of(0xff, 0xc1, 0x00), hex('00 91 a1 61')])).filters).toEqual([
      { kind: 'unknown', type: 255 },
      { kind: 'nodes', names: ['a'] },
    ]);
  });

  it('empty or truncated input is "truncated"', () => {
    expect(wireError(() => decodeSerfQuery(new Uint8Array(0))).reason).toBe('truncated');
    expect(wireError(() => decodeSerfQuery(Uint8Array.of(4))).reason).toBe('truncated');
    const full = encodeSerfQuery({ ...BASE_QUERY, filters: [{ kind: 'nodes', names: ['a'] }] });
    for (let cut = 1; cut < full.length; cut++) {
      expect(wireError(() => decodeSerfQuery(full.subarray(0, cut))).reason).toBe('truncated');
    }
  });

  it('wrong types are "malformed", with the field named', () => {
    const cases: [Record<string, (w: MsgpackWriter) => unknown>, RegExp][] = [
      [{ Filters: (w) => w.uint(5) }, /Filters: expected an array/],
      [{ Filters: (w) => w.text('ab') }, /Filters: expected an array/],
      [{ Filters: (w) => w.mapHeader(0) }, /Filters: expected an array/],
      [{ Filters: (w) => w.arrayHeader(1).uint(5) }, /filter: expected non-empty bytes/],
      [{ Filters: (w) => w.arrayHeader(1).raw(new Uint8Array(0)) }, /filter: expected non-empty bytes/],
      [{ Filters: (w) => w.arrayHeader(1).nil() }, /filter: expected non-empty bytes/],
      [{ Filters: (w) => w.arrayHeader(1).raw(hex('00 a1 61')) }, /node filter: expected a list of names/],
      [{ Filters: (w) => w.arrayHeader(1).raw(hex('00 91 05')) }, /node filter: expected a list of names/],
      [{ Filters: (w) => w.arrayHeader(1).raw(hex('01 91 a1 61')) }, /tag filter: expected a msgpack map/],
      [{ Filters: (w) => w.arrayHeader(1).raw(hex('01 81 a4 45787072 05')) }, /tag filter\.Expr: expected a string/],
      [{ Filters: (w) => w.arrayHeader(1).raw(hex('01 81 a3 546167 91 00')) }, /tag filter\.Tag: expected a string/],
      [{ Addr: (w) => w.raw(Uint8Array.of(10, 0, 0, 1, 2)) }, /Addr: an IP address has 4 or 16 bytes, got 5/],
      [{ Addr: (w) => w.raw(new Uint8Array(0)) }, /Addr: an IP address has 4 or 16 bytes, got 0/],
      [{ Addr: (w) => w.nil() }, /Addr: missing/],
      [{ Addr: (w) => w.uint(1) }, /Addr: expected bytes/],
      [{ ID: (w) => w.uint(2 ** 32) }, /ID: expected an unsigned integer ≤ 4294967295/],
      [{ ID: (w) => w.byte(0xff) }, /ID: expected an unsigned integer/], // fixint −1
      [{ Port: (w) => w.uint(65536) }, /Port: expected an unsigned integer ≤ 65535/],
      [{ RelayFactor: (w) => w.uint(256) }, /RelayFactor: expected an unsigned integer ≤ 255/],
      [{ Flags: (w) => w.uint(2 ** 32) }, /Flags: expected an unsigned integer ≤ 4294967295/],
      [{ LTime: (w) => w.text('5') }, /LTime: expected an unsigned integer/],
      [{ Name: (w) => w.uint(1) }, /Name: expected a string/],
      [{ SourceNode: (w) => w.bool(true) }, /SourceNode: expected a string/],
      [{ Payload: (w) => w.uint(1) }, /Payload: expected bytes/],
    ];
    for (const [fields, message] of cases) {
      const error = wireError(() => decodeSerfQuery(queryWith(fields)));
      expect(error.reason).toBe('malformed');
      expect(error.message).toMatch(message);
    }
    // Not a map at all, and msgpack's reserved byte.
    expect(wireError(() => decodeSerfQuery(hex('04 91 01'))).reason).toBe('malformed');
    expect(wireError(() => decodeSerfQuery(hex('04 c1'))).reason).toBe('malformed');
    // A node filter cut short inside its bytes.
    expect(wireError(() => decodeSerfQuery(queryWith({ Filters: (w) => w.arrayHeader(1).raw(hex('00 92 a1 61')) }))).reason).toBe('truncated');
    expect(wireError(() => decodeSerfQuery(queryWith({ Filters: (w) => w.arrayHeader(1).raw(hex('00')) }))).reason).toBe('truncated');
  });

  it('never throws anything but a WireError on random bytes after the type byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (tail) => {
        try {
          decodeSerfQuery(Uint8Array.of(4, ...tail));
        } catch (error) {
          expect(error).toMatchObject({ name: 'WireError' });
        }
      }),
      RUNS,
    );
  });
});

describe('serf query response (type 5)', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(queryResponse, (r) => {
        const bytes = encodeSerfQueryResponse(r);
        expect(bytes[0]).toBe(5);
        expect(decodeSerfQueryResponse(bytes)).toEqual(r);
      }),
      RUNS,
    );
  });

  it('hex vector: an ack', () => {
    const ack: SerfQueryResponse = { ltime: 5n, id: 7, from: 'b', flags: QueryFlag.ack, payload: new Uint8Array(0) };
    const expected = hex(SERF.queryAck);
    expect(toHex(encodeSerfQueryResponse(ack))).toBe(toHex(expected));
    expect(decodeSerfQueryResponse(expected)).toEqual(ack);
  });

  it('hex vector: an answer with a 40-byte payload (str16), u16 ID and u32 LTime', () => {
    const answer: SerfQueryResponse = { ltime: 0x10000n, id: 300, from: 'node-1', flags: 0, payload: new Uint8Array(40).fill(0xab) };
    const expected = hex(SERF.queryAnswer);
    expect(toHex(encodeSerfQueryResponse(answer))).toBe(toHex(expected));
    expect(decodeSerfQueryResponse(expected)).toEqual(answer);
  });

  it('LTimes past 2^53, up to 2^64 − 1, encode as cf + 8 bytes and decode exactly', () => {
    for (const [ltime, bytes] of [
      [2n ** 53n, '0020000000000000'],
      [2n ** 53n + 1n, '0020000000000001'],
      [2n ** 64n - 1n, 'ffffffffffffffff'],
    ] as const) {
      const response: SerfQueryResponse = { ltime, id: 7, from: 'b', flags: QueryFlag.ack, payload: new Uint8Array(0) };
      const expected = hex(`05 85 a5 466c616773 01 a4 46726f6d a1 62 a2 4944 07 a5 4c54696d65 cf ${bytes} a7 5061796c6f6164 c0`);
      expect(toHex(encodeSerfQueryResponse(response))).toBe(toHex(expected));
      expect(decodeSerfQueryResponse(expected)).toEqual(response);
      expect(decodeSerfQuery(encodeSerfQuery({ ...BASE_QUERY, ltime })).ltime).toBe(ltime);
    }
  });

  it('Go’s nil payload (c0) and missing fields read as empty', () => {
    expect(decodeSerfQueryResponse(hex('05 82 a5 466c616773 01 a7 5061796c6f6164 c0'))).toEqual({
      ltime: 0n,
      id: 0,
      from: '',
      flags: 1,
      payload: new Uint8Array(0),
    });
  });

  it('refuses empty, truncated and mistyped input', () => {
    expect(wireError(() => decodeSerfQueryResponse(new Uint8Array(0))).reason).toBe('truncated');
    expect(wireError(() => decodeSerfQueryResponse(Uint8Array.of(5))).reason).toBe('truncated');
    const full = encodeSerfQueryResponse({ ltime: 5, id: 7, from: 'b', flags: 0, payload: Uint8Array.of(1) });
    for (let cut = 1; cut < full.length; cut++) expect(wireError(() => decodeSerfQueryResponse(full.subarray(0, cut))).reason).toBe('truncated');
    const cases: [Uint8Array, RegExp][] = [
      [hex('05 01'), /expected a msgpack map/],
      [rawStruct(5, { From: (w) => w.uint(1) }), /From: expected a string/],
      [rawStruct(5, { ID: (w) => w.uint(2 ** 32) }), /ID: expected an unsigned integer/],
      [rawStruct(5, { Flags: (w) => w.text('1') }), /Flags: expected an unsigned integer/],
      [rawStruct(5, { LTime: (w) => w.arrayHeader(0) }), /LTime: expected an unsigned integer/],
      [rawStruct(5, { Payload: (w) => w.bool(true) }), /Payload: expected bytes/],
    ];
    for (const [bytes, message] of cases) {
      const error = wireError(() => decodeSerfQueryResponse(bytes));
      expect(error.reason).toBe('malformed');
      expect(error.message).toMatch(message);
    }
  });
});

describe('serf relay (type 9)', () => {
  it('round-trips the destination and keeps the inner bytes exactly', () => {
    fc.assert(
      fc.property(
        host,
        port,
        name,
        fc.oneof(queryResponse.map(encodeSerfQueryResponse), fc.uint8Array({ minLength: 1, maxLength: 300 })),
        (h, p, dest, inner) => {
          const bytes = encodeSerfRelay({ host: h, port: p }, dest, inner);
          expect(bytes[0]).toBe(9);
          expect(bytes.subarray(bytes.length - inner.length)).toEqual(inner);
          expect(decodeSerfRelay(bytes)).toEqual({ host: h, port: p, inner });
        },
      ),
      RUNS,
    );
  });

  it('hex vector: 09 + {DestAddr: {IP, Port, Zone}, DestName} + the inner response', () => {
    const inner = encodeSerfQueryResponse({ ltime: 5, id: 7, from: 'b', flags: 1, payload: new Uint8Array(0) });
    const expected = hex(SERF.relay);
    expect(toHex(encodeSerfRelay({ host: '10.0.0.1', port: 7946 }, 'a', inner))).toBe(toHex(expected));
    expect(decodeSerfRelay(expected)).toEqual({ host: '10.0.0.1', port: 7946, inner });
  });

  it('refuses a wrong type byte, a missing destination, a bad IP, and nothing to relay', () => {
    const header = (dest: (w: MsgpackWriter) => unknown) => rawStruct(9, { DestAddr: dest, DestName: (w) => w.text('a') });
    const ok = (w: MsgpackWriter) =>
      w
        .mapHeader(2)
        .text('IP')
        .raw(Uint8Array.of(10, 0, 0, 1))
        .text('Port')
        .uint(1);
    const inner = Uint8Array.of(5, 0x80);
    const cases: [Uint8Array, string, RegExp][] = [
      [new Uint8Array(0), 'malformed', /wrong type byte/],
      [Uint8Array.of(5, 0x80), 'malformed', /wrong type byte/],
      [Uint8Array.of(9), 'truncated', /runs past the end/],
      [Uint8Array.of(9, 0x82, 0xa1), 'truncated', /runs past the end/],
      [Uint8Array.of(...header(ok)), 'truncated', /no message to relay/],
      [Uint8Array.of(9, 0x91, 0x01, ...inner), 'malformed', /expected a msgpack map/],
      [Uint8Array.of(...rawStruct(9, { DestName: (w) => w.text('a') }), ...inner), 'malformed', /DestAddr: expected a msgpack map/],
      [Uint8Array.of(...header((w) => w.mapHeader(1).text('Port').uint(1)), ...inner), 'malformed', /DestAddr\.IP: missing/],
      [Uint8Array.of(...header((w) => w.mapHeader(1).text('IP').raw(new Uint8Array(5))), ...inner), 'malformed', /4 or 16 bytes, got 5/],
      [Uint8Array.of(...header((w) => w.mapHeader(1).text('IP').uint(7)), ...inner), 'malformed', /IP: expected bytes/],
      [
        Uint8Array.of(...header((w) => w.mapHeader(2).text('IP').raw(new Uint8Array(4)).text('Port').uint(70000)), ...inner),
        'malformed',
        /Port: expected an unsigned integer ≤ 65535/,
      ],
    ];
    for (const [bytes, why, message] of cases) {
      const error = wireError(() => decodeSerfRelay(bytes));
      expect(error.reason).toBe(why);
      expect(error.message).toMatch(message);
    }
    expect(decodeSerfRelay(Uint8Array.of(...header(ok), ...inner))).toEqual({ host: '10.0.0.1', port: 1, inner });
  });
});

describe('serf key request (type 7) and key response (type 8)', () => {
  it('key requests round-trip', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(16, 24, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        (key) => {
          const bytes = encodeSerfKeyRequest(key);
          expect(bytes[0]).toBe(7);
          expect(decodeSerfKeyRequest(bytes)).toEqual(key);
        },
      ),
      RUNS,
    );
  });

  it('hex vector: 07 + {Key}', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const expected = hex(SERF.keyRequest);
    expect(toHex(encodeSerfKeyRequest(key))).toBe(toHex(expected));
    expect(decodeSerfKeyRequest(expected)).toEqual(key);
  });

  it('key requests: refusals', () => {
    const cases: [Uint8Array, string, RegExp][] = [
      [new Uint8Array(0), 'truncated', /empty/],
      [Uint8Array.of(7), 'truncated', /runs past the end/],
      [hex('08 81 a3 4b6579 a1 00'), 'malformed', /expected type byte 7, got 8/],
      [hex('07 80'), 'malformed', /Key: missing/],
      [hex('07 81 a3 4b6579 c0'), 'malformed', /Key: missing/],
      [hex('07 81 a3 4b6579 05'), 'malformed', /Key: expected bytes/],
      [hex('07 92 01 02'), 'malformed', /expected a msgpack map/],
    ];
    for (const [bytes, why, message] of cases) {
      const error = wireError(() => decodeSerfKeyRequest(bytes));
      expect(error.reason).toBe(why);
      expect(error.message).toMatch(message);
    }
  });

  it('key responses round-trip', () => {
    const response: fc.Arbitrary<SerfKeyResponse> = fc.record({
      result: fc.boolean(),
      message: name,
      keys: fc.array(base64Key, { maxLength: 6 }),
      primaryKey: fc.oneof(fc.constant(''), base64Key),
    });
    fc.assert(
      fc.property(response, (r) => {
        const bytes = encodeSerfKeyResponse(r);
        expect(bytes[0]).toBe(8);
        expect(decodeSerfKeyResponse(bytes)).toEqual(r);
      }),
      RUNS,
    );
  });

  it('hex vectors: an empty key list is nil, as Go’s nil slice; a listing', () => {
    const failed: SerfKeyResponse = { result: false, message: 'no', keys: [], primaryKey: '' };
    const failedHex = hex(SERF.keyResponseFailed);
    expect(toHex(encodeSerfKeyResponse(failed))).toBe(toHex(failedHex));
    expect(decodeSerfKeyResponse(failedHex)).toEqual(failed);

    const zeros = 'AAAAAAAAAAAAAAAAAAAAAA=='; // base64 of 16 zero bytes: 24 characters → b8
    const listing: SerfKeyResponse = { result: true, message: '', keys: [zeros], primaryKey: zeros };
    const z = toHex(new TextEncoder().encode(zeros));
    const listingHex = hex(`08 84 a4 4b657973 91 b8 ${z} a7 4d657373616765 a0 aa 5072696d6172794b6579 b8 ${z} a6 526573756c74 c3`);
    expect(toHex(encodeSerfKeyResponse(listing))).toBe(toHex(listingHex));
    expect(decodeSerfKeyResponse(listingHex)).toEqual(listing);
    // An empty array (rather than nil) reads the same.
    expect(decodeSerfKeyResponse(hex('08 81 a4 4b657973 90')).keys).toEqual([]);
  });

  it('key responses: refusals', () => {
    const cases: [Uint8Array, string, RegExp][] = [
      [new Uint8Array(0), 'truncated', /empty/],
      [Uint8Array.of(8, 0x84), 'truncated', /runs past the end/],
      [hex('07 80'), 'malformed', /expected type byte 8, got 7/],
      [hex('08 81 a4 4b657973 a1 61'), 'malformed', /Keys: expected a list of strings/],
      [hex('08 81 a4 4b657973 92 a1 61 01'), 'malformed', /Keys: expected a list of strings/],
      [hex('08 81 a6 526573756c74 a1 31'), 'malformed', /Result: expected a bool/],
      [hex('08 81 a6 526573756c74 02'), 'malformed', /Result: expected a bool/],
      [hex('08 81 a7 4d657373616765 07'), 'malformed', /Message: expected a string/],
      [hex('08 81 aa 5072696d6172794b6579 90'), 'malformed', /PrimaryKey: expected a string/],
    ];
    for (const [bytes, why, message] of cases) {
      const error = wireError(() => decodeSerfKeyResponse(bytes));
      expect(error.reason).toBe(why);
      expect(error.message).toMatch(message);
    }
    // go-msgpack's bool also takes 0/1.
    expect(decodeSerfKeyResponse(hex('08 81 a6 526573756c74 01')).result).toBe(true);
  });
});

describe('serf conflict response (type 6)', () => {
  it('an unknown member is nil: 06 c0', () => {
    expect(toHex(encodeSerfConflictResponse(undefined))).toBe(toHex(hex(SERF.conflictNone)));
  });

  it('hex vector: Serf’s Member struct, fields sorted, Vsn spread over the six version fields', () => {
    const member: SerfConflictMember = { name: 'a', host: '10.0.0.1', port: 7946, tags: { role: 'web' }, status: 'alive', vsn: VSN };
    const expected = hex(SERF.conflictMember);
    expect(toHex(encodeSerfConflictResponse(member))).toBe(toHex(expected));
  });

  it('any member reads back with Serf’s status numbers and sorted tags', () => {
    const member: fc.Arbitrary<SerfConflictMember> = fc.record({
      name,
      host,
      port,
      tags: fc.dictionary(
        fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'),
        fc.string({ maxLength: 12 }),
        { maxKeys: 5 },
      ),
      status: fc.constantFrom('alive' as const, 'left' as const, 'failed' as const),
      vsn: fc.uint8Array({ minLength: 6, maxLength: 6 }),
    });
    fc.assert(
      fc.property(member, (m) => {
        const bytes = encodeSerfConflictResponse(m);
        expect(bytes[0]).toBe(6);
        const s = readObject(bytes, 1, 'test').value as Record<string, unknown>;
        const text = (v: unknown) => new TextDecoder().decode(v as Uint8Array);
        expect(text(s.Name)).toBe(m.name);
        expect(decodeHost(s.Addr as Uint8Array, 'Addr')).toBe(m.host);
        expect(s.Port).toBe(m.port);
        expect(s.Status).toBe({ alive: 1, left: 3, failed: 4 }[m.status]);
        expect([s.ProtocolMin, s.ProtocolMax, s.ProtocolCur, s.DelegateMin, s.DelegateMax, s.DelegateCur]).toEqual([...m.vsn]);
        const tags = s.Tags as Record<string, Uint8Array>;
        expect(Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, text(v)]))).toEqual(m.tags);
        expect(Object.keys(s)).toEqual([...Object.keys(s)].sort());
        expect(Object.keys(s)).toHaveLength(11);
      }),
      RUNS,
    );
  });
});
