import { WireError } from './errors.js';

/*
 * Go's compress/lzw with LSB bit order and 8-bit literals (docs/wire-format.md §5), byte for byte: codes 0..255
 * are literals, 256 CLEAR, 257 EOF; widths grow from 9 to 12 bits; the encoder starts with CLEAR
 * and resets its table (sending CLEAR) when `hi` reaches 4095. Written by hand: it is small, and
 * the output must match Go's exactly (no JS package reproduces Go's reset and width timing).
 */

const CLEAR = 256;
const EOF = 257;
const MAX_CODE = 4095;
const MAX_WIDTH = 12;

/** A growable output buffer (the encoder's). */
class Sink {
  buf: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/*
 * The encoder's dictionary, (code << 8 | byte) → code, as a flat array stamped with a generation
 * instead of a Map: clearing is a counter increment, and lookups cost an index. Every packet the
 * simulator counts goes through here, so it matters. Compression runs to completion synchronously,
 * so one shared table serves every call.
 */
const KEYS = (MAX_CODE + 1) << 8;
const tableCodes = new Uint16Array(KEYS);
const tableStamps = new Uint32Array(KEYS);
let generation = 0;

function newTable() {
  const table = {
    get(key: number): number | undefined {
      return tableStamps[key] === generation ? tableCodes[key] : undefined;
    },
    set(key: number, code: number): void {
      tableStamps[key] = generation;
      tableCodes[key] = code;
    },
    clear(): void {
      generation = (generation + 1) >>> 0;
      if (generation === 0) {
        tableStamps.fill(0);
        generation = 1;
      }
    },
  };
  table.clear();
  return table;
}

/** Compresses as Go's compress/lzw writer (LSB, 8-bit literals) does, byte for byte, ending with EOF. */
export function lzwCompress(input: Uint8Array): Uint8Array {
  const out = new Sink(input.length / 2 + 16);
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 1 << width;
  const table = newTable(); // (code << 8 | byte) → code

  const write = (code: number): void => {
    bits |= code << nBits;
    nBits += width;
    out.reserve(2);
    while (nBits >= 8) {
      out.buf[out.length++] = bits & 0xff;
      bits >>>= 8;
      nBits -= 8;
    }
  };
  /** Go's incHi: true when the table was full and has been reset (CLEAR sent). */
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi !== MAX_CODE) return false;
    write(CLEAR);
    width = 9;
    hi = EOF;
    overflow = 1 << width;
    table.clear();
    return true;
  };

  write(CLEAR);
  if (input.length > 0) {
    let code = input[0]!;
    for (let i = 1; i < input.length; i++) {
      const literal = input[i]!;
      const key = (code << 8) | literal;
      const found = table.get(key);
      if (found !== undefined) {
        code = found;
        continue;
      }
      write(code);
      code = literal;
      if (!incHi()) table.set(key, hi);
    }
    write(code);
    incHi();
  }
  write(EOF);
  if (nBits > 0) {
    out.reserve(1);
    out.buf[out.length++] = bits & 0xff;
  }
  return out.finish();
}

/**
 * Decodes until the EOF code (required, as Go requires it); bytes after it are ignored. Mirrors
 * Go's reader, whose prefix/suffix tables survive a CLEAR, so even odd streams decode the same.
 * A first pass measures the output without writing it, so a bomb (12 bits expanding to up to
 * 4 KB) is refused before anything is allocated, and an accepted output is allocated once, by
 * `allocate` (which must give exactly `length` bytes).
 */
export function lzwDecompress(
  input: Uint8Array,
  maxOutput = Infinity,
  allocate: (length: number) => Uint8Array = (length) => new Uint8Array(length),
): Uint8Array {
  const out = allocate(decode(input, maxOutput, null));
  decode(input, out.length, out);
  return out;
}

/** The decoder's state machine: returns the output length, writing the output when `out` is given. */
function decode(input: Uint8Array, maxOutput: number, out: Uint8Array | null): number {
  const prefix = new Uint16Array(1 << MAX_WIDTH);
  const suffix = new Uint8Array(1 << MAX_WIDTH);
  // Each code's expansion length and first byte, so that measuring never walks a chain. Entries
  // not yet defined read as Go's zeroed tables would: prefix 0, suffix 0, so [0, 0].
  const lengths = new Uint16Array(1 << MAX_WIDTH).fill(2);
  const firsts = new Uint8Array(1 << MAX_WIDTH);
  for (let literal = 0; literal < CLEAR; literal++) {
    lengths[literal] = 1;
    firsts[literal] = literal;
  }
  let length = 0;
  let bits = 0;
  let nBits = 0;
  let pos = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 1 << width;
  let last = -1;

  for (;;) {
    while (nBits < width) {
      if (pos >= input.length) throw new WireError('decompress', 'lzw: stream ends without an EOF code');
      bits |= input[pos++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;

    if (code === CLEAR) {
      width = 9;
      hi = EOF;
      overflow = 1 << width;
      last = -1;
      continue;
    }
    if (code === EOF) return length;
    if (code > hi) throw new WireError('decompress', `lzw: invalid code ${code} (next is ${hi})`);
    // The code being defined right now (code === hi) is last's expansion plus its own first byte.
    const pending = code === hi && last >= 0;
    const size = pending ? lengths[last]! + 1 : lengths[code]!;
    const first = pending ? firsts[last]! : firsts[code]!;
    if (length + size > maxOutput) throw new WireError('oversized', `lzw: output exceeds the limit of ${maxOutput} bytes`);
    if (out) {
      // Walk the prefix chain backwards; chains only ever point to lower codes.
      let i = length + size - 1;
      let c = code;
      if (pending) {
        out[i--] = first;
        c = last;
      }
      while (c >= CLEAR) {
        out[i--] = suffix[c]!;
        c = prefix[c]!;
      }
      out[i] = c;
    }
    length += size;
    if (last >= 0) {
      suffix[hi] = first;
      prefix[hi] = last;
      lengths[hi] = lengths[last]! + 1;
      firsts[hi] = firsts[last]!;
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        // The table is full: no new entries until a CLEAR.
        last = -1;
        hi--;
      } else {
        width++;
        overflow <<= 1;
      }
    }
  }
}
