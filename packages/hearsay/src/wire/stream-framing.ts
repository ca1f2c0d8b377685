import { WireError } from './errors.js';
import { FIXED_SIZES, readU32 } from './msgpack.js';

/*
 * The byte-level half of a TCP stream: a growable queue of received bytes, and a resumable scan
 * for where a msgpack object ends (plain streams carry no lengths, so this is their framing).
 */

/**
 * A byte buffer that chunks are appended to and parsed bytes consumed from. It grows in place, in
 * a resizable ArrayBuffer reserved up to `max` bytes, and shrinks to nothing once drained or
 * released: no copies of it are left for the garbage collector on the way up, and its memory goes
 * back to the system at once (a node under a flood of streams returns to its baseline by itself).
 */
export class ByteQueue {
  readonly #max: number;
  readonly #ceiling: () => number;
  #memory: ArrayBuffer | null = null;
  #buf: Uint8Array;
  #start = 0;
  #end: number;

  /**
   * A queue over `initial` (parsed, never pushed to), or an empty one that may grow to `max`,
   * with room to spare up to `ceiling` (what its stream may hold).
   */
  constructor(initial: Uint8Array = new Uint8Array(0), max = initial.length, ceiling = () => max) {
    this.#buf = initial;
    this.#end = initial.length;
    this.#max = max;
    this.#ceiling = ceiling;
  }

  get length(): number {
    return this.#end - this.#start;
  }

  /** The memory the queue holds. */
  get capacity(): number {
    return this.#buf.byteLength;
  }

  push(chunk: Uint8Array): void {
    const needed = this.length + chunk.length;
    if (needed > this.#max) throw new WireError('oversized', `stream data over ${this.#max} bytes`);
    if (this.#end + chunk.length > this.#buf.length) {
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end = this.length;
        this.#start = 0;
      }
      // Up to a quarter more than needed: a large message grows in a few dozen steps, not one per chunk.
      const spare = Math.min(this.#max, this.#ceiling(), this.#buf.length + (this.#buf.length >> 2));
      if (needed > this.#buf.length) this.#resize(Math.max(needed, spare));
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  view(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) this.release();
  }

  take(n: number): Uint8Array {
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.consume(n);
    return out;
  }

  /** Gives the memory back (the unread bytes go too). */
  release(): void {
    this.#start = this.#end = 0;
    if (this.#memory) this.#memory.resize(0);
  }

  #resize(length: number): void {
    if (!this.#memory) {
      this.#memory = new ArrayBuffer(0, { maxByteLength: this.#max });
      this.#buf = new Uint8Array(this.#memory); // tracks the buffer's length as it resizes
    }
    this.#memory.resize(length);
  }
}

/** Head bytes followed by a length of 1 or 2 bytes (the others in 0xc4..0xdf have 4). */
const LENGTH_WIDTHS: Readonly<Record<number, number>> = { 0xc4: 1, 0xc7: 1, 0xd9: 1, 0xc5: 2, 0xc8: 2, 0xda: 2, 0xdc: 2, 0xde: 2 };

/**
 * msgpackEnd that resumes where it ran out of bytes: an object trickled in small chunks is scanned
 * once in all, not once per chunk (a peer sending an array of a million one-byte items in small
 * pieces would otherwise cost quadratic time). `minEnd` is the least the end can be (each item
 * still pending takes a byte), so a header that claims more than a stream may hold fails early.
 */
export class ObjectScanner {
  #p: number;
  #pending = 1;

  constructor(start: number) {
    this.#p = start;
  }

  get minEnd(): number {
    return this.#p + this.#pending;
  }

  end(bytes: Uint8Array): number | null {
    const n = bytes.length;
    while (this.#pending > 0) {
      const p = this.#p;
      if (p >= n) return null;
      const b = bytes[p]!;
      let next: number;
      let items = 0;
      if (b < 0x80 || b >= 0xe0) next = p + 1;
      else if (b < 0x90) {
        items = 2 * (b & 0x0f);
        next = p + 1;
      } else if (b < 0xa0) {
        items = b & 0x0f;
        next = p + 1;
      } else if (b < 0xc0) next = p + 1 + (b & 0x1f);
      else if (FIXED_SIZES[b] !== undefined) next = p + FIXED_SIZES[b]!;
      else {
        if (b === 0xc1) throw new WireError('malformed', 'msgpack: reserved byte 0xc1');
        // Head bytes followed by a length of 1, 2 or 4 bytes.
        const width = LENGTH_WIDTHS[b] ?? 4;
        if (p + 1 + width > n) return null; // the same head is read again once its length is in
        const length = width === 1 ? bytes[p + 1]! : width === 2 ? (bytes[p + 1]! << 8) | bytes[p + 2]! : readU32(bytes, p + 1);
        next = p + 1 + width;
        if (b === 0xdc || b === 0xdd) items = length;
        else if (b === 0xde || b === 0xdf) items = 2 * length;
        else if (b >= 0xc7 && b <= 0xc9)
          next += 1 + length; // ext: type byte + data
        else next += length;
      }
      this.#p = next;
      this.#pending += items - 1;
    }
    return this.#p > n ? null : this.#p;
  }
}
