import type { PushNodeState, PushPullMessage, Status, StreamMessage, UserMessage } from '../core/types.js';
import { compressMessage, decompressAt } from './compress.js';
import { WireError, toWireError } from './errors.js';
import { encryptedLength, type Keyring } from './keyring.js';
import { WireType, checkIncarnation, decodeAck, decodePing, decodeProfile, encodeMessage, profileFields } from './messages.js';
import { MsgpackWriter, boolField, intField, msgpackEnd, readStruct, readU32, textField, typedStruct, uintField, type Struct } from './msgpack.js';

/*
 * TCP streams (spec §4): [0a | u32 len | AES-GCM blob] ⊃ [09 | {Algo, Buf}] ⊃ [type | body], one
 * exchange per connection. There is no framing on plain streams and Go never half-closes, so the
 * decoder parses incrementally and knows a message is complete without waiting for EOF.
 */

/** A TCP user message: `08 | {UserMsgLen} | raw bytes`. The core's StreamMessage union lacks it. */
export type StreamUserMessage = UserMessage;
export type WireStreamMessage = StreamMessage | StreamUserMessage;

/** memberlist's maxPushStateBytes; also our cap on user state, user messages and decompression. */
export const MAX_STREAM_BYTES = 20 * 1024 * 1024;
export const MAX_PUSH_NODES = 1_000_000;

const STATE_CODES: Record<Status, number> = { alive: 0, suspect: 1, failed: 2, left: 3 };
const STATUSES: readonly Status[] = ['alive', 'suspect', 'failed', 'left'];

export interface EncodeStreamOptions {
  /** Wrap in a compress message. Go always does on streams when compression is on. */
  readonly compress: boolean;
  readonly keyring?: Keyring;
}

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
      return new MsgpackWriter(16 + message.payload.length)
        .byte(WireType.user)
        .struct({ UserMsgLen: message.payload.length })
        .bytes(message.payload)
        .finish();
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

export interface StreamDecoderOptions {
  /** Streams must then be encrypted, unless verifyIncoming is false. */
  readonly keyring?: Keyring;
  /** memberlist's GossipVerifyIncoming (default true): refuse plaintext when a keyring is set. */
  readonly verifyIncoming?: boolean;
  /** Cap on a push/pull's Nodes count. */
  readonly maxNodes?: number;
  /** Cap on an encrypted frame, decompressed output, user state, a user message, a pending object. */
  readonly maxBytes?: number;
}

interface Limits {
  readonly maxNodes: number;
  readonly maxBytes: number;
}

/** A byte buffer that chunks are appended to and parsed bytes consumed from. */
class ByteQueue {
  #buf: Uint8Array;
  #start = 0;
  #end: number;

  constructor(initial: Uint8Array = new Uint8Array(0)) {
    this.#buf = initial;
    this.#end = initial.length;
  }

