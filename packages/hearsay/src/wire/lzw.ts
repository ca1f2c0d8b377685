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

/*
 * Every gossip packet memberlist sends is compressed, so at a thousand nodes in one process this
 * code runs tens of thousands of times a second: both directions work in module-level tables and
 * a scratch buffer, and allocate only their result. Each call runs to completion synchronously,
 * so one set of tables serves every call.
 */

/*
 * The encoder's dictionary, key (code << 8 | byte) → code, as Go's: an open-addressing hash table
 * of 16,384 entries (key << 12 | code), 64 KB that stay in cache where a flat array indexed by
 * key (a million entries) missed it at almost every input byte. Entries are stamped with a
 * generation instead of cleared: a reset is a counter increment.
 */
const TABLE_SIZE = 4 << 12;
const TABLE_MASK = TABLE_SIZE - 1;
const tableEntries = new Uint32Array(TABLE_SIZE);
const tableStamps = new Uint32Array(TABLE_SIZE);
let generation = 0;

function clearTable(): void {
  generation = (generation + 1) >>> 0;
  if (generation === 0) {
    tableStamps.fill(0);
    generation = 1;
  }
}

/** Output of both directions before it is copied into a buffer of its exact size. */
let scratch: Uint8Array = new Uint8Array(64 * 1024);

/** The scratch buffer, at least `size` bytes long, keeping its first `keep` bytes. */
function scratchOf(size: number, keep = 0): Uint8Array {
  if (scratch.length < size) {
    const grown = new Uint8Array(Math.max(size, scratch.length * 2));
    grown.set(scratch.subarray(0, keep));
    scratch = grown;
  }
  return scratch;
}

/** Compresses as Go's compress/lzw writer (LSB, 8-bit literals) does, byte for byte, ending with EOF. */
export function lzwCompress(input: Uint8Array): Uint8Array {
  // At most one code per input byte, plus the first CLEAR, a CLEAR per table reset (one per
  // 3,838 codes) and EOF, each at most 12 bits.
  const maxCodes = input.length + Math.ceil(input.length / (MAX_CODE - EOF)) + 3;
  const out = scratchOf(Math.ceil((maxCodes * MAX_WIDTH) / 8) + 1);
  let length = 0;
  let bits = CLEAR; // the first code, already in the bit buffer
  let nBits = 9;
  let width = 9;
  let hi = EOF;
  let overflow = 1 << width;
  clearTable();

  if (input.length > 0) {
    let code = input[0]!;
    const n = input.length;
    outer: for (let i = 1; i <= n; i++) {
      let key = 0;
      let hash = 0;
      if (i < n) {
        key = (code << 8) | input[i]!;
        hash = ((key >>> 12) ^ key) & TABLE_MASK;
        while (tableStamps[hash] === generation) {
          const entry = tableEntries[hash]!;
          if (entry >>> 12 === key) {
            code = entry & MAX_CODE;
            continue outer;
          }
          hash = (hash + 1) & TABLE_MASK;
        }
      }
      // Write code (the longest match so far).
      bits |= code << nBits;
      nBits += width;
      while (nBits >= 8) {
        out[length++] = bits & 0xff;
        bits >>>= 8;
        nBits -= 8;
      }
      // Go's incHi: the next code, a wider code from here on, a reset when the table is full.
      hi++;
      if (hi === overflow) {
        width++;
        overflow <<= 1;
      }
      if (hi === MAX_CODE) {
        bits |= CLEAR << nBits;
        nBits += width;
        while (nBits >= 8) {
          out[length++] = bits & 0xff;
          bits >>>= 8;
          nBits -= 8;
        }
        width = 9;
        hi = EOF;
        overflow = 1 << width;
        clearTable();
      } else if (i < n) {
        // hash is the free slot the lookup ended on.
        tableStamps[hash] = generation;
        tableEntries[hash] = ((key << 12) | hi) >>> 0;
      }
      if (i < n) code = input[i]!;
    }
  }
  bits |= EOF << nBits;
  nBits += width;
  while (nBits > 0) {
    out[length++] = bits & 0xff;
    bits >>>= 8;
    nBits -= 8;
  }
  return out.slice(0, length);
}

/**
 * Decodes until the EOF code (required, as Go requires it); bytes after it are ignored. Mirrors
 * Go's reader, whose prefix/suffix tables survive a CLEAR, so even odd streams decode the same.
 * Nothing beyond `maxOutput` is decoded, so a bomb (12 bits expanding to up to 4 KB) is refused
 * before its output grows; an accepted output is allocated once, by `allocate` (which must give
 * exactly `length` bytes).
 */
export function lzwDecompress(
  input: Uint8Array,
  maxOutput = Infinity,
  allocate: (length: number) => Uint8Array = (length) => new Uint8Array(length),
): Uint8Array {
  const length = decode(input, maxOutput);
  const out = allocate(length);
  out.set(scratch.subarray(0, length));
  return out;
}

// The decoder's tables: each code's prefix code and last byte, and, so that no chain is walked
// to measure, its expansion's length and first byte.
const prefix = new Uint16Array(1 << MAX_WIDTH);
const suffix = new Uint8Array(1 << MAX_WIDTH);
const lengths = new Uint16Array(1 << MAX_WIDTH);
const firsts = new Uint8Array(1 << MAX_WIDTH);

/** The decoder's state machine: writes the output into `scratch` and returns its length. */
function decode(input: Uint8Array, maxOutput: number): number {
  // Entries not yet defined read as Go's zeroed tables would: prefix 0, suffix 0, so [0, 0].
  prefix.fill(0);
  suffix.fill(0);
  lengths.fill(2);
  firsts.fill(0);
  for (let literal = 0; literal < CLEAR; literal++) {
    lengths[literal] = 1;
    firsts[literal] = literal;
  }
  let out: Uint8Array = scratch;
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
    if (length + size > out.length) out = scratchOf(Math.min(maxOutput, Math.max(length + size, out.length * 2)), length);
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
