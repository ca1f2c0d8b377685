import { STATUSES, type MemberProfile, type PushNodeState, type PushPullMessage, type Status, type StreamMessage, type UserMessage } from '../core/types.js';
import { compressMessage } from './compress.js';
import { WireError } from './errors.js';
import { encryptedLength, type Keyring } from './keyring.js';
import { STATE_CODES, WireType, checkIncarnation, decodeAck, decodePing, decodeProfile, encodeMessage, profileFields } from './messages.js';
import { MsgpackWriter, boolField, intField, readStruct, textField, typedStruct, uintField, type Struct } from './msgpack.js';
import { type ByteQueue, ObjectScanner } from './stream-framing.js';

/*
 * TCP streams (docs/wire-format.md §4): [0a | u32 len | AES-GCM blob] ⊃ [09 | {Algo, Buf}] ⊃ [type | body], one
 * exchange per connection. There is no framing on plain streams and Go never half-closes, so the
 * decoder parses incrementally and knows a message is complete without waiting for EOF.
 */

/** A TCP user message: `08 | {UserMsgLen} | raw bytes`. The core's StreamMessage union lacks it. */
export type StreamUserMessage = UserMessage;
/** Every message a memberlist TCP stream carries: the core's stream messages plus user messages. */
export type WireStreamMessage = StreamMessage | StreamUserMessage;

/**
 * What one decoded push/pull record costs in memory (objects, strings, two small byte arrays),
 * measured at about 700 bytes for 66 bytes on the wire: records are charged at this rate, not at
 * their wire size, so that a budget holds against a stream of tiny records.
 */
export const RECORD_COST_BYTES = 512;
/** Slack over maxBytes for the msgpack head around a payload (a struct key, a length). */
export const HEAD_BYTES = 64;

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

/**
 * Each member's push/pull record, kept with its profile while its incarnation and status stay
 * the same: every push/pull repeats the whole table, mostly unchanged since the last one (and in
 * one process, the simulator's, every node's table holds the same profiles).
 */
const encodedRecords = new WeakMap<MemberProfile, { readonly incarnation: number; readonly status: Status; readonly bytes: Uint8Array }>();

function recordBytes(state: PushNodeState): Uint8Array {
  const kept = encodedRecords.get(state.profile);
  if (kept !== undefined && kept.incarnation === state.incarnation && kept.status === state.status) return kept.bytes;
  const bytes = new MsgpackWriter(128)
    .struct({ ...profileFields(state.profile), Incarnation: checkIncarnation(state.incarnation), State: STATE_CODES[state.status] })
    .finish();
  encodedRecords.set(state.profile, { incarnation: state.incarnation, status: state.status, bytes });
  return bytes;
}

function encodePushPull(m: PushPullMessage): Uint8Array {
  const records = m.states.map(recordBytes);
  let size = 64 + m.userState.length;
  for (const record of records) size += record.length;
  const w = new MsgpackWriter(size);
  w.byte(WireType.pushPull).struct({ Join: m.join, Nodes: m.states.length, UserStateLen: m.userState.length });
  for (const record of records) w.bytes(record);
  return w.bytes(m.userState).finish();
}

/** The caps a stream message is parsed under, and the memory budget it is charged to. */
export interface Limits {
  readonly maxNodes: number;
  readonly maxBytes: number;
  /** Throws 'stream-memory' unless `bytes` more fit beside what the decoder holds. */
  readonly charge: (bytes: number) => void;
}

interface PushPullHeader {
  readonly join: boolean;
  readonly nodes: number;
  readonly userStateLength: number;
}

/** `type | body` parsed off a queue, keeping its place between calls. */
export class PlainParser {
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
