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
import { SERF_EMPTY_TAGS, hex, profile, toHex } from './helpers.js';

const SOURCE_A = { name: 'node-a', host: '10.0.0.1', port: 7946 };

const HEX = {
  ping: `00 85 a4 4e6f6465 a6 6e6f64652d62 a5 5365714e6f 07
         aa 536f7572636541646472 a4 0a000001 aa 536f757263654e6f6465 a6 6e6f64652d61
         aa 536f75726365506f7274 cd 1f0a`,
  pingBare: `00 82 a4 4e6f6465 a6 6e6f64652d62 a5 5365714e6f 07`,
  alive: `04 86 a4 41646472 a4 0a000001 ab 496e6361726e6174696f6e 01 a4 4d657461 a2 ff80
          a4 4e6f6465 a6 6e6f64652d61 a4 506f7274 cd 1f0a a3 56736e a6 010502020504`,
  alive16: `04 86 a4 41646472 b0 00000000000000000000ffff0a000001 ab 496e6361726e6174696f6e 01
            a4 4d657461 c0 a4 4e6f6465 a6 6e6f64652d61 a4 506f7274 cd 1f0a a3 56736e a6 010502020504`,
  ack: `02 82 a7 5061796c6f6164 c0 a5 5365714e6f 07`,
  nack: `0b 81 a5 5365714e6f 07`,
  suspect: `03 83 a4 46726f6d a6 6e6f64652d61 ab 496e6361726e6174696f6e 03 a4 4e6f6465 a6 6e6f64652d62`,
  dead: `05 83 a4 46726f6d a6 6e6f64652d61 ab 496e6361726e6174696f6e 03 a4 4e6f6465 a6 6e6f64652d62`,
  indirectPing: `01 88 a4 4e61636b c3 a4 4e6f6465 a6 6e6f64652d63 a4 506f7274 cd1f0a a5 5365714e6f 09
                 aa 536f7572636541646472 a4 0a000001 aa 536f757263654e6f6465 a6 6e6f64652d61
                 aa 536f75726365506f7274 cd1f0a a6 546172676574 a4 0a000001`,
  pushPullHeader: `06 83 a4 4a6f696e c3 a5 4e6f646573 01 ac 5573657253746174654c656e 00`,
  pushNodeState: `87 a4 41646472 a4 0a000001 ab 496e6361726e6174696f6e 01 a4 4d657461 a2 ff80
                  a4 4e616d65 a6 6e6f64652d61 a4 506f7274 cd 1f0a a5 5374617465 00 a3 56736e a6 010502020504`,
  userHeader: `08 81 aa 557365724d73674c656e cd 012c`,
};

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
    const expected = hex(`07 02 0012 0027 ${HEX.ack} ${HEX.dead}`);
    const packet = encodePacket([MESSAGES.ack!, MESSAGES.dead!], { crc: false, compress: false });
    expect(toHex(packet)).toBe(toHex(expected));
    expect(decodePacket(expected)).toEqual([MESSAGES.ack, MESSAGES.dead]);
  });

  it('CRC of the 69-byte ping is 0x7553ccdb', () => {
    const expected = hex(`0c 7553ccdb ${HEX.ping}`);
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
    const expected = hex('09 82 a4416c676f 00 a3427566 b5 00a93c1152e48914274fa80824687061c183090302');
    expect(toHex(compressMessage(input))).toBe(toHex(expected));
    expect(lzwDecompress(expected.subarray(13))).toEqual(input);
  });

  it('empty input gives 00 03 02', () => {
    expect(toHex(lzwCompress(new Uint8Array(0)))).toBe('000302');
    expect(lzwDecompress(hex('000302'))).toEqual(new Uint8Array(0));
  });

  it('the 64-byte alive message', () => {
    const expected = hex(
      '0009182215840c1939a4140000106055123763c2c87113864e9a376e02906a52864e1851ff009172f2864c19536e4a9669118614943772e834fba0609495396e4c052820404001020101',
    );
    expect(toHex(lzwCompress(hex(HEX.alive)))).toBe(toHex(expected));
    expect(lzwDecompress(expected)).toEqual(hex(HEX.alive));
  });
});

describe('encryption (docs/wire-format.md §6)', () => {
  const keyring = new Keyring([new Uint8Array(16).fill(1)], { nonce: () => new Uint8Array(12).fill(2) });
  const udp = hex(`01 020202020202020202020202
    5361b42da94a23daf98f6a519f83df083e3c075257582375bd106252cce8e99cac4aeff73cf7c03ff3ea8c01f16d7b76996da5d36456262880e2710331297375ce59b2fe8c
    762c5e444a6a31dfb46cc31588a4f6c0`);
  const ciphertext = udp.subarray(13, 13 + 69);
  const tcp = hex(`0a 00000062 01 020202020202020202020202 ${toHex(ciphertext)} dcd23a9735fec0e59bd2f8997e77a43a`);

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
    const expected = hex('ff 81 a4 726f6c65 a3 776562');
    expect(toHex(encodeTags({ role: 'web' }))).toBe(toHex(expected));
    expect(decodeTags(expected)).toEqual({ role: 'web' });
  });
});
