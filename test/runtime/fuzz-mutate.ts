/**
 * Mutations of valid inputs, driven by a seeded generator (the project's xoroshiro128+): bit
 * flips, byte replacements, insertions, deletions, truncations, repeated chunks, length fields
 * edited (msgpack str/bin/array/map headers, compound lengths, the stream's u32 length), integers
 * set to the boundary values (0, 2^31, 2^32−1, 2^32, 2^53, 2^63, 2^64−1, negatives, NaN), and
 * splices of two inputs. Packets and streams are mutated either inside their layers (then wrapped
 * again, with a valid CRC and encryption) or as the bytes on the wire.
 */
import type { Random } from '../../packages/hearsay/src/core/index.js';
import { rawCompound, wrapPacket, wrapStream, type PacketSample, type StreamSample } from './fuzz-corpus.js';
import type { Keyring } from '../../packages/hearsay/src/wire/index.js';

const be = (value: bigint, bytes: number): number[] => Array.from({ length: bytes }, (_, i) => Number((value >> BigInt(8 * (bytes - 1 - i))) & 0xffn));

/** msgpack encodings of the integers (and a few non-integers) that break code assuming small values. */
const BOUNDARY_INTEGERS: readonly (readonly number[])[] = [
  [0x00],
  [0x01],
  [0x7f],
  [0xcc, 0xff],
  [0xcd, 0xff, 0xff],
  [0xce, ...be(2n ** 31n, 4)],
  [0xce, ...be(2n ** 32n - 1n, 4)],
  [0xcf, ...be(2n ** 32n, 8)],
  [0xcf, ...be(2n ** 53n - 1n, 8)],
  [0xcf, ...be(2n ** 53n, 8)],
  [0xcf, ...be(2n ** 63n, 8)],
  [0xcf, ...be(2n ** 64n - 1n, 8)],
  [0xff], // −1
  [0xd2, ...be(2n ** 31n, 4)], // −2^31
  [0xd3, ...be(2n ** 63n, 8)], // −2^63
  [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], // NaN
  [0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0], // +Infinity
  [0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0], // 0.5
  [0xc0], // nil
  [0xc3], // true
];

/** Values for raw 1-, 2- and 4-byte big-endian fields (compound counts and lengths, stream lengths, CRCs). */
const BOUNDARY_RAW = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

/** Bytes worth writing anywhere: message types, msgpack heads (nil, the reserved 0xc1, long str/array/map). */
const INTERESTING_BYTES = [
  0, 1, 2, 4, 5, 7, 8, 9, 10, 12, 13, 0x40, 0x41, 0x7f, 0x80, 0x8f, 0x9f, 0xbf, 0xc0, 0xc1, 0xc4, 0xc6, 0xcf, 0xd3, 0xdb, 0xdd, 0xdf, 0xff,
];

interface Token {
  readonly offset: number;
  /** Bytes of the head (for an integer: of the whole value). */
  readonly size: number;
  readonly kind: 'int' | 'str' | 'array' | 'map';
}

const FIXED_SIZE: Record<number, number> = { 0xc0: 1, 0xc2: 1, 0xc3: 1, 0xca: 5, 0xcb: 9, 0xd4: 3, 0xd5: 4, 0xd6: 6, 0xd7: 10, 0xd8: 18 };
const INT_SIZE: Record<number, number> = { 0xcc: 2, 0xcd: 3, 0xce: 5, 0xcf: 9, 0xd0: 2, 0xd1: 3, 0xd2: 5, 0xd3: 9 };
const LENGTH_WIDTH: Record<number, [number, Token['kind']]> = {
  0xc4: [1, 'str'],
  0xc5: [2, 'str'],
  0xc6: [4, 'str'],
  0xd9: [1, 'str'],
  0xda: [2, 'str'],
  0xdb: [4, 'str'],
  0xdc: [2, 'array'],
  0xdd: [4, 'array'],
  0xde: [2, 'map'],
  0xdf: [4, 'map'],
};

/**
 * The msgpack heads found by reading `bytes` from `start` as a sequence of objects (a message's
 * type byte is skipped by starting at 1; a Serf type byte reads as a small integer): where the
 * integers, strings and containers are, so that a mutation can hit a field rather than noise.
 */
