/**
 * Serf's ping-ack payload: PingVersion 1 + the coordinate as go-msgpack writes it. Checked against
 * acks captured from real Serf agents, byte for byte, plus round trips and malformed input.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AckMessage } from '../../packages/hearsay/src/core/index.js';
import { isValidCoordinate, type Coordinate } from '../../packages/hearsay/src/serf/index.js';
import {
  COORDINATE_PING_VERSION,
  decodeCoordinatePayload,
  decodePacket,
  encodeCoordinatePayload,
  encodePacket,
  Keyring,
  WireError,
} from '../../packages/hearsay/src/wire/index.js';
import { MsgpackWriter } from '../../packages/hearsay/src/wire/msgpack.js';
import { hex, SEED, toHex } from './helpers.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'serf');
const bytesOf = (file: string) => Buffer.from(readFileSync(join(DIR, file), 'utf8').trim(), 'hex');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as {
  testKeyHex: string;
  fixtures: { file: string; transport: 'udp' | 'tcp'; encrypted: boolean }[];
};
const keyring = new Keyring([Buffer.from(manifest.testKeyHex, 'hex')]);

/** The payloads of the acks in a captured UDP packet. */
const ackPayloads = (file: string, encrypted = false): Uint8Array[] =>
  decodePacket(bytesOf(file), encrypted ? { keyring } : {}).flatMap((m) => (m.type === 'ack' && m.payload ? [m.payload] : []));

/** The writer with the key and float forms go-msgpack uses, for hand-built payloads. */
const payload = (build: (w: MsgpackWriter) => MsgpackWriter) => build(new MsgpackWriter().byte(1)).finish();

describe('MsgpackWriter.float64', () => {
  it('writes 0xcb and the big-endian IEEE 754 bits', () => {
    const f = (x: number) => toHex(new MsgpackWriter().float64(x).finish());
    expect(f(1.5)).toBe('cb3ff8000000000000');
    expect(f(0)).toBe('cb0000000000000000'); // go-msgpack never shortens a float to an int
    expect(f(-0)).toBe('cb8000000000000000');
    expect(f(-2)).toBe('cbc000000000000000');
    expect(f(10e-6)).toBe('cb3ee4f8b588e368f1');
    expect(f(Infinity)).toBe('cb7ff0000000000000');
    expect(f(NaN)).toBe('cb7ff8000000000000');
    expect(f(Number.MIN_VALUE)).toBe('cb0000000000000001');
  });

  it('grows the buffer as needed, also from an odd offset', () => {
    const w = new MsgpackWriter(1).byte(0x93);
    for (let i = 0; i < 3; i++) w.float64(i + 0.25);
    expect(toHex(w.finish())).toBe('93' + 'cb3fd0000000000000' + 'cb3ff4000000000000' + 'cb4002000000000000');
  });
});

