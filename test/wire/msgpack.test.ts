/**
 * The go-msgpack 0.5 flavour (docs/wire-format.md §2): what the hand-written encoder emits, and how liberally
 * messages are decoded (str8, bin, wide ints, 0/1 bools, missing and unknown keys), with wrong
 * types refused as WireError('malformed').
 */
import { describe, expect, it } from 'vitest';
import { WireError, decodeMessage } from '../../packages/hearsay/src/wire/index.js';
import { MsgpackWriter, msgpackEnd, readStruct, uint64BigIntField } from '../../packages/hearsay/src/wire/msgpack.js';
import { hex, toHex } from './helpers.js';

const w = () => new MsgpackWriter();
const key = (name: string) => toHex(w().text(name).finish());

describe('encoder', () => {
  it('unsigned integers take the smallest form', () => {
    const cases: [number | bigint, string][] = [
      [0, '00'],
      [127, '7f'],
      [128, 'cc80'],
      [255, 'ccff'],
      [256, 'cd0100'],
      [7946, 'cd1f0a'],
      [65535, 'cdffff'],
      [65536, 'ce00010000'],
      [70000, 'ce00011170'],
      [0xffffffff, 'ceffffffff'],
      [0x100000000, 'cf0000000100000000'],
      [Number.MAX_SAFE_INTEGER, 'cf001fffffffffffff'],
      [0xffffffffffffffffn, 'cfffffffffffffffff'],
      [5n, '05'],
    ];
    for (const [value, expected] of cases) expect(toHex(w().uint(value).finish()), String(value)).toBe(expected);
    expect(() => w().uint(-1)).toThrow(RangeError);
    expect(() => w().uint(1.5)).toThrow(RangeError);
    expect(() => w().uint(1n << 64n)).toThrow(RangeError);
  });

  it('strings and bytes are old-spec raw: fixstr, str16, str32, never str8 or bin', () => {
    const bytesOf = (n: number) => new Uint8Array(n).fill(0x61);
    expect(toHex(w().raw(bytesOf(0)).finish())).toBe('a0');
    expect(toHex(w().raw(bytesOf(31)).finish()).slice(0, 2)).toBe('bf');
    expect(toHex(w().raw(bytesOf(32)).finish()).slice(0, 6)).toBe('da0020');
    expect(toHex(w().text('x'.repeat(40)).finish()).slice(0, 6)).toBe('da0028'); // the spec's 40-byte name
    expect(toHex(w().raw(bytesOf(255)).finish()).slice(0, 6)).toBe('da00ff');
    expect(toHex(w().raw(bytesOf(65535)).finish()).slice(0, 6)).toBe('daffff');
    expect(toHex(w().raw(bytesOf(65536)).finish()).slice(0, 10)).toBe('db00010000');
    expect(toHex(w().text('é').finish())).toBe('a2c3a9');
  });

  it('maps: fixmap below 16, then map16', () => {
    expect(toHex(w().mapHeader(15).finish())).toBe('8f');
    expect(toHex(w().mapHeader(16).finish())).toBe('de0010');
    expect(toHex(w().mapHeader(65536).finish())).toBe('df00010000');
  });

  it('structs: keys sorted bytewise (uppercase first), undefined omitted, null as nil', () => {
    const bytes = w().struct({ b: 1, a: true, B: null, Z: undefined, A: 'x' }).finish();
    expect(toHex(bytes)).toBe(`84${key('A')}a178${key('B')}c0${key('a')}c3${key('b')}01`);
  });
});