export function msgpackTokens(bytes: Uint8Array, start = 1): Token[] {
  const tokens: Token[] = [];
  let p = start;
  while (p < bytes.length && tokens.length < 4096) {
    const b = bytes[p]!;
    if (b < 0x80 || b >= 0xe0) {
      tokens.push({ offset: p, size: 1, kind: 'int' });
      p += 1;
    } else if (b < 0xa0) {
      tokens.push({ offset: p, size: 1, kind: b < 0x90 ? 'map' : 'array' });
      p += 1;
    } else if (b < 0xc0) {
      tokens.push({ offset: p, size: 1, kind: 'str' });
      p += 1 + (b & 0x1f);
    } else if (INT_SIZE[b] !== undefined) {
      tokens.push({ offset: p, size: INT_SIZE[b]!, kind: 'int' });
      p += INT_SIZE[b]!;
    } else if (FIXED_SIZE[b] !== undefined) {
      p += FIXED_SIZE[b]!;
    } else if (LENGTH_WIDTH[b] !== undefined) {
      const [width, kind] = LENGTH_WIDTH[b]!;
      if (p + 1 + width > bytes.length) break;
      let length = 0;
      for (let i = 1; i <= width; i++) length = length * 256 + bytes[p + i]!;
      tokens.push({ offset: p, size: 1 + width, kind });
      p += 1 + width + (kind === 'str' ? length : 0);
    } else {
      break; // 0xc1 or an ext: nothing sensible follows
    }
  }
  return tokens;
}

function lengthHead(kind: Token['kind'], length: number): number[] {
  if (kind === 'str') return length < 32 ? [0xa0 | length] : length < 0x10000 ? [0xda, ...be(BigInt(length), 2)] : [0xdb, ...be(BigInt(length), 4)];
  const [fix, h16, h32] = kind === 'array' ? [0x90, 0xdc, 0xdd] : [0x80, 0xde, 0xdf];
  return length < 16 ? [fix | length] : length < 0x10000 ? [h16, ...be(BigInt(length), 2)] : [h32, ...be(BigInt(length), 4)];
}

function currentLength(bytes: Uint8Array, token: Token): number {
  const b = bytes[token.offset]!;
  if (token.size === 1) return b & (token.kind === 'str' ? 0x1f : 0x0f);
  let length = 0;
  for (let i = 1; i < token.size; i++) length = length * 256 + bytes[token.offset + i]!;
  return length;
}

function replace(bytes: Uint8Array, at: number, wanted: number, insert: readonly number[]): Uint8Array {
  const size = Math.min(wanted, bytes.length - at);
  const out = new Uint8Array(bytes.length - size + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + size), at + insert.length);
  return out;
}

/** One mutation of `bytes`; `other` is a second input to splice with. */
export function mutateOnce(bytes: Uint8Array, random: Random, other: () => Uint8Array): Uint8Array {
  const n = bytes.length;
  const at = () => random.int(n + 1);
  switch (random.int(11)) {
    case 0: {
      if (n === 0) return bytes;
      const out = Uint8Array.from(bytes);
      out[random.int(n)]! ^= 1 << random.int(8);
      return out;
    }
    case 1: {
      if (n === 0) return bytes;
      const out = Uint8Array.from(bytes);
      out[random.int(n)] = random.int(2) === 0 ? random.int(256) : INTERESTING_BYTES[random.int(INTERESTING_BYTES.length)]!;
      return out;
    }
    case 2:
      return replace(
        bytes,
        at(),
        0,
        Array.from({ length: 1 + random.int(16) }, () => random.int(256)),
      );
    case 3: {
      const from = random.int(n + 1);
      return replace(bytes, from, Math.min(n - from, 1 + random.int(16)), []);
    }
    case 4:
      return bytes.slice(0, random.int(n + 1));
    case 5: {
      const from = random.int(n + 1);
      const chunk = Array.from(bytes.subarray(from, from + 1 + random.int(64)));
      const times = 1 + random.int(8);
      return replace(bytes, at(), 0, Array.from({ length: times }, () => chunk).flat());
    }
    case 6:
    case 7: {
      const tokens = msgpackTokens(bytes);
      const wanted = tokens.filter((t) => (t.kind === 'int') === (random.int(2) === 0));
      const token = wanted[random.int(wanted.length)] ?? tokens[random.int(tokens.length)];
      if (!token) return mutateOnce(bytes, random, other);
      if (token.kind === 'int') return replace(bytes, token.offset, token.size, BOUNDARY_INTEGERS[random.int(BOUNDARY_INTEGERS.length)]!);
      const length = currentLength(bytes, token);
      const lengths = [0, Math.max(0, length - 1), length + 1, length * 2 + 1, 0xffff, 0x10000, 0x7fffffff, 0xffffffff];
      return replace(bytes, token.offset, token.size, lengthHead(token.kind, lengths[random.int(lengths.length)]!));
    }
    case 8: {
      const width = [1, 2, 4][random.int(3)]!;
      if (n < width) return bytes;
      const out = Uint8Array.from(bytes);
      const value = BigInt(BOUNDARY_RAW[random.int(BOUNDARY_RAW.length)]!) & ((1n << BigInt(8 * width)) - 1n);
      out.set(be(value, width), random.int(n - width + 1));
      return out;
    }
    default: {
      const b = other();
      const head = bytes.subarray(0, at());
      const tail = b.subarray(random.int(b.length + 1));
      const out = new Uint8Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      return out;
    }
  }
}

