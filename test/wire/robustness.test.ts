/**
 * Hostile input: every truncation of valid packets and streams, random bytes and mutated valid
 * input. Decoders must return a result or throw WireError, never another exception, never hang.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../packages/hearsay/src/core/types.js';
import {
  Keyring,
  StreamDecoder,
  WireError,
  decodePacket,
  decodeSerfMessage,
  decodeTags,
  encodePacket,
  encodeStream,
  parseSerfUserState,
} from '../../packages/hearsay/src/wire/index.js';
import { SEED, message, streamMessage } from './helpers.js';

const keyring = new Keyring([randomBytes(16)]);
const OPTIONS = [
  { crc: false, compress: false },
  { crc: true, compress: false },
  { crc: false, compress: true },
  { crc: true, compress: true },
  { crc: true, compress: true, keyring },
] as const;

/** Runs fn; fails the test on any exception that is not a WireError. */
function wireSafe<T>(fn: () => T): T | WireError {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
    return error;
  }
}

function decodeStream(bytes: Uint8Array, key?: Keyring, end = true) {
  const decoder = new StreamDecoder({ keyring: key });
  decoder.push(bytes);
  const result = decoder.next();
  if (end && result === null) decoder.end();
  return result;
}

describe('truncation at every byte offset', () => {
  const samples = fc.sample(fc.array(message, { minLength: 1, maxLength: 6 }), { seed: SEED, numRuns: 12 });

  it('packets: WireError, or (for a compound) a prefix of the messages', () => {
    for (const messages of samples) {
      for (const options of OPTIONS) {
        const packet = encodePacket(messages, options);
        for (let cut = 0; cut < packet.length; cut++) {
          const result = wireSafe(() => decodePacket(packet.subarray(0, cut), { keyring: 'keyring' in options ? keyring : undefined }));
          if (result instanceof WireError) continue;
          // Only a bare compound (no CRC, compression not kept, no encryption) can lose its tail and still decode.
          expect(packet[0]).toBe(7);
          expect(result.length).toBeLessThan(messages.length);
          expect(result).toEqual(messages.slice(0, result.length) as Message[]);
        }
      }
    }
  });

  it('streams: null until complete, then end() throws truncated', () => {
    for (const m of fc.sample(streamMessage, { seed: SEED, numRuns: 25 })) {
      for (const [compress, key] of [
        [false, undefined],
        [true, undefined],
        [true, keyring],
        [false, keyring],
      ] as const) {
        const bytes = encodeStream(m, { compress, keyring: key });
        for (let cut = 1; cut < bytes.length; cut++) {
          const decoder = new StreamDecoder({ keyring: key });
          decoder.push(bytes.subarray(0, cut));
          expect(decoder.next()).toBeNull();
          const error = wireSafe(() => decoder.end());
          expect(error).toBeInstanceOf(WireError);
          expect((error as WireError).reason).toBe('truncated');
        }
      }
    }
  });
});

describe('random and mutated input', () => {
  const typed = fc.tuple(fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 400 })).map(([t, rest]) => Uint8Array.of(t, ...rest));
  const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 600 }), typed);

  it('packets never throw anything but WireError', () => {
    fc.assert(
      fc.property(anyBytes, fc.boolean(), (bytes, verify) => {
        wireSafe(() => decodePacket(bytes));
        wireSafe(() => decodePacket(bytes, { keyring, verifyIncoming: verify }));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('streams never throw anything but WireError', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        wireSafe(() => decodeStream(bytes));
        wireSafe(() => decodeStream(bytes, keyring));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('mutated valid packets and streams never throw anything but WireError', () => {
    const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });
    const mutate = (bytes: Uint8Array, edits: [number, number][]) => {
      const out = bytes.slice();
      for (const [at, value] of edits) out[at % out.length] = value;
      return out;
    };
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), fc.constantFrom(0, 1, 2, 3), mutation, (messages, o, edits) => {
        const packet = mutate(encodePacket(messages, OPTIONS[o]!), edits);
        wireSafe(() => decodePacket(packet));
      }),
      { seed: SEED, numRuns: 1500 },
    );
    fc.assert(
      fc.property(streamMessage, fc.boolean(), mutation, (m, compress, edits) => {
        wireSafe(() => decodeStream(mutate(encodeStream(m, { compress }), edits)));
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('Serf decoders never throw anything but WireError', () => {
    fc.assert(
      fc.property(anyBytes, fc.constantFrom(0, 1, 2, 0xff), (bytes, first) => {
        const withType = Uint8Array.of(first, ...bytes);
        wireSafe(() => decodeTags(withType));
        wireSafe(() => decodeSerfMessage(withType));
        parseSerfUserState(withType);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
