import type { PushNodeState, PushPullMessage, Status, StreamMessage, UserMessage } from '../core/types.js';
import { compressMessage, decompressAt } from './compress.js';
import { WireError, toWireError, type WireErrorReason } from './errors.js';
import { encryptedLength, type Keyring } from './keyring.js';
import { WireType, checkIncarnation, decodeAck, decodePing, decodeProfile, encodeMessage, profileFields } from './messages.js';
import { MsgpackWriter, boolField, intField, readStruct, readU32, textField, typedStruct, uintField, type Struct } from './msgpack.js';

/*
 * TCP streams (docs/wire-format.md §4): [0a | u32 len | AES-GCM blob] ⊃ [09 | {Algo, Buf}] ⊃ [type | body], one
 * exchange per connection. There is no framing on plain streams and Go never half-closes, so the
 * decoder parses incrementally and knows a message is complete without waiting for EOF.
 */

/** A TCP user message: `08 | {UserMsgLen} | raw bytes`. The core's StreamMessage union lacks it. */
export type StreamUserMessage = UserMessage;
/** Every message a memberlist TCP stream carries: the core's stream messages plus user messages. */
export type WireStreamMessage = StreamMessage | StreamUserMessage;

/** memberlist's maxPushStateBytes; also our cap on user state, user messages and decompression. */
export const MAX_STREAM_BYTES = 20 * 1024 * 1024;
/** Default cap on the members one push/pull may list (`StreamDecoderOptions.maxNodes`). */
export const MAX_PUSH_NODES = 1_000_000;
/**
 * What one decoded push/pull record costs in memory (objects, strings, two small byte arrays),
 * measured at about 700 bytes for 66 bytes on the wire: records are charged at this rate, not at
 * their wire size, so that a budget holds against a stream of tiny records.
 */
export const RECORD_COST_BYTES = 512;
/** Slack over maxBytes for the msgpack head around a payload (a struct key, a length). */
const HEAD_BYTES = 64;
/** Slack over maxBytes for what a stream's buffer may hold: one more socket read. */
const QUEUE_SLACK_BYTES = 64 * 1024;
/**
 * How many times its compressed size a stream may expand to, past RATIO_FLOOR_BYTES. LZW bombs
 * reach 500–1,300×; a push/pull of 50,000 members with identical 480-byte tags, about 40×.
 */
export const MAX_COMPRESSION_RATIO = 128;
const RATIO_FLOOR_BYTES = 1024 * 1024;

const STATE_CODES: Record<Status, number> = { alive: 0, suspect: 1, failed: 2, left: 3 };
const STATUSES: readonly Status[] = ['alive', 'suspect', 'failed', 'left'];

/** How `encodeStream` wraps a message. */
export interface EncodeStreamOptions {
  /** Wrap in a compress message. Go always does on streams when compression is on. */
  readonly compress: boolean;
  /** Encrypt with the primary key, in an encrypt frame whose 5-byte header is the GCM additional data. */
  readonly keyring?: Keyring;
}

/** One stream message as memberlist writes it: the body, then compression, then encryption, as `options` ask. */
export function encodeStream(message: WireStreamMessage, options: EncodeStreamOptions): Uint8Array {
  let buf = encodeStreamBody(message);
  if (options.compress) buf = compressMessage(buf);
  if (!options.keyring) return buf;
  // The 5-byte header is the GCM additional data, so the length is known before encrypting.
  const header = new Uint8Array(5);
  header[0] = WireType.encrypt;
  new DataView(header.buffer).setUint32(1, encryptedLength(1, buf.length));
  const blob = options.keyring.encrypt(buf, header);
  const out = new Uint8Array(5 + blob.length);
  out.set(header);
  out.set(blob, 5);
  return out;
}

/** The stream message before compression and encryption (what streamSize measures). */
export function encodeStreamBody(message: WireStreamMessage): Uint8Array {
  switch (message.type) {
    case 'ping':
    case 'ack':
      return encodeMessage(message);
    case 'error':
      return typedStruct(WireType.err, { Error: message.error });
    case 'user':
      return new MsgpackWriter(16 + message.payload.length).byte(WireType.user).struct({ UserMsgLen: message.payload.length }).bytes(message.payload).finish();
    case 'pushPull':
      return encodePushPull(message);
  }
}

function encodePushPull(m: PushPullMessage): Uint8Array {
  const w = new MsgpackWriter(64 + 128 * m.states.length + m.userState.length);
  w.byte(WireType.pushPull).struct({ Join: m.join, Nodes: m.states.length, UserStateLen: m.userState.length });
  for (const state of m.states) {
    w.struct({ ...profileFields(state.profile), Incarnation: checkIncarnation(state.incarnation), State: STATE_CODES[state.status] });
  }
  return w.bytes(m.userState).finish();
}