  get length(): number {
    return this.#end - this.#start;
  }

  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const needed = this.length + chunk.length;
      if (needed <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const next = new Uint8Array(Math.max(needed, 2 * this.#buf.length, 1024));
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#end = this.length;
      this.#start = 0;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  view(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  consume(n: number): void {
    this.#start += n;
  }

  take(n: number): Uint8Array {
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
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
  readonly #queue = new ByteQueue();
  /** Set while an unwrapped (plain) message is parsed straight off the stream. */
  #plain: PlainParser | null = null;
  #failed: WireError | null = null;

  constructor(options: StreamDecoderOptions = {}) {
    this.#keyring = options.keyring;
    this.#verifyIncoming = options.verifyIncoming ?? true;
    this.#limits = { maxNodes: options.maxNodes ?? MAX_PUSH_NODES, maxBytes: options.maxBytes ?? MAX_STREAM_BYTES };
  }

  push(chunk: Uint8Array): void {
    if (chunk.length > 0) this.#queue.push(chunk);
  }

  next(): WireStreamMessage | null {
    if (this.#failed) throw this.#failed;
    try {
      return this.#step();
    } catch (error) {
      this.#failed = toWireError(error, 'malformed', 'stream');
      throw this.#failed;
    }
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
        const end = msgpackEnd(bytes, 1);
        if (end === null) return this.#wait(queue);
        const { payload } = decompressAt(bytes, 1, this.#limits.maxBytes);
        queue.consume(end);
        return this.#whole(payload, false);
      }
      this.#plain = new PlainParser(this.#limits);
    }
    const message = this.#plain.step(queue);
    if (message) this.#plain = null;
    return message;
  }

  #wait(queue: ByteQueue): null {
    if (queue.length > this.#limits.maxBytes + 64) throw new WireError('oversized', `stream object over ${this.#limits.maxBytes} bytes`);
    return null;
  }

  /** A frame that arrived whole (decrypted or decompressed): the compress wrapper nests once. */
  #whole(plain: Uint8Array, mayBeCompressed: boolean): WireStreamMessage {
    let inner = plain;
    if (inner.length > 0 && inner[0] === WireType.compress && mayBeCompressed) {
      inner = decompressAt(inner, 1, this.#limits.maxBytes).payload;
    }
    const message = new PlainParser(this.#limits).step(new ByteQueue(inner));
    if (!message) throw new WireError('truncated', 'stream message runs past the end of its frame');
    return message;
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

  constructor(limits: Limits) {
    this.#limits = limits;
  }

  step(queue: ByteQueue): WireStreamMessage | null {
    if (this.#type < 0) {
      if (queue.length === 0) return null;
      const type = queue.take(1)[0]!;
      if (type !== WireType.pushPull && type !== WireType.ping && type !== WireType.ack && type !== WireType.err && type !== WireType.user) {
        throw new WireError('unknown-type', `unknown stream message type ${type}`);
      }
      this.#type = type;
    }
    switch (this.#type) {
      case WireType.ping: {
        const s = this.#struct(queue, 'ping');
        return s && decodePing(s);
      }
      case WireType.ack: {
        const s = this.#struct(queue, 'ack');
        return s && decodeAck(s);
      }
      case WireType.err: {
        const s = this.#struct(queue, 'err');
        return s && { type: 'error', error: textField(s, 'Error', 'err') };
      }
      case WireType.user: {
        if (this.#userLength < 0) {
          const s = this.#struct(queue, 'user');
          if (!s) return null;
          this.#userLength = intField(s, 'UserMsgLen', this.#limits.maxBytes, 'user');
        }
        if (queue.length < this.#userLength) return null;
        return { type: 'user', payload: queue.take(this.#userLength) };
      }
      default:
        return this.#pushPull(queue);
    }
  }

  #pushPull(queue: ByteQueue): PushPullMessage | null {
    if (!this.#header) {
      const s = this.#struct(queue, 'pushPull');
      if (!s) return null;
      this.#header = {
        join: boolField(s, 'Join', 'pushPull'),
        nodes: intField(s, 'Nodes', this.#limits.maxNodes, 'pushPull'),
        userStateLength: intField(s, 'UserStateLen', this.#limits.maxBytes, 'pushPull'),
      };
    }
    const header = this.#header;
    while (this.#records < header.nodes) {
      const s = this.#struct(queue, 'pushNodeState');
      if (!s) return null;
      this.#records++;
      const state = decodePushNodeState(s);
      if (state) this.#states.push(state);
    }
    if (queue.length < header.userStateLength) return null;
    return { type: 'pushPull', join: header.join, states: this.#states, userState: queue.take(header.userStateLength) };
  }

  #struct(queue: ByteQueue, what: string): Struct | null {
    const bytes = queue.view();
    const end = msgpackEnd(bytes, 0);
    if (end === null) {
      if (bytes.length > this.#limits.maxBytes + 64) throw new WireError('oversized', `${what}: object over ${this.#limits.maxBytes} bytes`);
      return null;
    }
    const { struct } = readStruct(bytes, 0, what);
    queue.consume(end);
    return struct;
  }
}

/** One push/pull record; null for a State outside 0..3, which memberlist's merge ignores too. */
function decodePushNodeState(s: Struct): PushNodeState | null {
  const what = 'pushNodeState';
  const state = uintField(s, 'State', Number.MAX_SAFE_INTEGER, what);
  const status = STATUSES[state];
  if (!status) return null;
  return { profile: decodeProfile(s, 'Name', what), incarnation: uintField(s, 'Incarnation', 0xffffffff, what), status };
}