describe('liberal decoding', () => {
  const ping = (...entries: [string, string][]) => hex(`00 ${(0x80 | entries.length).toString(16)} ${entries.map(([k, v]) => key(k) + v).join(' ')}`);

  it('accepts str8, bin8/16/32 and nil for strings and bytes', () => {
    expect(decodeMessage(ping(['Node', 'd9 01 62'], ['SeqNo', '01']))).toEqual({ type: 'ping', seqNo: 1, node: 'b' });
    expect(decodeMessage(ping(['Node', 'c4 01 62'], ['SeqNo', '01']))).toEqual({ type: 'ping', seqNo: 1, node: 'b' });
    expect(decodeMessage(ping(['Node', 'c5 0001 62'], ['SeqNo', '01']))).toEqual({ type: 'ping', seqNo: 1, node: 'b' });
    expect(decodeMessage(ping(['Node', 'c6 00000001 62'], ['SeqNo', '01']))).toEqual({ type: 'ping', seqNo: 1, node: 'b' });
    expect(decodeMessage(ping(['Node', 'c0'], ['SeqNo', '01']))).toEqual({ type: 'ping', seqNo: 1, node: '' });
    const withBinAddr = ping(['Node', 'a0'], ['SeqNo', '01'], ['SourceAddr', 'c4 04 0a000001'], ['SourcePort', 'cd 1f0a']);
    expect(decodeMessage(withBinAddr)).toEqual({ type: 'ping', seqNo: 1, node: '', source: { name: '', host: '10.0.0.1', port: 7946 } });
  });

  it('accepts integers in any width, including signed forms of non-negative values', () => {
    for (const form of ['07', 'cc07', 'cd0007', 'ce00000007', 'cf0000000000000007', 'd007', 'd10007', 'd200000007', 'd30000000000000007']) {
      expect(decodeMessage(ping(['SeqNo', form])), form).toEqual({ type: 'ping', seqNo: 7, node: '' });
    }
  });

  it('accepts 0/1 for bools, missing keys as zero values, unknown keys and any key order', () => {
    const indirect = hex(`01 84 ${key('Target')} a4 0a000001 ${key('Nack')} 01 ${key('Extra')} 93 01 02 03 ${key('SeqNo')} 05`);
    expect(decodeMessage(indirect)).toEqual({ type: 'indirectPing', seqNo: 5, node: '', target: { host: '10.0.0.1', port: 0 }, nack: true });
    expect(decodeMessage(hex(`0b 80`))).toEqual({ type: 'nack', seqNo: 0 });
    expect(decodeMessage(hex(`0b de 0001 ${key('SeqNo')} 03`))).toEqual({ type: 'nack', seqNo: 3 });
  });

  it('ignores bytes after the body, as go-msgpack reads a single object', () => {
    expect(decodeMessage(hex(`0b 81 ${key('SeqNo')} 03 ffffff`))).toEqual({ type: 'nack', seqNo: 3 });
  });

  it('decodes non-UTF-8 bytes in binary fields untouched', () => {
    const ack = hex(`02 82 ${key('Payload')} a3 ff fe 00 ${key('SeqNo')} 01`);
    expect(decodeMessage(ack)).toEqual({ type: 'ack', seqNo: 1, payload: Uint8Array.of(0xff, 0xfe, 0) });
  });
});

