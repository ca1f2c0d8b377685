/**
 * The UDP pipeline (docs/wire-format.md §3.4): compound, compress-if-shorter, CRC, encryption, and the receive
 * side's rules (outermost CRC only, per-part drops in compounds, limits).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../packages/hearsay/src/core/types.js';
import {
  Keyring,
  MAX_COMPOUND_PARTS,
  type WireError,
  compressMessage,
  crc32,
  decodePacket,
  encodeCompound,
  encodeMessage,
  encodePacket,
  type WireErrorReason,
} from '../../packages/hearsay/src/wire/index.js';
import { RUNS, message, profile, reason } from './helpers.js';

const ping: Message = { type: 'ping', seqNo: 1, node: 'n' };
const nack: Message = { type: 'nack', seqNo: 2 };
const alive: Message = { type: 'alive', incarnation: 1, profile: profile('node-a', '10.0.0.1') };

function withCrc(buf: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + buf.length);
  out[0] = 12;
  new DataView(out.buffer).setUint32(1, crc32(buf));
  out.set(buf, 5);
  return out;
}

describe('encodePacket', () => {
  it('sends one message bare and several as a compound', () => {
    expect(encodePacket([ping], { crc: false, compress: false })).toEqual(encodeMessage(ping));
    expect(encodePacket([ping, nack], { crc: false, compress: false })[0]).toBe(7);
  });

  it('compresses only when strictly shorter', () => {
    expect(encodePacket([ping], { crc: false, compress: true })).toEqual(encodeMessage(ping));
    const many = Array.from({ length: 20 }, () => alive);
    const packet = encodePacket(many, { crc: false, compress: true });
    expect(packet[0]).toBe(9);
    expect(packet.length).toBeLessThan(encodePacket(many, { crc: false, compress: false }).length);
    expect(decodePacket(packet)).toEqual(many);
    // The 64-byte alive compresses to 75 bytes as a compress message: sent plain.
    expect(compressMessage(encodeMessage(alive)).length).toBeGreaterThanOrEqual(64);
    expect(encodePacket([alive], { crc: false, compress: true })).toEqual(encodeMessage(alive));
  });

  it('CRC covers the possibly-compressed bytes; encryption wraps everything', () => {
    const many = Array.from({ length: 20 }, () => alive);
    const keyring = new Keyring([randomBytes(32)]);
    const inner = encodePacket(many, { crc: false, compress: true });
    const packet = encodePacket(many, { crc: true, compress: true, keyring });
    expect(keyring.decrypt(packet)).toEqual(withCrc(inner));
  });

  it('refuses an empty list, 128+ parts and oversized parts', () => {
    expect(() => encodePacket([], { crc: false, compress: false })).toThrow(RangeError);
    const parts = Array.from({ length: MAX_COMPOUND_PARTS }, () => nack);
    expect(decodePacket(encodePacket(parts, { crc: false, compress: false }))).toEqual(parts);
    expect(() => encodePacket([...parts, nack], { crc: false, compress: false })).toThrow(RangeError);
    expect(() => encodeCompound([new Uint8Array(0)])).toThrow(RangeError);
    expect(() => encodeCompound([new Uint8Array(65536)])).toThrow(RangeError);
  });
});

describe('decodePacket', () => {
  it('round-trips random message lists with every combination of options', () => {
    const keys = [randomBytes(16), randomBytes(32)];
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 30 }), fc.boolean(), fc.boolean(), fc.boolean(), (messages, crc, compress, encrypt) => {
        const keyring = encrypt ? new Keyring(keys) : undefined;
        const packet = encodePacket(messages, { crc, compress, keyring });
        expect(decodePacket(packet, { keyring })).toEqual(messages);
      }),
      RUNS,
    );
  });

  it('drops only the bad part of a compound, in order, and reports it', () => {
    const unknown = Uint8Array.of(99, 1, 2);
    const broken = Uint8Array.of(11, 0x81); // nack with a cut-off body
    const dropped: WireErrorReason[] = [];
    const packet = encodeCompound([encodeMessage(ping), unknown, broken, encodeMessage(nack)]);
    expect(decodePacket(packet, { onDrop: (e) => dropped.push(e.reason) })).toEqual([ping, nack]);
    expect(dropped).toEqual(['unknown-type', 'truncated']);
  });

  it('keeps the parts before one that runs past the end', () => {
    const packet = encodeCompound([encodeMessage(ping), encodeMessage(nack), encodeMessage(alive)]);
    const dropped: WireErrorReason[] = [];
    expect(decodePacket(packet.subarray(0, packet.length - 1), { onDrop: (e) => dropped.push(e.reason) })).toEqual([ping, nack]);
    expect(dropped).toEqual(['truncated']);
    expect(reason(() => decodePacket(Uint8Array.of(7)))).toBe('truncated');
    expect(reason(() => decodePacket(Uint8Array.of(7, 2, 0)))).toBe('truncated');
  });

  it('splits compounds of 128+ parts correctly (0.2.2 multiplies the count as a uint8)', () => {
    const parts = Array.from({ length: 200 }, (_, i) => encodeMessage({ type: 'nack', seqNo: i }));
    const head = Uint8Array.of(7, 200, ...parts.flatMap((p) => [0, p.length]));
    const packet = Uint8Array.of(...head, ...parts.flatMap((p) => [...p]));
    expect(decodePacket(packet).length).toBe(200);
  });

  it('unwraps one compress around a compound, in order', () => {
    const compound = encodeCompound([encodeMessage(ping), encodeMessage(nack), encodeMessage(alive)]);
    expect(decodePacket(compressMessage(compound))).toEqual([ping, nack, alive]);
    expect(decodePacket(withCrc(compressMessage(encodeMessage(alive))))).toEqual([alive]);
  });

  it('drops nesting that memberlist senders never produce, counted by reason', () => {
    const dropped: WireErrorReason[] = [];
    const onDrop = (e: WireError) => dropped.push(e.reason);
    // A compound or a compress message inside a compound: only that part goes.
    const inner = encodeCompound([encodeMessage(ping), encodeMessage(ping)]);
    expect(decodePacket(encodeCompound([encodeMessage(nack), inner, compressMessage(encodeMessage(ping))]), { onDrop })).toEqual([nack]);
    expect(dropped).toEqual(['nested-compound', 'nested-compress']);
    // The same inside the one allowed compress layer.
    dropped.length = 0;
    expect(decodePacket(compressMessage(encodeCompound([inner, encodeMessage(nack)])), { onDrop })).toEqual([nack]);
    expect(dropped).toEqual(['nested-compound']);
    // Compress inside compress refuses the whole packet.
    expect(reason(() => decodePacket(compressMessage(compressMessage(encodeMessage(alive)))))).toBe('nested-compress');
  });

  it('a compound of compounds of pings yields no ping at all', () => {
    const pings = encodeCompound(Array.from({ length: 127 }, () => encodeMessage(ping)));
    const bomb = encodeCompound(Array.from({ length: 20 }, () => pings));
    expect(bomb.length).toBeLessThan(65536);
    const dropped: WireErrorReason[] = [];
    expect(decodePacket(bomb, { onDrop: (e) => dropped.push(e.reason) })).toEqual([]);
    expect(dropped).toEqual(Array.from({ length: 20 }, () => 'nested-compound'));
    // Compressed, the same pings are far past what one datagram may expand to.
    expect(reason(() => decodePacket(compressMessage(encodeCompound(Array.from({ length: 127 }, () => pings)))))).toBe('oversized');
  });

  it('checks the CRC only as the outermost layer', () => {
    const good = withCrc(encodeMessage(ping));
    expect(decodePacket(good)).toEqual([ping]);
    const bad = good.slice();
    bad[bad.length - 1]! ^= 1;
    expect(reason(() => decodePacket(bad))).toBe('crc');
    // A CRC wrapper inside a compound is an unknown type there.
    const dropped: WireErrorReason[] = [];
    expect(decodePacket(encodeCompound([good, encodeMessage(nack)]), { onDrop: (e) => dropped.push(e.reason) })).toEqual([nack]);
    expect(dropped).toEqual(['unknown-type']);
    // Fewer than 5 bytes: not a CRC wrapper, so an unknown type 12. Exactly 5: nothing inside.
    expect(reason(() => decodePacket(Uint8Array.of(12, 0, 0, 0)))).toBe('unknown-type');
    expect(reason(() => decodePacket(withCrc(new Uint8Array(0))))).toBe('truncated');
  });

  it('encryption: drops what does not decrypt unless verifyIncoming is false', () => {
    const keyring = new Keyring([randomBytes(16)]);
    const plain = encodePacket([ping], { crc: false, compress: false });
    expect(reason(() => decodePacket(plain, { keyring }))).toBe('decrypt');
    expect(decodePacket(plain, { keyring, verifyIncoming: false })).toEqual([ping]);
    const other = encodePacket([ping], { crc: false, compress: false, keyring: new Keyring([randomBytes(16)]) });
    expect(reason(() => decodePacket(other, { keyring }))).toBe('decrypt');
    // Without a keyring an encrypted packet is just bytes of an unknown kind.
    expect(reason(() => decodePacket(encodePacket([ping], { crc: false, compress: false, keyring })))).not.toBe('accepted');
  });

  it('unknown top-level types, empty packets and bad compression are refused', () => {
    expect(reason(() => decodePacket(Uint8Array.of(99)))).toBe('unknown-type');
    expect(reason(() => decodePacket(Uint8Array.of(6, 0x80)))).toBe('unknown-type'); // push/pull is TCP only
    expect(reason(() => decodePacket(new Uint8Array(0)))).toBe('truncated');
    expect(reason(() => decodePacket(compressMessage(new Uint8Array(0))))).toBe('decompress');
    const badAlgo = Uint8Array.of(9, 0x82, 0xa4, ...Buffer.from('Algo'), 1, 0xa3, ...Buffer.from('Buf'), 0xa3, 0, 3, 2);
    expect(reason(() => decodePacket(badAlgo))).toBe('decompress');
  });

  it('enforces the size limits', () => {
    expect(reason(() => decodePacket(new Uint8Array(65537)))).toBe('oversized');
    const bomb = compressMessage(Uint8Array.from({ length: 3 * 1024 * 1024 }, () => 8));
    expect(bomb.length).toBeLessThan(65536);
    expect(reason(() => decodePacket(bomb))).toBe('oversized');
    // A sender compresses what fits its UDP buffer: more than twice the largest datagram is refused.
    const justOver = compressMessage(new Uint8Array(2 * 65536 + 1).fill(8));
    expect(reason(() => decodePacket(justOver))).toBe('oversized');
  });

  it('refuses deep nesting', () => {
    let buf = encodeMessage(nack);
    for (let i = 0; i < 40; i++) buf = encodeCompound([buf]);
    const dropped: WireErrorReason[] = [];
    expect(decodePacket(buf, { onDrop: (e) => dropped.push(e.reason) })).toEqual([]);
    expect(dropped).toEqual(['nested-compound']);
  });
});
