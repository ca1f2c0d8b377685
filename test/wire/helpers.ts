/** Shared fixtures and fast-check generators for the wire tests. */
import fc from 'fast-check';
import type { MemberProfile, Message, PushNodeState, Source, Status } from '../../packages/hearsay/src/core/types.js';
import { expect } from 'vitest';
import { SERF } from '../fixtures/wire-vectors.js';
import { decodeHost, WireError, type WireErrorReason, type WireStreamMessage } from '../../packages/hearsay/src/wire/index.js';

/** Bytes from spaced hex, as the spec writes them. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new Error(`bad hex: ${text}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** The reason a decoder refused, or 'accepted'; anything but a WireError fails the test. */
export const reason = (fn: () => unknown): WireErrorReason | 'accepted' => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WireError);
    return (error as WireError).reason;
  }
  return 'accepted';
};

/** Property runs are seeded so a failure reproduces. */
export const SEED = 0x5eed;
export const RUNS = { seed: SEED, numRuns: 200 } as const;

export const SERF_EMPTY_TAGS = hex(SERF.emptyTags);
export const VSN = Uint8Array.of(1, 5, 2, 2, 5, 4);

export function profile(name: string, host: string, meta: Uint8Array = SERF_EMPTY_TAGS): MemberProfile {
  return { name, host, port: 7946, meta, vsn: VSN };
}

// ---- generators

const uint32 = fc.oneof(
  fc.constantFrom(0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffff),
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([a, b]) => a * 0x10000 + b),
);
const port = fc.oneof(fc.constantFrom(0, 1, 127, 128, 255, 256, 7946, 65535), fc.integer({ min: 0, max: 0xffff }));
/** Names of any Unicode text, sometimes 32+ bytes so that str16 is exercised. */
export const name = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ minLength: 30, maxLength: 70 }));
/** IPv4, IPv6 and v4-mapped hosts, in the canonical text the decoder produces. */
export const host = fc.oneof(
  fc.ipV4(),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => decodeHost(b, 'test')),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => decodeHost(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...b), 'test')),
);
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });
const source: fc.Arbitrary<Source | undefined> = fc.option(
  fc.record({ name, host: fc.oneof(host, fc.constant('')), port }).filter((s) => s.name !== '' || s.host !== '' || s.port !== 0),
  { nil: undefined },
);

export const memberProfile: fc.Arbitrary<MemberProfile> = fc.record({
  name,
  host,
  port,
  meta: fc.oneof(bytes(64), bytes(512)),
  vsn: fc.oneof(fc.constant(VSN), bytes(8)),
});

const withSource = <T extends object>(m: T, s: Source | undefined): T => (s ? { ...m, source: s } : m);

export const message: fc.Arbitrary<Message> = fc.oneof(
  fc.tuple(uint32, name, source).map(([seqNo, node, s]) => withSource({ type: 'ping' as const, seqNo, node }, s)),
  fc
    .tuple(uint32, name, host, port, fc.boolean(), source)
    .map(([seqNo, node, h, p, nack, s]) => withSource({ type: 'indirectPing' as const, seqNo, node, target: { host: h, port: p }, nack }, s)),
  fc
    .tuple(uint32, fc.option(bytes(80), { nil: undefined }))
    .map(([seqNo, payload]) => (payload ? { type: 'ack' as const, seqNo, payload } : { type: 'ack' as const, seqNo })),
  uint32.map((seqNo) => ({ type: 'nack' as const, seqNo })),
  fc
    .tuple(fc.constantFrom('suspect' as const, 'dead' as const), name, uint32, name)
    .map(([type, node, incarnation, from]) => ({ type, node, incarnation, from })),
  fc.tuple(uint32, memberProfile).map(([incarnation, p]) => ({ type: 'alive' as const, incarnation, profile: p })),
  bytes(300).map((payload) => ({ type: 'user' as const, payload })),
);

const status = fc.constantFrom<Status>('alive', 'suspect', 'failed', 'left');
const pushNodeState: fc.Arbitrary<PushNodeState> = fc.record({ profile: memberProfile, incarnation: uint32, status });

export const streamMessage: fc.Arbitrary<WireStreamMessage> = fc.oneof(
  fc.record({ type: fc.constant('pushPull' as const), join: fc.boolean(), states: fc.array(pushNodeState, { maxLength: 20 }), userState: bytes(2000) }),
  fc.tuple(uint32, name, source).map(([seqNo, node, s]) => withSource({ type: 'ping' as const, seqNo, node }, s)),
  fc
    .tuple(uint32, fc.option(bytes(80), { nil: undefined }))
    .map(([seqNo, payload]) => (payload ? { type: 'ack' as const, seqNo, payload } : { type: 'ack' as const, seqNo })),
  name.map((error) => ({ type: 'error' as const, error })),
  bytes(3000).map((payload) => ({ type: 'user' as const, payload })),
);

/** Cut points that split `length` bytes into chunks (possibly empty ones). */
export function chunkings(length: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: length }), { maxLength: 12 }).map((cuts) => [...cuts].sort((a, b) => a - b));
}

export function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.slice(start, cut));
    start = cut;
  }
  return chunks;
}

/** Byte equality that stays fast on large buffers (toEqual walks typed arrays element by element). */
export function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  return Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength));
}
