import { WireError } from './errors.js';
import { WireType } from './messages.js';

/**
 * memberlist 0.2.2 checks part lengths with the count multiplied as a uint8, so a receiver splits a
 * compound of 128+ parts wrongly (docs/wire-format.md §3.2): never send more than this many.
 */
export const MAX_COMPOUND_PARTS = 127;

/** `07 | N | len_1..len_N (u16 BE) | parts`. Refuses what would panic or confuse a Go peer. */
export function encodeCompound(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0 || parts.length > MAX_COMPOUND_PARTS) {
    throw new RangeError(`a compound holds 1..${MAX_COMPOUND_PARTS} parts, got ${parts.length}`);
  }
  let size = 2 + 2 * parts.length;
  for (const part of parts) {
    // A zero-length part panics the Serf process (docs/wire-format.md §11).
    if (part.length === 0 || part.length > 0xffff) throw new RangeError(`a compound part holds 1..65535 bytes, got ${part.length}`);
    size += part.length;
  }
  const out = new Uint8Array(size);
  out[0] = WireType.compound;
  out[1] = parts.length;
  let offset = 2 + 2 * parts.length;
  parts.forEach((part, i) => {
    out[2 + 2 * i] = part.length >>> 8;
    out[3 + 2 * i] = part.length & 0xff;
    out.set(part, offset);
    offset += part.length;
  });
  return out;
}

/** A compound packet split into its messages. */
export interface CompoundParts {
  /** The encoded messages, in order, each with its type byte. */
  readonly parts: Uint8Array[];
  /** How many parts ran past the end and were dropped with every later part. */
  readonly truncated: number;
}

/**
 * Splits a compound (`bytes[0]` is the 07 type byte). Like memberlist, a missing header is an
 * error, while parts that run past the end are dropped and the earlier ones kept. Unlike 0.2.2,
 * the count is not multiplied as a uint8, so 128+ parts split correctly. Trailing bytes are ignored.
 */
export function splitCompound(bytes: Uint8Array): CompoundParts {
  if (bytes.length < 2) throw new WireError('truncated', 'compound: missing part count');
  const count = bytes[1]!;
  let offset = 2 + 2 * count;
  if (bytes.length < offset) throw new WireError('truncated', 'compound: truncated length list');
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const length = (bytes[2 + 2 * i]! << 8) | bytes[3 + 2 * i]!;
    if (offset + length > bytes.length) return { parts, truncated: count - i };
    parts.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return { parts, truncated: 0 };
}
