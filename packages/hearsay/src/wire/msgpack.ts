import { Decoder } from '@msgpack/msgpack';
import { WireError, toWireError } from './errors.js';

/*
 * Encoding is hand-written because memberlist's peer (go-msgpack 0.5, zero-value handle) speaks the
 * OLD msgpack spec: strings and []byte alike are "raw" (fixstr, str16 0xda, str32 0xdb; never str8
 * 0xd9 nor bin), and the byte output must match memberlist's exactly (message-size.ts budgets with
 * it). Maintained JS encoders only emit the new spec (str8 for 32..255-byte strings, bin for bytes).
 * Decoding is liberal and uses @msgpack/msgpack with rawStrings, so str values arrive as bytes.
 */

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false });
const UINT64_MAX = 0xffffffffffffffffn;

export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}

/** A value of a struct field; `undefined` leaves the field out (omitempty), `null` is msgpack nil. */
export type FieldValue = number | bigint | boolean | string | Uint8Array | null | undefined;

/** A growable byte buffer with go-msgpack 0.5's encodings. */
export class MsgpackWriter {
  #buf: Uint8Array;
  #len = 0;

  constructor(capacity = 128) {
    this.#buf = new Uint8Array(capacity);
  }

  get length(): number {
    return this.#len;
  }

  #ensure(extra: number): void {
    if (this.#len + extra <= this.#buf.length) return;
    let capacity = this.#buf.length * 2;
    while (capacity < this.#len + extra) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  byte(value: number): this {
    this.#ensure(1);
    this.#buf[this.#len++] = value;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.#ensure(value.length);
    this.#buf.set(value, this.#len);
    this.#len += value.length;
    return this;
  }

  u16(value: number): this {
    return this.byte(value >>> 8).byte(value & 0xff);
  }

  u32(value: number): this {
    return this.u16(value >>> 16).u16(value & 0xffff);
  }

  nil(): this {
    return this.byte(0xc0);
  }

  bool(value: boolean): this {
    return this.byte(value ? 0xc3 : 0xc2);
  }

  /** The smallest unsigned form, whatever the Go field's width. */
  uint(value: number | bigint): this {
    if (typeof value === 'bigint') {
      if (value < 0n || value > UINT64_MAX) throw new RangeError(`uint64 out of range: ${value}`);
      if (value <= 0xffffffffn) return this.uint(Number(value));
      return this.byte(0xcf)
        .u32(Number(value >> 32n))
        .u32(Number(value & 0xffffffffn));
    }
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not an unsigned integer: ${value}`);
    if (value < 0x80) return this.byte(value);
    if (value < 0x100) return this.byte(0xcc).byte(value);
    if (value < 0x10000) return this.byte(0xcd).u16(value);
    if (value < 0x100000000) return this.byte(0xce).u32(value);
    return this.byte(0xcf)
      .u32(Math.floor(value / 0x100000000))
      .u32(value >>> 0);
  }

  /** A Go float64: 0xcb and the IEEE 754 bits, big-endian (go-msgpack never shortens floats). */
  float64(value: number): this {
    this.#ensure(9);
    this.#buf[this.#len++] = 0xcb;
    new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#len, 8).setFloat64(0, value, false);
    this.#len += 8;
    return this;
  }

  /** Old-spec raw: fixstr / str16 / str32, for strings and byte slices alike. */
  raw(value: Uint8Array): this {
    const n = value.length;
    if (n < 32) this.byte(0xa0 | n);
    else if (n < 0x10000) this.byte(0xda).u16(n);
    else this.byte(0xdb).u32(n);
    return this.bytes(value);
  }

  text(value: string): this {
    const n = value.length;
    // Field names and member names are ASCII: write them straight in, skipping TextEncoder.
    if (n < 0x10000) {
      let ascii = true;
      for (let i = 0; i < n && ascii; i++) ascii = value.charCodeAt(i) < 0x80;
      if (ascii) {
        if (n < 32) this.byte(0xa0 | n);
        else this.byte(0xda).u16(n);
        this.#ensure(n);
        for (let i = 0; i < n; i++) this.#buf[this.#len++] = value.charCodeAt(i);
        return this;
      }
    }
    return this.raw(utf8(value));
  }

  mapHeader(size: number): this {
    if (size < 16) return this.byte(0x80 | size);
    if (size < 0x10000) return this.byte(0xde).u16(size);
    return this.byte(0xdf).u32(size);
  }

  arrayHeader(size: number): this {
    if (size < 16) return this.byte(0x90 | size);
    if (size < 0x10000) return this.byte(0xdc).u16(size);
    return this.byte(0xdd).u32(size);
  }

  value(value: Exclude<FieldValue, undefined>): this {
    if (value === null) return this.nil();
    switch (typeof value) {
      case 'boolean':
        return this.bool(value);
      case 'number':
      case 'bigint':
        return this.uint(value);
      case 'string':
        return this.text(value);
      default:
        return this.raw(value);
    }
  }

  /**
   * A Go struct as go-msgpack writes it: a map with the field names sorted bytewise (all our keys
   * are ASCII, so JS string order is byte order), fields whose value is `undefined` left out.
   */
  struct(fields: Readonly<Record<string, FieldValue>>): this {
    // The messages' fields are written in sorted order already: then nothing is allocated.
    let count = 0;
    let previous = '';
    let sorted = true;
    for (const key in fields) {
      if (fields[key] === undefined) continue;
      if (key < previous) sorted = false;
      previous = key;
      count++;
    }
    this.mapHeader(count);
    if (sorted) {
      for (const key in fields) this.#field(key, fields[key]);
    } else {
      for (const key of Object.keys(fields).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) this.#field(key, fields[key]);
    }
    return this;
  }

  #field(key: string, value: FieldValue): void {
    if (value !== undefined) this.text(key).value(value);
  }

  /** Empties the buffer for the next message, keeping its capacity. */
  reset(): this {
    this.#len = 0;
    return this;
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** One writer for every typed struct: each is written and copied out at once, so none overlap. */
const typedStructWriter = new MsgpackWriter(1024);

/** A type byte followed by one msgpack struct: the shape of most memberlist messages. */
export function typedStruct(type: number, fields: Readonly<Record<string, FieldValue>>): Uint8Array {
  return typedStructWriter.reset().byte(type).struct(fields).finish();
}

// ---------------------------------------------------------------------------------------------
// Decoding

const decoder = new Decoder({ rawStrings: true, useBigInt64: true });

/** Fixed sizes (head byte included) of the head bytes 0xc0..0xdf that carry no length field. */
export const FIXED_SIZES: Readonly<Record<number, number>> = {
  0xc0: 1,
  0xc2: 1,
  0xc3: 1,
  0xca: 5,
  0xcb: 9,
  0xcc: 2,
  0xcd: 3,
  0xce: 5,
  0xcf: 9,
  0xd0: 2,
  0xd1: 3,
  0xd2: 5,
  0xd3: 9,
  0xd4: 3,
  0xd5: 4,
  0xd6: 6,
  0xd7: 10,
  0xd8: 18,
};

/**
 * The end offset of the one msgpack object starting at `offset`, or null if the bytes stop first.
 * Scans without allocating, so a stream reader can ask "is the object complete yet?" cheaply and
 * a hostile header (a map claiming 2^32 entries) costs nothing until its bytes actually arrive.
 */
export function msgpackEnd(bytes: Uint8Array, offset: number): number | null {
  const n = bytes.length;
  let p = offset;
  let pending = 1;
  while (pending > 0) {
    if (p >= n) return null;
    const b = bytes[p]!;
    pending--;
    if (b < 0x80 || b >= 0xe0) p += 1;
    else if (b < 0x90) {
      pending += 2 * (b & 0x0f);
      p += 1;
    } else if (b < 0xa0) {
      pending += b & 0x0f;
      p += 1;
    } else if (b < 0xc0) p += 1 + (b & 0x1f);
    else if (FIXED_SIZES[b] !== undefined) p += FIXED_SIZES[b]!;
    else {
      // Head bytes followed by a length of 1, 2 or 4 bytes.
      const width = b === 0xc4 || b === 0xc7 || b === 0xd9 ? 1 : b === 0xc5 || b === 0xc8 || b === 0xda || b === 0xdc || b === 0xde ? 2 : 4;
      if (b === 0xc1) throw new WireError('malformed', 'msgpack: reserved byte 0xc1');
      if (p + 1 + width > n) return null;
      const length = width === 1 ? bytes[p + 1]! : width === 2 ? (bytes[p + 1]! << 8) | bytes[p + 2]! : readU32(bytes, p + 1);
      p += 1 + width;
      if (b === 0xdc || b === 0xdd) pending += length;
      else if (b === 0xde || b === 0xdf) pending += 2 * length;
      else if (b >= 0xc7 && b <= 0xc9)
        p += 1 + length; // ext: type byte + data
      else p += length;
    }
  }
  return p > n ? null : p;
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/** Decodes the one object at `offset`; go-msgpack likewise reads one object and ignores the rest. */
export function readObject(bytes: Uint8Array, offset: number, what: string): { value: unknown; end: number } {
  const end = msgpackEnd(bytes, offset);
  if (end === null) throw new WireError('truncated', `${what}: msgpack object runs past the end`);
  try {
    return { value: decoder.decode(bytes.subarray(offset, end)), end };
  } catch (error) {
    throw toWireError(error, 'malformed', `${what}: bad msgpack`);
  }
}

/** A decoded msgpack map standing for a Go struct. */
export type Struct = Readonly<Record<string, unknown>>;

export function asStruct(value: unknown, what: string): Struct {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) {
    throw new WireError('malformed', `${what}: expected a msgpack map`);
  }
  return value as Struct;
}

/** Reads one struct following a type byte. */
export function readStruct(bytes: Uint8Array, offset: number, what: string): { struct: Struct; end: number } {
  const { value, end } = readObject(bytes, offset, what);
  return { struct: asStruct(value, what), end };
}

// Field readers. Go leaves missing keys (and nil) at the zero value, so do we.

/** An unsigned integer field no larger than `max` (Go checks overflow against the field's width). */
export function uintField(s: Struct, key: string, max: number, what: string): number {
  const v = s[key];
  if (v === undefined || v === null) return 0;
  if (typeof v === 'bigint') {
    if (v >= 0n && v <= BigInt(max)) return Number(v);
  } else if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max) {
    return v;
  }
  throw new WireError('malformed', `${what}.${key}: expected an unsigned integer ≤ ${max}`);
}

/** A uint64 field exactly, as a bigint: for Serf's Lamport clocks, whose every value a peer may send. */
export function uint64BigIntField(s: Struct, key: string, what: string): bigint {
  const v = s[key];
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'bigint' && v >= 0n && v <= UINT64_MAX) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new WireError('malformed', `${what}.${key}: expected an unsigned integer ≤ 2^64 − 1`);
}

/** A uint64 field as a number, clamped to MAX_SAFE_INTEGER: for memberlist counters that never get there. */
export function uint64Field(s: Struct, key: string, what: string): number {
  const v = s[key];
  if (typeof v === 'bigint') {
    if (v < 0n || v > UINT64_MAX) throw new WireError('malformed', `${what}.${key}: out of uint64 range`);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  return uintField(s, key, Number.MAX_SAFE_INTEGER, what);
}

/** A Go `int` count that must be non-negative (a negative Nodes panics memberlist). */
export function intField(s: Struct, key: string, max: number, what: string): number {
  const v = s[key];
  if ((typeof v === 'number' || typeof v === 'bigint') && v > max) {
    throw new WireError('oversized', `${what}.${key}: ${v} is over the limit of ${max}`);
  }
  return uintField(s, key, max, what);
}

/** go-msgpack accepts c2/c3 and the integers 0/1 for a bool. */
export function boolField(s: Struct, key: string, what: string): boolean {
  const v = s[key];
  if (v === undefined || v === null || v === false || v === 0) return false;
  if (v === true || v === 1) return true;
  throw new WireError('malformed', `${what}.${key}: expected a bool`);
}

/** A []byte field: str or bin family; undefined when nil or absent. Copied off the input buffer. */
export function bytesField(s: Struct, key: string, what: string): Uint8Array | undefined {
  const v = s[key];
  if (v === undefined || v === null) return undefined;
  if (v instanceof Uint8Array) return v.slice();
  throw new WireError('malformed', `${what}.${key}: expected bytes`);
}

/** A Go string field (Node, From, Name, SourceNode, Error): raw bytes read as UTF-8. */
export function textField(s: Struct, key: string, what: string): string {
  const v = s[key];
  if (v === undefined || v === null) return '';
  if (v instanceof Uint8Array) return fromUtf8(v);
  throw new WireError('malformed', `${what}.${key}: expected a string`);
}