/** One to four mutations. */
export function mutate(bytes: Uint8Array, random: Random, other: () => Uint8Array): Uint8Array {
  let out = bytes;
  for (let edits = 1 + random.int(4); edits > 0; edits--) out = mutateOnce(out, random, other);
  return out;
}

/** Each sample's bytes on the wire, framed once: compressing and encrypting cost more than decoding. */
const framedPackets = new WeakMap<PacketSample, Uint8Array>();
const framedStreams = new WeakMap<StreamSample, Uint8Array>();

function cached<K extends object>(cache: WeakMap<K, Uint8Array>, key: K, make: () => Uint8Array): Uint8Array {
  const known = cache.get(key);
  if (known) return known;
  const bytes = make();
  cache.set(key, bytes);
  return bytes;
}

/**
 * A mutated datagram: half the time the messages inside are mutated (some parts, maybe parts
 * dropped, repeated or taken from another packet) and wrapped again; else the bytes on the wire.
 */
export function mutatePacket(sample: PacketSample, random: Random, corpus: readonly PacketSample[], keyring: Keyring): Uint8Array {
  const otherSample = () => corpus[random.int(corpus.length)]!;
  const otherPart = () => {
    const parts = otherSample().parts;
    return parts[random.int(parts.length)]!;
  };
  if (random.int(2) === 0) {
    let parts = [...sample.parts];
    if (random.int(4) === 0) parts.splice(random.int(parts.length + 1), 0, ...Array.from({ length: 1 + random.int(3) }, otherPart));
    if (random.int(64) === 0) parts = Array.from({ length: 1 + random.int(300) }, () => parts[random.int(parts.length)]!);
    if (random.int(8) === 0 && parts.length > 1) parts.splice(random.int(parts.length), 1);
    for (let edits = 1 + random.int(2); edits > 0; edits--) {
      const i = random.int(parts.length);
      parts[i] = mutate(parts[i]!, random, otherPart);
    }
    const shape = random.int(4) === 0 ? { ...sample.shape, nested: !sample.shape.nested } : sample.shape;
    if (random.int(16) === 0) return rawCompound(parts.map((part) => rawCompound([part])));
    return wrapPacket(parts, shape, keyring);
  }
  const framed = (s: PacketSample) => cached(framedPackets, s, () => wrapPacket(s.parts, s.shape, keyring));
  return mutate(framed(sample), random, () => framed(otherSample()));
}

/** A mutated stream: its body mutated and framed again, or the framed bytes mutated. */
export function mutateStream(sample: StreamSample, random: Random, corpus: readonly StreamSample[], keyring: Keyring): Uint8Array {
  const other = () => corpus[random.int(corpus.length)]!;
  if (random.int(2) === 0) {
    const body = mutate(sample.body, random, () => other().body);
    return wrapStream(body, random.int(6) === 0 ? !sample.compress : sample.compress, sample.encrypt, keyring);
  }
  const framed = (s: StreamSample) => cached(framedStreams, s, () => wrapStream(s.body, s.compress, s.encrypt, keyring));
  return mutate(framed(sample), random, () => framed(other()));
}