describe('refusals', () => {
  const malformed = (bytes: Uint8Array) => {
    try {
      decodeMessage(bytes);
    } catch (error) {
      expect(error).toBeInstanceOf(WireError);
      return (error as WireError).reason;
    }
    return 'accepted';
  };

  it('wrong types and out-of-range values are malformed', () => {
    expect(malformed(hex(`0b 81 ${key('SeqNo')} a1 31`))).toBe('malformed'); // string for uint
    expect(malformed(hex(`0b 81 ${key('SeqNo')} ff`))).toBe('malformed'); // negative fixint
    expect(malformed(hex(`0b 81 ${key('SeqNo')} d0 ff`))).toBe('malformed'); // negative int8
    expect(malformed(hex(`0b 81 ${key('SeqNo')} cf 0000000100000000`))).toBe('malformed'); // > uint32
    expect(malformed(hex(`0b 81 ${key('SeqNo')} cb 3ff8000000000000`))).toBe('malformed'); // 1.5
    expect(malformed(hex(`0b 81 ${key('SeqNo')} c3`))).toBe('malformed'); // bool for uint
    expect(malformed(hex(`00 81 ${key('Node')} 07`))).toBe('malformed'); // int for string
    expect(malformed(hex(`01 81 ${key('Nack')} 02`))).toBe('malformed'); // 2 for bool
    expect(malformed(hex(`01 82 ${key('Port')} ce 00010000 ${key('Target')} a4 0a000001`))).toBe('malformed'); // > uint16
    expect(malformed(hex(`02 81 ${key('Payload')} 07`))).toBe('malformed'); // int for bytes
    expect(malformed(hex(`01 81 ${key('Target')} a5 0a00000101`))).toBe('malformed'); // 5-byte address
    expect(malformed(hex(`01 80`))).toBe('malformed'); // indirect ping without a target
    expect(malformed(hex(`0b 91 07`))).toBe('malformed'); // array, not a map
    expect(malformed(hex(`0b c1`))).toBe('malformed'); // reserved byte
    expect(malformed(hex(`0b 81 c4 01 41 01`))).toBe('malformed'); // bin as a map key
  });

  it('cut-off bodies are truncated; unknown and wrapper types are unknown-type', () => {
    expect(malformed(new Uint8Array(0))).toBe('truncated');
    expect(malformed(hex(`0b`))).toBe('truncated');
    expect(malformed(hex(`0b 81 ${key('SeqNo')}`))).toBe('truncated');
    expect(malformed(hex(`0b db ffffffff`))).toBe('truncated');
    for (const type of [6, 7, 9, 10, 12, 13, 14, 244]) expect(malformed(Uint8Array.of(type, 0x80))).toBe('unknown-type');
  });
});

describe('uint64 fields (Serf Lamport times)', () => {
  const ltimeOf = (form: string) => uint64BigIntField(readStruct(hex(`81 ${key('LTime')} ${form}`), 0, 't').struct, 'LTime', 't');

  it('decode exactly as a bigint, in any width, up to 2^64 − 1', () => {
    expect(ltimeOf('07')).toBe(7n);
    expect(ltimeOf('ce ffffffff')).toBe(0xffffffffn);
    expect(ltimeOf('cf 001fffffffffffff')).toBe(2n ** 53n - 1n);
    expect(ltimeOf('cf 0020000000000000')).toBe(2n ** 53n);
    expect(ltimeOf('cf 0020000000000001')).toBe(2n ** 53n + 1n);
    expect(ltimeOf('cf ffffffffffffffff')).toBe(2n ** 64n - 1n);
    expect(ltimeOf('d3 0000000000000009')).toBe(9n);
    expect(ltimeOf('c0')).toBe(0n);
    expect(uint64BigIntField({}, 'LTime', 't')).toBe(0n);
  });

  it('round-trip through the encoder byte for byte', () => {
    for (const value of [0n, 127n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]) {
      const bytes = w().mapHeader(1).text('LTime').uint(value).finish();
      expect(uint64BigIntField(readStruct(bytes, 0, 't').struct, 'LTime', 't')).toBe(value);
    }
  });

  it('refuse negatives, floats and other types', () => {
    for (const form of ['ff', 'd3 ffffffffffffffff', 'cb 3ff8000000000000', 'a1 31', 'c3']) {
      expect(() => ltimeOf(form), form).toThrow(WireError);
    }
  });
});

describe('msgpackEnd', () => {
  it('finds the end of one object, or null when the bytes stop first', () => {
    const object = hex(`83 a1 61 93 01 cd 0102 c0 a1 62 de 0001 a1 63 c4 02 ffff a1 64 d8 01 ${'00'.repeat(16)}`);
    expect(msgpackEnd(object, 0)).toBe(object.length);
    for (let cut = 0; cut < object.length; cut++) expect(msgpackEnd(object.subarray(0, cut), 0)).toBeNull();
    expect(msgpackEnd(hex('dd ffffffff 01 02'), 0)).toBeNull(); // a huge array header costs nothing
    expect(msgpackEnd(hex('07 08'), 1)).toBe(2);
  });
});
