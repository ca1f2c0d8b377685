import { decompressAt } from './compress.js';
import { WireError, toWireError, type WireErrorReason } from './errors.js';
import type { Keyring } from './keyring.js';
import { WireType } from './messages.js';
import { readU32 } from './msgpack.js';
import { ByteQueue, ObjectScanner } from './stream-framing.js';
import { HEAD_BYTES, type Limits, PlainParser, RECORD_COST_BYTES, type WireStreamMessage } from './stream-messages.js';

/*
 * The incremental TCP stream decoder (docs/wire-format.md §4): it unwraps the encrypt and compress
 * frames and hands the plain `type | body` to PlainParser, within the caps and memory budget below.
 */

/** memberlist's maxPushStateBytes; also our cap on user state, user messages and decompression. */
export const MAX_STREAM_BYTES = 20 * 1024 * 1024;
/** Default cap on the members one push/pull may list (`StreamDecoderOptions.maxNodes`). */
export const MAX_PUSH_NODES = 1_000_000;
/** Slack over maxBytes for what a stream's buffer may hold: one more socket read. */
const QUEUE_SLACK_BYTES = 64 * 1024;
/**
 * How many times its compressed size a stream may expand to, past RATIO_FLOOR_BYTES. LZW bombs
 * reach 500–1,300×; a push/pull of 50,000 members with identical 480-byte tags, about 40×.
 */
export const MAX_COMPRESSION_RATIO = 128;
const RATIO_FLOOR_BYTES = 1024 * 1024;

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