/** What a `StreamDecoder` accepts, and how much memory it may hold. */
export interface StreamDecoderOptions {
  /** Streams must then be encrypted, unless verifyIncoming is false. */
  readonly keyring?: Keyring;
  /** memberlist's GossipVerifyIncoming (default true): refuse plaintext when a keyring is set. */
  readonly verifyIncoming?: boolean;
  /** Cap on a push/pull's Nodes count; default `MAX_PUSH_NODES`. */
  readonly maxNodes?: number;
  /** Cap on an encrypted frame, decompressed output, user state, a user message, a pending object; default `MAX_STREAM_BYTES`. */
  readonly maxBytes?: number;
  /**
   * How many bytes this decoder may hold in all (see `held`), when it shares a budget with other
   * streams; asked whenever it is about to hold more. Past it, next() throws 'stream-memory'.
   */
  readonly room?: () => number;
}

interface Limits {
  readonly maxNodes: number;
  readonly maxBytes: number;
  /** Throws 'stream-memory' unless `bytes` more fit beside what the decoder holds. */
  readonly charge: (bytes: number) => void;
}

/**
 * A byte buffer that chunks are appended to and parsed bytes consumed from. It grows in place, in
 * a resizable ArrayBuffer reserved up to `max` bytes, and shrinks to nothing once drained or
 * released: no copies of it are left for the garbage collector on the way up, and its memory goes
 * back to the system at once (a node under a flood of streams returns to its baseline by itself).
 */
class ByteQueue {
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

/** Head bytes 0xc0..0xdf that carry no length field, and their whole size (as in msgpack.ts). */
const FIXED_SIZES: Readonly<Record<number, number>> = {
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
 * msgpackEnd that resumes where it ran out of bytes: an object trickled in small chunks is scanned
 * once in all, not once per chunk (a peer sending an array of a million one-byte items in small
 * pieces would otherwise cost quadratic time). `minEnd` is the least the end can be (each item
 * still pending takes a byte), so a header that claims more than a stream may hold fails early.
 */
class ObjectScanner {
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

/**
 * Parses streams incrementally: push() bytes as they arrive, next() returns a message once one is
 * complete (null = need more bytes) and throws WireError on bad input, then on every later call.
 */
export class StreamDecoder {
  readonly #keyring: Keyring | undefined;
  readonly #verifyIncoming: boolean;
  readonly #limits: Limits;
  readonly #room: () => number;
  readonly #queue: ByteQueue;
  /** Set while an unwrapped (plain) message is parsed straight off the stream. */
  #plain: PlainParser | null = null;
  /** Set while a compress message is awaited whole. */
  #frame: ObjectScanner | null = null;
  /** Where a frame is decompressed to, emptied once its message is decoded. */
  #expanded: ArrayBuffer | null = null;
  #failed: WireError | null = null;

  constructor(options: StreamDecoderOptions = {}) {
    this.#keyring = options.keyring;
    this.#verifyIncoming = options.verifyIncoming ?? true;
    this.#room = options.room ?? (() => Infinity);
    // Room for a whole message and the start of a next one in the same chunk.
    this.#queue = new ByteQueue(undefined, (options.maxBytes ?? MAX_STREAM_BYTES) + QUEUE_SLACK_BYTES, () => {
      return this.#queue.capacity + this.#room() - this.held;
    });
    this.#limits = {
      maxNodes: options.maxNodes ?? MAX_PUSH_NODES,
      maxBytes: options.maxBytes ?? MAX_STREAM_BYTES,
      charge: (bytes) => {
        const room = this.#room();
        const wanted = this.held + bytes;
        if (wanted > room) throw new WireError('stream-memory', `stream would hold ${wanted} bytes, more than its room of ${room}`);
      },
    };
  }

  /**
   * Bytes this decoder holds between calls: its buffer, and the records of a plain push/pull
   * decoded so far (at RECORD_COST_BYTES each).
   */
  get held(): number {
    return this.#queue.capacity + (this.#plain?.records ?? 0) * RECORD_COST_BYTES;
  }

  /** The type of the plain message being received, once its first byte is in (null otherwise). */
  get receiving(): WireStreamMessage['type'] | null {
    return this.#plain?.type ?? null;
  }

