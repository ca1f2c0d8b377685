/**
 * Byte-exact checks against every hex example in the wire spec (memberlist 0.2.2's own output):
 * messages (§3.1), compound (§3.2), CRC (§3.3), push/pull and the user stream header (§4),
 * LZW (§5), encryption (§6) and Serf tags (§9.2). Each is also decoded back.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../packages/hearsay/src/core/types.js';
import {
  Keyring,
  compressMessage,
  decodeMessage,
  decodePacket,
  decodeTags,
  encodeMessage,
  encodePacket,
  encodeStream,
  encodeTags,
  lzwCompress,
  lzwDecompress,
  StreamDecoder,
  type WireStreamMessage,
} from '../../packages/hearsay/src/wire/index.js';
import { MEMBERLIST, SERF } from '../fixtures/wire-vectors.js';
import { SERF_EMPTY_TAGS, hex, profile, toHex } from './helpers.js';

const SOURCE_A = { name: 'node-a', host: '10.0.0.1', port: 7946 };

const HEX = MEMBERLIST;

const MESSAGES: Record<string, Message> = {
  ping: { type: 'ping', seqNo: 7, node: 'node-b', source: SOURCE_A },
  pingBare: { type: 'ping', seqNo: 7, node: 'node-b' },
  alive: { type: 'alive', incarnation: 1, profile: profile('node-a', '10.0.0.1') },
  alive16: { type: 'alive', incarnation: 1, profile: profile('node-a', '::ffff:10.0.0.1', new Uint8Array(0)) },
  ack: { type: 'ack', seqNo: 7 },
  nack: { type: 'nack', seqNo: 7 },
  suspect: { type: 'suspect', node: 'node-b', incarnation: 3, from: 'node-a' },
  dead: { type: 'dead', node: 'node-b', incarnation: 3, from: 'node-a' },
  indirectPing: { type: 'indirectPing', seqNo: 9, node: 'node-c', target: { host: '10.0.0.1', port: 7946 }, nack: true, source: SOURCE_A },
};

describe('messages (docs/wire-format.md §3.1)', () => {
  for (const [key, message] of Object.entries(MESSAGES)) {
    it(`${key} encodes and decodes byte for byte`, () => {
      const bytes = hex(HEX[key as keyof typeof HEX]);
      expect(toHex(encodeMessage(message))).toBe(toHex(bytes));
      expect(decodeMessage(bytes)).toEqual(message);
    });
  }

  it('ping with all fields is 69 bytes, alive is 64', () => {
    expect(encodeMessage(MESSAGES.ping!).length).toBe(69);
    expect(encodeMessage(MESSAGES.alive!).length).toBe(64);
  });

  it('a 16-byte v4-mapped Addr decodes to "::ffff:a.b.c.d" and nil Meta to empty bytes', () => {
    const alive = decodeMessage(hex(HEX.alive16));
    expect(alive.type === 'alive' && alive.profile.host).toBe('::ffff:10.0.0.1');
    expect(alive.type === 'alive' && alive.profile.meta).toEqual(new Uint8Array(0));
  });
});

describe('compound and CRC (docs/wire-format.md §3.2, §3.3)', () => {
  it('ack + dead: 07 02 0012 0027 <ack> <dead>', () => {
    const expected = hex(`${HEX.compoundAckDeadHeader} ${HEX.ack} ${HEX.dead}`);
    const packet = encodePacket([MESSAGES.ack!, MESSAGES.dead!], { crc: false, compress: false });
    expect(toHex(packet)).toBe(toHex(expected));
    expect(decodePacket(expected)).toEqual([MESSAGES.ack, MESSAGES.dead]);
  });

  it('CRC of the 69-byte ping is 0x7553ccdb', () => {
    const expected = hex(`${HEX.crcPingHeader} ${HEX.ping}`);
    expect(toHex(encodePacket([MESSAGES.ping!], { crc: true, compress: false }))).toBe(toHex(expected));
    expect(decodePacket(expected)).toEqual([MESSAGES.ping]);
  });
});

describe('streams (docs/wire-format.md §4)', () => {
  it('push/pull header and node state', () => {
    const message: WireStreamMessage = {
      type: 'pushPull',
      join: true,
      states: [{ profile: profile('node-a', '10.0.0.1'), incarnation: 1, status: 'alive' }],
      userState: new Uint8Array(0),
    };
    const expected = hex(HEX.pushPullHeader + HEX.pushNodeState);
    expect(toHex(encodeStream(message, { compress: false }))).toBe(toHex(expected));
    const decoder = new StreamDecoder();
    decoder.push(expected);
    expect(decoder.next()).toEqual(message);
  });

  it('user message header: 08 81 aa UserMsgLen cd 012c', () => {
    const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const encoded = encodeStream({ type: 'user', payload }, { compress: false });
    expect(toHex(encoded)).toBe(HEX.userHeader.replace(/\s+/g, '') + toHex(payload));
    const decoder = new StreamDecoder();
    decoder.push(encoded);
    expect(decoder.next()).toEqual({ type: 'user', payload });
  });
});

describe('LZW (docs/wire-format.md §5)', () => {
  it('"TOBEORNOTTOBEORTOBEORNOT" as a whole compress message', () => {
    const input = new TextEncoder().encode('TOBEORNOTTOBEORTOBEORNOT');
    const expected = hex(HEX.lzwCompressMessage);
    expect(toHex(compressMessage(input))).toBe(toHex(expected));
    expect(lzwDecompress(expected.subarray(13))).toEqual(input);
  });

  it('empty input gives 00 03 02', () => {
    expect(toHex(lzwCompress(new Uint8Array(0)))).toBe(HEX.lzwEmpty);
    expect(lzwDecompress(hex(HEX.lzwEmpty))).toEqual(new Uint8Array(0));
  });

  it('the 64-byte alive message', () => {
    const expected = hex(HEX.lzwAlive);
    expect(toHex(lzwCompress(hex(HEX.alive)))).toBe(toHex(expected));
    expect(lzwDecompress(expected)).toEqual(hex(HEX.alive));
  });
});

describe('encryption (docs/wire-format.md §6)', () => {
  const keyring = new Keyring([new Uint8Array(16).fill(1)], { nonce: () => new Uint8Array(12).fill(2) });
  const udp = hex(HEX.encryptedPingUdp);
  const ciphertext = udp.subarray(13, 13 + 69);
  const tcp = hex(`0a 00000062 01 020202020202020202020202 ${toHex(ciphertext)} ${HEX.encryptedPingTcpTag}`);

  it('UDP: 98 bytes, no additional data', () => {
    expect(udp.length).toBe(98);
    const packet = encodePacket([MESSAGES.ping!], { crc: false, compress: false, keyring });
    expect(toHex(packet)).toBe(toHex(udp));
    expect(toHex(keyring.decrypt(udp))).toBe(toHex(hex(HEX.ping)));
    expect(decodePacket(udp, { keyring })).toEqual([MESSAGES.ping]);
  });

  it('TCP: 103 bytes, additional data = 0a + u32 length', () => {
    expect(tcp.length).toBe(103);
    expect(toHex(encodeStream(MESSAGES.ping as WireStreamMessage, { compress: false, keyring }))).toBe(toHex(tcp));
    const decoder = new StreamDecoder({ keyring });
    decoder.push(tcp);
    expect(decoder.next()).toEqual(MESSAGES.ping);
  });
});

describe('Serf tags (docs/wire-format.md §9.2)', () => {
  it('no tags: ff 80', () => {
    expect(toHex(encodeTags({}))).toBe(toHex(SERF_EMPTY_TAGS));
    expect(decodeTags(SERF_EMPTY_TAGS)).toEqual({});
  });

  it('{role: web}: ff 81 a4 726f6c65 a3 776562', () => {
    const expected = hex(SERF.tagsRoleWeb);
    expect(toHex(encodeTags({ role: 'web' }))).toBe(toHex(expected));
    expect(decodeTags(expected)).toEqual({ role: 'web' });
  });
});
