/**
 * Encoded sizes (docs/wire-format.md §2, §3.1, §4.3): memberlistSize must agree byte for byte with the lengths
 * of the hex examples produced by memberlist 0.2.2 itself, since it sizes the UDP piggyback budget.
 */
import { MEMBERLIST } from '../fixtures/wire-vectors.js';
import { describe, expect, it } from 'vitest';
import { compoundOverhead, DEFAULT_VSN, memberlistSize, streamSize, type Message } from '../../packages/hearsay/src/core/index.js';
import { hexLength, profileOf, SERF_EMPTY_TAGS } from './harness.js';

const NODE_A = { name: 'node-a', host: '10.0.0.1', port: 7946 };

describe('memberlistSize against the spec’s hex examples', () => {
  it('the ping with source fields is 69 bytes', () => {
    expect(hexLength(MEMBERLIST.ping)).toBe(69);
    expect(memberlistSize({ type: 'ping', seqNo: 7, node: 'node-b', source: NODE_A })).toBe(69);
  });

  it('the ping without source fields', () => {
    expect(memberlistSize({ type: 'ping', seqNo: 7, node: 'node-b' })).toBe(hexLength(MEMBERLIST.pingBare));
  });

  it('the alive is 64 bytes', () => {
    expect(hexLength(MEMBERLIST.alive)).toBe(64);
    const profile = { ...profileOf('node-a', '10.0.0.1'), meta: SERF_EMPTY_TAGS, vsn: DEFAULT_VSN };
    expect(memberlistSize({ type: 'alive', incarnation: 1, profile })).toBe(64);
  });

  it('the alive with a 16-byte (v4-mapped) address and no meta', () => {
    const profile = { ...profileOf('node-a', '::ffff:10.0.0.1'), meta: new Uint8Array(0), vsn: DEFAULT_VSN };
    expect(memberlistSize({ type: 'alive', incarnation: 1, profile })).toBe(hexLength(MEMBERLIST.alive16));
  });

  it('the ack with a nil payload', () => {
    expect(hexLength(MEMBERLIST.ack)).toBe(18);
    expect(memberlistSize({ type: 'ack', seqNo: 7 })).toBe(18);
  });

  it('an ack with a payload counts its bytes', () => {
    // nil (1 byte) becomes a raw string: 1 header byte + 10 bytes
    expect(memberlistSize({ type: 'ack', seqNo: 7, payload: new Uint8Array(10) })).toBe(18 - 1 + 11);
  });

  it('the nack', () => {
    expect(memberlistSize({ type: 'nack', seqNo: 7 })).toBe(hexLength(MEMBERLIST.nack));
  });

  it('the suspect and the dead are 39 bytes', () => {
    expect(hexLength(MEMBERLIST.suspect)).toBe(39);
    expect(memberlistSize({ type: 'suspect', node: 'node-b', incarnation: 3, from: 'node-a' })).toBe(39);
    expect(memberlistSize({ type: 'dead', node: 'node-b', incarnation: 3, from: 'node-a' })).toBe(hexLength(MEMBERLIST.dead));
  });

  it('the indirectPing', () => {
    const message: Message = {
      type: 'indirectPing',
      seqNo: 9,
      node: 'node-c',
      target: { host: '10.0.0.1', port: 7946 },
      nack: true,
      source: NODE_A,
    };
    expect(memberlistSize(message)).toBe(hexLength(MEMBERLIST.indirectPing));
  });

  it('the compound of an ack and a dead: 07 02 0012 0027 + parts', () => {
    const parts: Message[] = [
      { type: 'ack', seqNo: 7 },
      { type: 'dead', node: 'node-b', incarnation: 3, from: 'node-a' },
    ];
    expect(parts.map(memberlistSize)).toEqual([0x12, 0x27]);
    expect(compoundOverhead(2)).toBe(hexLength('07 02 0012 0027'));
    expect(compoundOverhead(1)).toBe(0);
  });

  it('a user message is its type byte and the raw payload', () => {
    expect(memberlistSize({ type: 'user', payload: new Uint8Array(300) })).toBe(301);
  });
});

describe('msgpack widths', () => {
  const bare = hexLength(MEMBERLIST.pingBare); // seqNo 7 takes 1 byte

  it.each([
    [127, 1],
    [128, 2],
    [255, 2],
    [256, 3],
    [65535, 3],
    [70000, 5], // ce 00 01 11 70
    [0xffffffff, 5],
  ])('seqNo %i takes %i byte(s)', (seqNo, bytes) => {
    expect(memberlistSize({ type: 'ping', seqNo, node: 'node-b' })).toBe(bare - 1 + bytes);
  });

  it('a 40-byte name is a str16 (da 00 28 …), never str8', () => {
    const name = 'n'.repeat(40);
    expect(memberlistSize({ type: 'ping', seqNo: 7, node: name })).toBe(bare - 7 + 3 + 40);
    const name31 = 'n'.repeat(31);
    expect(memberlistSize({ type: 'ping', seqNo: 7, node: name31 })).toBe(bare - 7 + 1 + 31);
  });

  it('names are counted in UTF-8 bytes', () => {
    expect(memberlistSize({ type: 'ping', seqNo: 7, node: 'nœud-b' })).toBe(bare + 1);
  });

  it('an IPv6 address is 16 raw bytes', () => {
    const v4 = memberlistSize({ type: 'alive', incarnation: 1, profile: profileOf('node-a', '10.0.0.1') });
    const v6 = memberlistSize({ type: 'alive', incarnation: 1, profile: profileOf('node-a', 'fd00::1') });
    expect(v6 - v4).toBe(12);
  });
});

describe('streamSize', () => {
  it('the push/pull example: header plus one node state, no user state', () => {
    const profile = profileOf('node-a', '10.0.0.1');
    const size = streamSize({ type: 'pushPull', join: true, states: [{ profile, incarnation: 1, status: 'alive' }], userState: new Uint8Array(0) });
    expect(size).toBe(hexLength(MEMBERLIST.pushPullHeader) + hexLength(MEMBERLIST.pushNodeState));
  });

  it('user state bytes are counted verbatim', () => {
    const profile = profileOf('node-a', '10.0.0.1');
    const states = [{ profile, incarnation: 1, status: 'alive' as const }];
    const without = streamSize({ type: 'pushPull', join: true, states, userState: new Uint8Array(0) });
    const withState = streamSize({ type: 'pushPull', join: true, states, userState: new Uint8Array(600) });
    expect(withState - without).toBe(600 + 2); // UserStateLen 0 → 600 grows from 1 to 3 bytes
  });

  it('stream pings and acks have their UDP sizes', () => {
    expect(streamSize({ type: 'ack', seqNo: 7 })).toBe(18);
    expect(streamSize({ type: 'ping', seqNo: 7, node: 'node-b', source: NODE_A })).toBe(69);
  });
});