describe('Serf’s captured acks', () => {
  it('udp-ack-with-coordinate.hex: 8 finite numbers, re-encoded to Serf’s bytes', () => {
    const [bytes] = ackPayloads('udp-ack-with-coordinate.hex');
    expect(bytes![0]).toBe(COORDINATE_PING_VERSION);
    const c = decodeCoordinatePayload(bytes!);
    expect(c.vec).toHaveLength(8);
    for (const x of c.vec) expect(Number.isFinite(x)).toBe(true);
    expect(isValidCoordinate(c)).toBe(true);
    // A young agent: the error still near the 1.5 it starts at, the height at its 10 µs floor,
    // the whole vector within a fraction of a millisecond of the origin (two agents on one host).
    expect(c.error).toBe(1.4348277579675568);
    expect(c.height).toBe(10e-6);
    expect(c.adjustment).toBe(0.000020027525);
    for (const x of c.vec) expect(Math.abs(x)).toBeLessThan(1e-3);
    expect(toHex(encodeCoordinatePayload(c))).toBe(toHex(bytes!));

    // And the whole datagram comes back with the re-encoded payload in it.
    const packet = bytesOf('udp-ack-with-coordinate.hex');
    const [ack] = decodePacket(packet) as AckMessage[];
    expect(toHex(encodePacket([{ ...ack!, payload: encodeCoordinatePayload(c) }], { crc: false, compress: false }))).toBe(toHex(packet));
  });

  it('the byte layout: 01, then a 4-entry map with sorted keys and every number a float64', () => {
    const [bytes] = ackPayloads('udp-ack-with-coordinate.hex');
    const h = toHex(bytes!);
    // 01 84 aa "Adjustment" cb … a5 "Error" cb … a6 "Height" cb … a3 "Vec" 98 (cb …)×8
    const expected = new RegExp(
      '^01' +
        '84' +
        'aa' +
        toHex(Buffer.from('Adjustment')) +
        'cb[0-9a-f]{16}' +
        'a5' +
        toHex(Buffer.from('Error')) +
        'cb[0-9a-f]{16}' +
        'a6' +
        toHex(Buffer.from('Height')) +
        'cb[0-9a-f]{16}' +
        'a3' +
        toHex(Buffer.from('Vec')) +
        '98' +
        '(cb[0-9a-f]{16}){8}$',
    );
    expect(h).toMatch(expected);
    expect(bytes!.length).toBe(130);
  });

  // Every ack with a coordinate that the capture holds, compound and encrypted ones included.
  const withAcks = manifest.fixtures.filter((f) => f.transport === 'udp').filter((f) => ackPayloads(f.file, f.encrypted).some((p) => p[0] === 1));
  it('more than one fixture carries a coordinate', () => {
    expect(withAcks.map((f) => f.file)).toEqual(expect.arrayContaining(['udp-ack-with-coordinate.hex', 'udp-ack-piggyback.hex', 'udp-encrypted-ack.hex']));
  });
  it.each(withAcks)('$file: every coordinate decodes valid and re-encodes to the same bytes', ({ file, encrypted }) => {
    for (const bytes of ackPayloads(file, encrypted)) {
      const c = decodeCoordinatePayload(bytes);
      expect(isValidCoordinate(c)).toBe(true);
      expect(toHex(encodeCoordinatePayload(c))).toBe(toHex(bytes));
    }
  });
});

