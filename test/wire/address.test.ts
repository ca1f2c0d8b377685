/** Addresses as raw IP bytes (docs/wire-format.md §2): 4 bytes, 16 bytes, and the v4-mapped form kept apart. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireError, canonicalHost, decodeHost, encodeHost } from '../../packages/hearsay/src/wire/index.js';
import { RUNS, toHex } from './helpers.js';

describe('addresses', () => {
  it('IPv4 is 4 bytes, "::ffff:a.b.c.d" the 16-byte v4-mapped form, and each decodes back as written', () => {
    expect(toHex(encodeHost('10.0.0.1'))).toBe('0a000001');
    expect(toHex(encodeHost('::ffff:10.0.0.1'))).toBe('00000000000000000000ffff0a000001');
    expect(decodeHost(encodeHost('10.0.0.1'), 't')).toBe('10.0.0.1');
    expect(decodeHost(encodeHost('::ffff:10.0.0.1'), 't')).toBe('::ffff:10.0.0.1');
    expect(canonicalHost('::FFFF:0a00:0001')).toBe('::ffff:10.0.0.1');
  });

  it('IPv6 decodes to RFC 5952 text', () => {
    const cases: [string, string][] = [
      ['::', '::'],
      ['::1', '::1'],
      ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
      ['2001:DB8::8A2E:370:7334', '2001:db8::8a2e:370:7334'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
      ['1:0:0:0:1:0:0:1', '1::1:0:0:1'],
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
      ['::1.2.3.4', '::102:304'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ];
    for (const [input, expected] of cases) {
      expect(encodeHost(input).length).toBe(16);
      expect(canonicalHost(input), input).toBe(expected);
    }
  });

  it('16 random bytes round-trip, and the text matches the WHATWG URL serialiser (outside v4-mapped)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = decodeHost(bytes, 't');
        expect(encodeHost(text)).toEqual(bytes);
        if (!text.startsWith('::ffff:') || text.split(':').length > 4) expect(new URL(`http://[${text}]`).hostname).toBe(`[${text}]`);
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });

  it('refuses what is not an IP literal', () => {
    for (const bad of ['', 'localhost', '1.2.3', '01.2.3.4', 'fe80::1%eth0', '1::2::3', '10.0.0.1:80']) {
      expect(() => encodeHost(bad), bad).toThrow(RangeError);
    }
    for (const length of [0, 1, 5, 15, 17]) {
      expect(() => decodeHost(new Uint8Array(length), 't')).toThrow(WireError);
    }
  });
});
