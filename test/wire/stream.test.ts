/**
 * TCP streams (docs/wire-format.md §4): encoding with compression and encryption, and the incremental decoder fed
 * in random chunkings; verify-incoming, limits and the wrappers' rules.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PushPullMessage } from '../../packages/hearsay/src/core/types.js';
import { Keyring, StreamDecoder, compressMessage, encodeStream, encodeStreamBody, type WireStreamMessage } from '../../packages/hearsay/src/wire/index.js';
import { MsgpackWriter } from '../../packages/hearsay/src/wire/msgpack.js';
import { MEMBERLIST } from '../fixtures/wire-vectors.js';
import { RUNS, VSN, chunkings, hex, profile, split, streamMessage, reason } from './helpers.js';

function decodeAll(bytes: Uint8Array, decoder = new StreamDecoder()): WireStreamMessage | null {
  decoder.push(bytes);
  return decoder.next();
}

const pushPull: PushPullMessage = {
  type: 'pushPull',
  join: false,
  states: [
    { profile: profile('a', '10.0.0.1'), incarnation: 3, status: 'alive' },
    { profile: profile('b', '::ffff:10.0.0.2'), incarnation: 1, status: 'suspect' },
    { profile: profile('c', 'fd00::3'), incarnation: 7, status: 'failed' },
    { profile: profile('d', '10.0.0.4'), incarnation: 2, status: 'left' },
  ],
  userState: Uint8Array.of(2, 0x80),
};

describe('encodeStream', () => {
  it('compression always wraps, even when longer (as Go does on streams)', () => {
    const ping: WireStreamMessage = { type: 'ping', seqNo: 1, node: '' };
    const encoded = encodeStream(ping, { compress: true });
    expect(encoded[0]).toBe(9);
    expect(encoded.length).toBeGreaterThan(encodeStreamBody(ping).length);
    expect(encoded).toEqual(compressMessage(encodeStreamBody(ping)));
  });

  it('encryption: 0a | u32 length | blob, the 5-byte header as additional data', () => {
    const keyring = new Keyring([randomBytes(32)]);
    const encoded = encodeStream(pushPull, { compress: true, keyring });
    expect(encoded[0]).toBe(10);
    const length = new DataView(encoded.buffer).getUint32(1);
    expect(length).toBe(encoded.length - 5);
    expect(keyring.decrypt(encoded.subarray(5), encoded.subarray(0, 5))).toEqual(compressMessage(encodeStreamBody(pushPull)));
  });

  it('maps statuses to State 0..3 and error to 0d {Error}', () => {
    const body = encodeStreamBody(pushPull);
    const states = [
      ...Buffer.from(body)
        .toString('hex')
        .matchAll(/a5537461746(5)(0[0-3])/g),
    ].map((m) => m[2]);
    expect(states).toEqual(['00', '01', '02', '03']);
    expect(encodeStreamBody({ type: 'error', error: 'no' })).toEqual(hex(MEMBERLIST.errorNo));
  });
});

describe('StreamDecoder', () => {
  it('round-trips random messages, with every wrapper, in random chunkings', () => {
    const keys = [randomBytes(16), randomBytes(24)];
    fc.assert(
      fc.property(streamMessage, fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 1 << 30 }), (m, compress, encrypt, cutSeed) => {
        const keyring = encrypt ? new Keyring(keys) : undefined;
        const bytes = encodeStream(m, { compress, keyring });
        const cuts = fc.sample(chunkings(bytes.length), { seed: cutSeed, numRuns: 1 })[0]!;
        const decoder = new StreamDecoder({ keyring });
        let pushed = 0;
        let result: WireStreamMessage | null = null;
        for (const chunk of split(bytes, cuts)) {
          decoder.push(chunk);
          pushed += chunk.length;
          const next = decoder.next();
          // A message appears exactly when its last byte has arrived, and only once.
          if (pushed < bytes.length || result) expect(next).toBeNull();
          else result = next;
        }
        expect(result).toEqual(m);
        expect(() => decoder.end()).not.toThrow();
      }),
      RUNS,
    );
  });

  it('parses a plain push/pull byte by byte without waiting for EOF', () => {
    const bytes = encodeStream(pushPull, { compress: false });
    const decoder = new StreamDecoder();
    for (let i = 0; i < bytes.length - 1; i++) {
      decoder.push(bytes.subarray(i, i + 1));
      expect(decoder.next()).toBeNull();
    }
    decoder.push(bytes.subarray(bytes.length - 1));
    expect(decoder.next()).toEqual(pushPull);
  });

  it('reads back-to-back messages on one stream', () => {
    const decoder = new StreamDecoder();
    decoder.push(Uint8Array.of(...encodeStream({ type: 'ack', seqNo: 4 }, { compress: true }), ...encodeStream(pushPull, { compress: false })));
    expect(decoder.next()).toEqual({ type: 'ack', seqNo: 4 });
    expect(decoder.next()).toEqual(pushPull);
    expect(decoder.next()).toBeNull();
  });

  it('verify-incoming: with a keyring, plaintext is not-encrypted unless verifyIncoming is false', () => {
    const keyring = new Keyring([randomBytes(16)]);
    const plain = encodeStream(pushPull, { compress: true });
    expect(reason(() => decodeAll(plain, new StreamDecoder({ keyring })))).toBe('not-encrypted');
    expect(decodeAll(plain, new StreamDecoder({ keyring, verifyIncoming: false }))).toEqual(pushPull);
    const encrypted = encodeStream(pushPull, { compress: true, keyring });
    expect(reason(() => decodeAll(encrypted))).toBe('decrypt');
    expect(reason(() => decodeAll(encrypted, new StreamDecoder({ keyring: new Keyring([randomBytes(16)]) })))).toBe('decrypt');
  });

  it('refuses oversized frames before they arrive', () => {
    const keyring = new Keyring([randomBytes(16)]);
    expect(reason(() => decodeAll(hex('0a 01400001'), new StreamDecoder({ keyring })))).toBe('oversized');
    const header = (nodes: number, userStateLen: number) =>
      new MsgpackWriter().byte(6).struct({ Join: false, Nodes: nodes, UserStateLen: userStateLen }).finish();
    expect(reason(() => decodeAll(header(1_000_001, 0)))).toBe('oversized');
    expect(reason(() => decodeAll(header(0, 20 * 1024 * 1024 + 1)))).toBe('oversized');
    expect(decodeAll(header(0, 20 * 1024 * 1024))).toBeNull(); // allowed, waits for the bytes
    expect(reason(() => decodeAll(header(3, 0), new StreamDecoder({ maxNodes: 2 })))).toBe('oversized');
    const user = new MsgpackWriter().byte(8).struct({ UserMsgLen: 2000 }).finish();
    expect(reason(() => decodeAll(user, new StreamDecoder({ maxBytes: 1000 })))).toBe('oversized');
    // A msgpack object that never ends cannot grow the buffer without bound: a header claiming
    // more is refused at once, and so is an object whose items keep coming past the limit.
    expect(reason(() => decodeAll(hex('00 81 a4 4e6f6465 db 00100000'), new StreamDecoder({ maxBytes: 1000 })))).toBe('oversized');
    expect(reason(() => decodeAll(hex('00 81 a4 4e6f6465 dd 00100000'), new StreamDecoder({ maxBytes: 1000 })))).toBe('oversized');
    expect(reason(() => decodeAll(hex('09 df 10000000'), new StreamDecoder({ maxBytes: 1000 })))).toBe('oversized');
    const decoder = new StreamDecoder({ maxBytes: 1000 });
    decoder.push(hex('00 81 a4 4e6f6465 dc 0400'));
    expect(decoder.next()).toBeNull();
    decoder.push(new Uint8Array(2000).fill(0x91)); // one-item arrays nested: each byte promises another
    expect(reason(() => decoder.next())).toBe('oversized');
  });

  it('refuses negative counts, unknown types and a second compress layer', () => {
    const negative = hex('06 83 a4 4a6f696e c2 a5 4e6f646573 ff ac 5573657253746174654c656e 00');
    expect(reason(() => decodeAll(negative))).toBe('malformed');
    for (const type of [1, 3, 4, 5, 7, 11, 12, 14, 244]) expect(reason(() => decodeAll(Uint8Array.of(type, 0x80)))).toBe('unknown-type');
    const twice = compressMessage(compressMessage(encodeStreamBody(pushPull)));
    expect(reason(() => decodeAll(twice))).toBe('nested-compress');
    expect(reason(() => decodeAll(compressMessage(Uint8Array.of(6, 0x83))))).toBe('truncated');
  });

  it("skips push/pull records whose State is not 0..3, like memberlist's merge", () => {
    const w = new MsgpackWriter().byte(6).struct({ Join: true, Nodes: 2, UserStateLen: 0 });
    w.struct({ Addr: Uint8Array.of(10, 0, 0, 1), Incarnation: 1, Meta: null, Name: 'x', Port: 1, State: 9, Vsn: VSN });
    w.struct({ Addr: Uint8Array.of(10, 0, 0, 2), Incarnation: 1, Meta: null, Name: 'y', Port: 1, State: 0, Vsn: VSN });
    const decoded = decodeAll(w.finish());
    expect(decoded?.type === 'pushPull' && decoded.states.map((s) => s.profile.name)).toEqual(['y']);
  });

  it('stays failed after an error, and end() reports a half-received message', () => {
    const decoder = new StreamDecoder();
    decoder.push(Uint8Array.of(99));
    expect(reason(() => decoder.next())).toBe('unknown-type');
    expect(reason(() => decoder.next())).toBe('unknown-type');
    const partial = new StreamDecoder();
    partial.push(encodeStream(pushPull, { compress: false }).subarray(0, 10));
    expect(partial.next()).toBeNull();
    expect(reason(() => partial.end())).toBe('truncated');
    expect(() => new StreamDecoder().end()).not.toThrow();
  });
});

describe('StreamDecoder under a memory budget', () => {
  const userHeader = (length: number) => new MsgpackWriter().byte(8).struct({ UserMsgLen: length }).finish();

  it('scans an object trickled in small pieces once, not once per piece', () => {
    // Nested one-item arrays: every byte promises one more, so the object never looks complete
    // early. Rescanned from its start on each of 8,192 pieces it would take minutes.
    const decoder = new StreamDecoder({ maxBytes: 8 * 1024 * 1024 });
    decoder.push(hex('00 81 a4 4e6f6465'));
    const piece = new Uint8Array(512).fill(0x91);
    const started = performance.now();
    for (let i = 0; i < 8192; i++) {
      decoder.push(piece);
      expect(decoder.next()).toBeNull();
    }
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('holds what it buffers and the records it decoded, and refuses to hold more than its room', () => {
    let room = 100_000;
    const decoder = new StreamDecoder({ room: () => room });
    decoder.push(userHeader(50_000));
    expect(decoder.next()).toBeNull();
    decoder.push(new Uint8Array(40_000));
    expect(decoder.next()).toBeNull();
    expect(decoder.held).toBeGreaterThanOrEqual(40_000);
    room = 30_000; // other streams took the rest
    expect(reason(() => decoder.next())).toBe('stream-memory');
    expect(decoder.held).toBe(0); // a failed decoder lets its buffer go
    // A user message announcing more than the room is refused at its header.
    expect(reason(() => decodeAll(userHeader(200_000), new StreamDecoder({ room: () => 100_000 })))).toBe('stream-memory');
  });

  it('charges push/pull records at their cost in memory, not their size on the wire', () => {
    const w = new MsgpackWriter().byte(6).struct({ Join: false, Nodes: 100, UserStateLen: 0 });
    for (let i = 0; i < 100; i++) {
      w.struct({ Addr: Uint8Array.of(10, 0, 0, 1), Incarnation: 1, Meta: null, Name: `n${i}`, Port: 1, State: 0, Vsn: VSN });
    }
    const bytes = w.finish();
    expect(bytes.length).toBeLessThan(10_000);
    const plain = new StreamDecoder({ room: () => 20_000 });
    expect(reason(() => decodeAll(bytes, plain))).toBe('stream-memory'); // 100 × 512 bytes
    expect(reason(() => decodeAll(compressMessage(bytes), new StreamDecoder({ room: () => 20_000 })))).toBe('stream-memory');
    const decoder = new StreamDecoder({ room: () => 100_000 });
    decoder.push(bytes.subarray(0, 5000));
    expect(decoder.next()).toBeNull();
    expect(decoder.receiving).toBe('pushPull');
    expect(decoder.held).toBeGreaterThan(40 * 512);
    decoder.push(bytes.subarray(5000));
    expect(decoder.next()).toMatchObject({ type: 'pushPull', join: false });
    expect(decoder.held).toBe(0);
  });

  it('refuses a stream expanding over 128 times its compressed size, past 1 MiB', () => {
    const zeros = (n: number) => encodeStream({ type: 'user', payload: new Uint8Array(n) }, { compress: true });
    expect(decodeAll(zeros(1024 * 1024 - 100))).toMatchObject({ type: 'user' });
    expect(reason(() => decodeAll(zeros(3 * 1024 * 1024)))).toBe('compression-ratio');
    // Within the ratio, the room still applies.
    const random = encodeStream({ type: 'user', payload: randomBytes(200_000) }, { compress: true });
    expect(reason(() => decodeAll(random, new StreamDecoder({ room: () => 300_000 })))).toBe('stream-memory');
  });

  it('dispose() lets everything go', () => {
    const decoder = new StreamDecoder();
    decoder.push(userHeader(1_000_000));
    decoder.push(new Uint8Array(500_000));
    expect(decoder.next()).toBeNull();
    expect(decoder.held).toBeGreaterThanOrEqual(500_000);
    decoder.dispose();
    expect(decoder.held).toBe(0);
  });
});