describe('encodeCoordinatePayload', () => {
  it('writes a known coordinate byte for byte', () => {
    const c: Coordinate = { vec: [0.5, -2, 0, 0, 0, 0, 0, 0], error: 1.5, adjustment: 0, height: 10e-6 };
    const zero = 'cb0000000000000000';
    expect(toHex(encodeCoordinatePayload(c))).toBe(
      toHex(
        hex(`
          01 84
          aa 41646a7573746d656e74 ${zero}
          a5 4572726f72 cb3ff8000000000000
          a6 486569676874 cb3ee4f8b588e368f1
          a3 566563 98 cb3fe0000000000000 cbc000000000000000 ${zero.repeat(6)}
        `),
      ),
    );
  });

  it('round trips any coordinate, bit for bit (NaN, ±0, ±Infinity, any dimensionality)', () => {
    const coordinate = fc.record({
      vec: fc.array(fc.double(), { maxLength: 20 }),
      error: fc.double(),
      adjustment: fc.double(),
      height: fc.double(),
    });
    fc.assert(
      fc.property(coordinate, (c) => {
        const bytes = encodeCoordinatePayload(c);
        const back = decodeCoordinatePayload(bytes);
        expect(back).toEqual(c); // toEqual tells -0 from 0 and takes NaN as NaN
        expect(toHex(encodeCoordinatePayload(back))).toBe(toHex(bytes));
        expect(bytes.length).toBe(1 + 1 + 3 * 9 + 11 + 6 + 7 + 4 + (c.vec.length < 16 ? 1 : 3) + 9 * c.vec.length);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('decodeCoordinatePayload', () => {
  it('reads the number forms go-msgpack accepts for a float64', () => {
    const c = decodeCoordinatePayload(
      payload((w) =>
        w
          .mapHeader(4)
          .text('Adjustment')
          .byte(0xd0)
          .byte(0xfe) // int8 −2
          .text('Error')
          .byte(0xca)
          .u32(0x3fc00000) // float32 1.5
          .text('Height')
          .uint(2n ** 60n) // uint64
          .text('Vec')
          .arrayHeader(3)
          .uint(1)
          .nil()
          .float64(0.25),
      ),
    );
    expect(c).toEqual({ vec: [1, 0, 0.25], error: 1.5, adjustment: -2, height: 2 ** 60 });
  });

  it('leaves missing or nil fields at zero and ignores unknown keys and trailing bytes, as Go does', () => {
    expect(decodeCoordinatePayload(payload((w) => w.mapHeader(0)))).toEqual({ vec: [], error: 0, adjustment: 0, height: 0 });
    expect(decodeCoordinatePayload(payload((w) => w.mapHeader(2).text('Vec').nil().text('Error').nil()))).toEqual({
      vec: [],
      error: 0,
      adjustment: 0,
      height: 0,
    });
    const c: Coordinate = { vec: [1, 2], error: 0.5, adjustment: 0, height: 1e-5 };
    const known = encodeCoordinatePayload(c);
    const withExtra = payload((w) => w.mapHeader(2).text('Zeta').text('x').text('Vec').arrayHeader(2).float64(1).float64(2));
    expect(decodeCoordinatePayload(withExtra).vec).toEqual([1, 2]);
    expect(decodeCoordinatePayload(Uint8Array.from([...known, 0xc0, 0xff]))).toEqual(c);
  });

  it('refuses an empty payload and an unknown ping version', () => {
    expect(() => decodeCoordinatePayload(new Uint8Array())).toThrow(RangeError);
    expect(() => decodeCoordinatePayload(new Uint8Array())).toThrow(/empty/);
    const good = encodeCoordinatePayload({ vec: [0, 0], error: 1, adjustment: 0, height: 1e-5 });
    for (const version of [0, 2, 0x84, 0xff]) {
      const bytes = good.slice();
      bytes[0] = version;
      expect(() => decodeCoordinatePayload(bytes), String(version)).toThrow(RangeError);
      expect(() => decodeCoordinatePayload(bytes), String(version)).toThrow(/version/);
    }
  });

  it('refuses malformed msgpack and wrong types with a RangeError', () => {
    const good = encodeCoordinatePayload({ vec: [0.1, 0.2, 0.3], error: 1, adjustment: 0, height: 1e-5 });
    const cases: [string, Uint8Array][] = [
      ['version byte only', Uint8Array.of(1)],
      ['cut inside a float', good.subarray(0, 20)],
      ['cut inside Vec', good.subarray(0, good.length - 3)],
      ['reserved byte', Uint8Array.of(1, 0xc1)],
      ['an array, not a map', payload((w) => w.arrayHeader(1).float64(1))],
      ['a number, not a map', payload((w) => w.float64(1))],
      ['a string, not a map', payload((w) => w.text('Vec'))],
      ['Vec a string', payload((w) => w.mapHeader(1).text('Vec').text('abc'))],
      ['Vec a map', payload((w) => w.mapHeader(1).text('Vec').mapHeader(0))],
      ['Vec a number', payload((w) => w.mapHeader(1).text('Vec').float64(1))],
      ['Vec with a string', payload((w) => w.mapHeader(1).text('Vec').arrayHeader(2).float64(1).text('x'))],
      ['Vec with a bool', payload((w) => w.mapHeader(1).text('Vec').arrayHeader(1).bool(true))],
      ['Error a string', payload((w) => w.mapHeader(1).text('Error').text('1.5'))],
      ['Height a bool', payload((w) => w.mapHeader(1).text('Height').bool(false))],
      ['Adjustment bytes', payload((w) => w.mapHeader(1).text('Adjustment').byte(0xc4).byte(1).byte(0))],
      ['Error an array', payload((w) => w.mapHeader(1).text('Error').arrayHeader(0))],
    ];
    for (const [what, bytes] of cases) {
      let error: unknown;
      try {
        decodeCoordinatePayload(bytes);
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(RangeError);
      expect(error, what).not.toBeInstanceOf(WireError);
      expect((error as Error).message, what).toMatch(/^coordinate payload: /);
    }
  });

  it('any bytes either decode or raise a RangeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (tail, versioned) => {
        const bytes = versioned ? Uint8Array.from([1, ...tail]) : tail;
        try {
          const c = decodeCoordinatePayload(bytes);
          expect(Array.isArray(c.vec)).toBe(true);
          for (const x of [...c.vec, c.error, c.adjustment, c.height]) expect(typeof x).toBe('number');
        } catch (error) {
          expect(error).toBeInstanceOf(RangeError);
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