  /** Adds bytes as they arrive; an error (too many bytes held) is kept and thrown by the next `next()`. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.#failed) return;
    try {
      this.#queue.push(chunk);
    } catch (error) {
      this.#failed = toWireError(error, 'oversized', 'stream');
      this.dispose();
    }
  }

  /** The next complete message, or null until more bytes arrive; throws WireError on bad input, then on every later call. */
  next(): WireStreamMessage | null {
    if (this.#failed) throw this.#failed;
    try {
      if (this.held > this.#room()) throw new WireError('stream-memory', `stream holds ${this.held} bytes, more than streams may`);
      return this.#step();
    } catch (error) {
      this.#failed = toWireError(error, 'malformed', 'stream');
      this.dispose();
      throw this.#failed;
    }
  }

  /** Lets go of every byte held, and of the message being received. */
  dispose(): void {
    this.#queue.release();
    this.#plain = null;
    this.#frame = null;
  }

  /** The peer closed the stream: a partly received message is an error. */
  end(): void {
    if (this.#failed) throw this.#failed;
    if (this.#queue.length > 0 || this.#plain) {
      this.#failed = new WireError('truncated', 'stream closed in the middle of a message');
      throw this.#failed;
    }
  }

  #step(): WireStreamMessage | null {
    const queue = this.#queue;
    if (!this.#plain) {
      if (queue.length === 0) return null;
      const bytes = queue.view();
      const first = bytes[0]!;
      if (first === WireType.encrypt) {
        if (!this.#keyring) throw new WireError('decrypt', 'stream is encrypted but no keyring is configured');
        if (bytes.length < 5) return null;
        const length = readU32(bytes, 1);
        if (length > this.#limits.maxBytes) throw new WireError('oversized', `encrypted stream of ${length} bytes`);
        if (bytes.length < 5 + length) return null;
        this.#limits.charge(length);
        let plain: Uint8Array;
        try {
          plain = this.#keyring.decrypt(bytes.subarray(5, 5 + length), bytes.subarray(0, 5));
        } catch (error) {
          throw new WireError('decrypt', `decrypt stream: ${(error as Error).message}`, { cause: error });
        }
        queue.consume(5 + length);
        return this.#whole(plain, true);
      }
      if (this.#keyring && this.#verifyIncoming) throw new WireError('not-encrypted', 'encryption is configured but the stream is not encrypted');
      if (first === WireType.compress) {
        this.#frame ??= new ObjectScanner(1);
        const end = this.#frame.end(bytes);
        if (end === null) {
          if (this.#frame.minEnd > this.#limits.maxBytes + HEAD_BYTES) {
            throw new WireError('oversized', `compressed stream over ${this.#limits.maxBytes} bytes`);
          }
          return null;
        }
        this.#frame = null;
        const payload = this.#decompress(bytes.subarray(0, end));
        queue.consume(end);
        return this.#whole(payload, false);
      }
      this.#plain = new PlainParser(this.#limits);
    }
    const message = this.#plain.step(queue);
    if (message) this.#plain = null;
    return message;
  }

  /**
   * Decompresses the compress message `frame` (09 and its object) into this decoder's scratch
   * buffer: at most maxBytes, what this stream may still hold, and MAX_COMPRESSION_RATIO times
   * the frame (past a floor). Honest streams stay far below that ratio; an LZW bomb does not.
   */
  #decompress(frame: Uint8Array): Uint8Array {
    const room = Math.max(0, this.#room() - this.held);
    const ratioLimit = Math.max(RATIO_FLOOR_BYTES, MAX_COMPRESSION_RATIO * frame.length);
    const limit = Math.min(this.#limits.maxBytes, room, ratioLimit);
    try {
      return decompressAt(frame, 1, limit, (length) => this.#scratch(length)).payload;
    } catch (error) {
      if (!(error instanceof WireError) || error.reason !== 'oversized' || limit === this.#limits.maxBytes) throw error;
      const [reason, text]: [WireErrorReason, string] =
        limit === ratioLimit ? ['compression-ratio', `over ${MAX_COMPRESSION_RATIO} times`] : ['stream-memory', 'past its room'];
      throw new WireError(reason, `a ${frame.length}-byte compressed stream expands ${text}`, { cause: error });
    }
  }

  #scratch(length: number): Uint8Array {
    this.#expanded ??= new ArrayBuffer(0, { maxByteLength: this.#limits.maxBytes });
    this.#expanded.resize(length);
    return new Uint8Array(this.#expanded, 0, length);
  }

  /** A frame that arrived whole (decrypted or decompressed): the compress wrapper nests once. */
  #whole(plain: Uint8Array, mayBeCompressed: boolean): WireStreamMessage {
    try {
      let inner = plain;
      if (inner.length > 0 && inner[0] === WireType.compress && mayBeCompressed) inner = this.#decompress(inner);
      if (inner.length > 0 && inner[0] === WireType.compress) throw new WireError('nested-compress', 'a compress message inside another');
      // The frame is held while its records are decoded: they are charged on top of it.
      const frame = inner.length;
      const parser: PlainParser = new PlainParser({
        ...this.#limits,
        charge: (bytes) => this.#limits.charge(frame + parser.records * RECORD_COST_BYTES + bytes),
      });
      const message = parser.step(new ByteQueue(inner));
      if (!message) throw new WireError('truncated', 'stream message runs past the end of its frame');
      return message;
    } finally {
      // Everything the message holds was copied out of the scratch buffer: its memory goes back now.
      this.#expanded?.resize(0);
    }
  }
}

interface PushPullHeader {
  readonly join: boolean;
  readonly nodes: number;
  readonly userStateLength: number;
}

/** `type | body` parsed off a queue, keeping its place between calls. */
class PlainParser {
  readonly #limits: Limits;
  #type = -1;
  #header: PushPullHeader | null = null;
  #states: PushNodeState[] = [];
  #records = 0;
  #userLength = -1;
  #scanner: ObjectScanner | null = null;

  constructor(limits: Limits) {
    this.#limits = limits;
  }

  /** Push/pull records decoded so far. */
  get records(): number {
    return this.#records;
  }

  get type(): WireStreamMessage['type'] | null {
    return STREAM_TYPES[this.#type] ?? null;
  }

  step(queue: ByteQueue): WireStreamMessage | null {
    if (this.#type < 0) {
      if (queue.length === 0) return null;
      const type = queue.take(1)[0]!;
      if (STREAM_TYPES[type] === undefined) throw new WireError('unknown-type', `unknown stream message type ${type}`);
      this.#type = type;
    }
    switch (this.#type) {
      case WireType.ping:
        return this.#struct(queue, 'ping', decodePing);
      case WireType.ack:
        return this.#struct(queue, 'ack', decodeAck);
      case WireType.err:
        return this.#struct(queue, 'err', (s) => ({ type: 'error', error: textField(s, 'Error', 'err') }));
      case WireType.user: {
        if (this.#userLength < 0) {
          const length = this.#struct(queue, 'user', (s) => intField(s, 'UserMsgLen', this.#limits.maxBytes, 'user'));
          if (length === null) return null;
          this.#limits.charge(length);
          this.#userLength = length;
        }
        if (queue.length < this.#userLength) return null;
        return { type: 'user', payload: queue.take(this.#userLength) };
      }
      default:
        return this.#pushPull(queue);
    }
  }

  #pushPull(queue: ByteQueue): PushPullMessage | null {
    this.#header ??= this.#struct(queue, 'pushPull', (s) => ({
      join: boolField(s, 'Join', 'pushPull'),
      nodes: intField(s, 'Nodes', this.#limits.maxNodes, 'pushPull'),
      userStateLength: intField(s, 'UserStateLen', this.#limits.maxBytes, 'pushPull'),
    }));
    const header = this.#header;
    if (!header) return null;
    while (this.#records < header.nodes) {
      this.#limits.charge(RECORD_COST_BYTES);
      const decoded = this.#struct(queue, 'pushNodeState', (s) => ({ state: decodePushNodeState(s) }));
      if (!decoded) return null;
      this.#records++;
      if (decoded.state) this.#states.push(decoded.state);
    }
    if (queue.length < header.userStateLength) return null;
    return { type: 'pushPull', join: header.join, states: this.#states, userState: queue.take(header.userStateLength) };
  }

  /**
   * The next struct, decoded by `decode` while its bytes are still in the queue: a struct's raw
   * strings are views of the queue's buffer, which shrinks once they are consumed.
   */
  #struct<T>(queue: ByteQueue, what: string, decode: (struct: Struct) => T): T | null {
    const bytes = queue.view();
    this.#scanner ??= new ObjectScanner(0);
    const end = this.#scanner.end(bytes);
    if (end === null) {
      if (this.#scanner.minEnd > this.#limits.maxBytes + HEAD_BYTES) {
        throw new WireError('oversized', `${what}: object over ${this.#limits.maxBytes} bytes`);
      }
      return null;
    }
    this.#scanner = null;
    const value = decode(readStruct(bytes, 0, what).struct);
    queue.consume(end);
    return value;
  }
}

/** The message types a stream may carry, by type byte. */
const STREAM_TYPES: Readonly<Record<number, WireStreamMessage['type']>> = {
  [WireType.pushPull]: 'pushPull',
  [WireType.ping]: 'ping',
  [WireType.ack]: 'ack',
  [WireType.err]: 'error',
  [WireType.user]: 'user',
};

/** One push/pull record; null for a State outside 0..3, which memberlist's merge ignores too. */
function decodePushNodeState(s: Struct): PushNodeState | null {
  const what = 'pushNodeState';
  const state = uintField(s, 'State', Number.MAX_SAFE_INTEGER, what);
  const status = STATUSES[state];
  if (!status) return null;
  return { profile: decodeProfile(s, 'Name', what), incarnation: uintField(s, 'Incarnation', 0xffffffff, what), status };
}
