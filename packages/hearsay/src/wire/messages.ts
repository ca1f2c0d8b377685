import {
  PROTOCOLS,
  STATUSES,
  type AckMessage,
  type AliveMessage,
  type HeartbeatEntry,
  type HeartbeatsMessage,
  type MemberProfile,
  type Message,
  type PingMessage,
  type Protocol,
  type Source,
  type Status,
} from '../core/types.js';
import { decodeHost, encodeHost } from './address.js';
import { WireError } from './errors.js';
import { MsgpackWriter, asStruct, boolField, bytesField, readStruct, textField, typedStruct, uintField, uint64Field, type Struct } from './msgpack.js';

/** memberlist's message type bytes (docs/wire-format.md §1.1). */
export const WireType = {
  ping: 0,
  indirectPing: 1,
  ack: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nack: 11,
  hasCrc: 12,
  err: 13,
  /**
   * hearsay's heartbeat table (not memberlist's: its types stop at 13, and memberlist and Serf
   * drop a type they do not know). 0x40, far from memberlist's range so that it is not taken by a
   * future memberlist type.
   */
  heartbeats: 64,
  /** hearsay's cluster-wide failure detector switch, beside the heartbeat table. */
  protocolSwitch: 65,
} as const;

const PROTOCOL_CODES: Record<Protocol, number> = { swim: 0, heartbeat: 1, hybrid: 2 };

/**
 * A status's `State` number on the wire: its index in the core's STATUSES, which is memberlist's
 * order too (StateAlive 0, StateSuspect 1, StateDead 2, StateLeft 3); decode with `STATUSES[n]`.
 */
export const STATE_CODES: Readonly<Record<Status, number>> = Object.fromEntries(STATUSES.map((status, code) => [status, code])) as Record<Status, number>;

const U16 = 0xffff;
const U32 = 0xffffffff;

function checkUint(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${what} must be an integer in [0, ${max}], got ${value}`);
  return value;
}

/** An empty Meta goes out as nil, as from a memberlist without a delegate; the size is the same. */
function metaValue(meta: Uint8Array): Uint8Array | null {
  return meta.length > 0 ? meta : null;
}

/** Source* fields, each omitted when empty (omitempty). */
function sourceFields(source: Source | undefined) {
  return {
    SourceAddr: source?.host ? encodeHost(source.host) : undefined,
    SourceNode: source?.name ? source.name : undefined,
    SourcePort: source?.port ? checkUint(source.port, U16, 'source port') : undefined,
  };
}

/**
 * Gossip (alive, suspect, dead, user) goes out in up to retransmitMult × log10(n) packets per
 * node, the same message object each time: its bytes are kept with it, encoded once. Nothing
 * writes into an encoded message (compounds, compression, CRC and encryption copy it).
 */
const encodedGossip = new WeakMap<Message, Uint8Array>();

/** Encodes one UDP message: type byte + go-msgpack struct (or raw bytes for a user message). */
export function encodeMessage(m: Message): Uint8Array {
  if (m.type !== 'alive' && m.type !== 'suspect' && m.type !== 'dead' && m.type !== 'user') return encodeAnew(m);
  let bytes = encodedGossip.get(m);
  if (bytes === undefined) {
    bytes = encodeAnew(m);
    encodedGossip.set(m, bytes);
  }
  return bytes;
}

function encodeAnew(m: Message): Uint8Array {
  switch (m.type) {
    case 'ping':
      return typedStruct(WireType.ping, {
        ...digestField(m.digest),
        Node: m.node,
        SeqNo: checkUint(m.seqNo, U32, 'seqNo'),
        ...sourceFields(m.source),
      });
    case 'indirectPing':
      return typedStruct(WireType.indirectPing, {
        Nack: m.nack,
        Node: m.node,
        Port: checkUint(m.target.port, U16, 'target port'),
        SeqNo: checkUint(m.seqNo, U32, 'seqNo'),
        ...sourceFields(m.source),
        Target: encodeHost(m.target.host),
      });
    case 'ack':
      return typedStruct(WireType.ack, { ...digestField(m.digest), Payload: m.payload ?? null, SeqNo: checkUint(m.seqNo, U32, 'seqNo') });
    case 'nack':
      return typedStruct(WireType.nack, { SeqNo: checkUint(m.seqNo, U32, 'seqNo') });
    case 'suspect':
    case 'dead':
      return typedStruct(WireType[m.type], {
        From: m.from,
        Incarnation: checkUint(m.incarnation, U32, 'incarnation'),
        Node: m.node,
      });
    case 'alive': {
      const p = m.profile;
      return typedStruct(WireType.alive, {
        Addr: encodeHost(p.host),
        Incarnation: checkUint(m.incarnation, U32, 'incarnation'),
        Meta: metaValue(p.meta),
        Node: p.name,
        Port: checkUint(p.port, U16, 'port'),
        Vsn: p.vsn,
      });
    }
    case 'user':
      return new MsgpackWriter(1 + m.payload.length).byte(WireType.user).bytes(m.payload).finish();
    case 'heartbeats':
      return encodeHeartbeats(m);
    case 'protocolSwitch':
      // `0x41 | {Epoch, Origin, Protocol}`, Protocol as 0 swim, 1 heartbeat, 2 hybrid.
      return typedStruct(WireType.protocolSwitch, {
        Epoch: checkUint(m.epoch, U32, 'epoch'),
        Origin: m.origin,
        Protocol: PROTOCOL_CODES[m.protocol],
      });
  }
}

/**
 * `0x40 | {Entries: [{Addr, Generation, Heartbeat, Meta, Name, Port, State, Vsn}, …]}`, keys
 * sorted as go-msgpack would write the Go structs.
 */
function encodeHeartbeats(m: HeartbeatsMessage): Uint8Array {
  const w = new MsgpackWriter(16 + 96 * m.entries.length);
  w.byte(WireType.heartbeats).mapHeader(1).text('Entries').arrayHeader(m.entries.length);
  for (const entry of m.entries) {
    w.struct({
      ...profileFields(entry.profile),
      Generation: checkUint(entry.generation, U32, 'generation'),
      Heartbeat: checkUint(entry.heartbeat, Number.MAX_SAFE_INTEGER, 'heartbeat'),
      State: STATE_CODES[entry.status],
    });
  }
  return w.finish();
}

function decodeHeartbeats(s: Struct): HeartbeatsMessage {
  const what = 'heartbeats';
  const list = s.Entries;
  if (list === undefined || list === null) return { type: 'heartbeats', entries: [] };
  if (!Array.isArray(list)) throw new WireError('malformed', `${what}.Entries: expected an array`);
  const entries: HeartbeatEntry[] = [];
  for (const item of list) {
    const e = asStruct(item, `${what}.entry`);
    const status = STATUSES[uintField(e, 'State', Number.MAX_SAFE_INTEGER, `${what}.entry`)];
    // An unknown state is skipped, as memberlist's merge skips one in push/pull.
    if (!status) continue;
    entries.push({
      profile: decodeProfile(e, 'Name', `${what}.entry`),
      generation: uintField(e, 'Generation', U32, `${what}.entry`),
      heartbeat: uint64Field(e, 'Heartbeat', `${what}.entry`),
      status,
    });
  }
  return { type: 'heartbeats', entries };
}

/** A push/pull record's fields (the key is `Name` there, `Node` in alive). */
export function profileFields(p: MemberProfile) {
  return {
    Addr: encodeHost(p.host),
    Meta: metaValue(p.meta),
    Name: p.name,
    Port: checkUint(p.port, U16, 'port'),
    Vsn: p.vsn,
  };
}

export function checkIncarnation(value: number): number {
  return checkUint(value, U32, 'incarnation');
}

/**
 * Decodes one plain UDP message (not a compound, compress or CRC wrapper: see decodePacket).
 * Bytes after the msgpack body are ignored, as go-msgpack reads a single object.
 */
export function decodeMessage(bytes: Uint8Array): Message {
  if (bytes.length === 0) throw new WireError('truncated', 'empty message');
  const type = bytes[0]!;
  switch (type) {
    case WireType.user:
      return { type: 'user', payload: bytes.slice(1) };
    case WireType.ping:
      return decodePing(readStruct(bytes, 1, 'ping').struct);
    case WireType.ack:
      return decodeAck(readStruct(bytes, 1, 'ack').struct);
    case WireType.indirectPing: {
      const s = readStruct(bytes, 1, 'indirectPing').struct;
      const what = 'indirectPing';
      const source = decodeSource(s, what);
      return {
        type: 'indirectPing',
        seqNo: uintField(s, 'SeqNo', U32, what),
        node: textField(s, 'Node', what),
        target: { host: requiredHost(s, 'Target', what), port: uintField(s, 'Port', U16, what) },
        nack: boolField(s, 'Nack', what),
        ...(source ? { source } : {}),
      };
    }
    case WireType.nack:
      return { type: 'nack', seqNo: uintField(readStruct(bytes, 1, 'nack').struct, 'SeqNo', U32, 'nack') };
    case WireType.suspect:
    case WireType.dead: {
      const what = type === WireType.suspect ? 'suspect' : 'dead';
      const s = readStruct(bytes, 1, what).struct;
      return {
        type: what,
        node: textField(s, 'Node', what),
        incarnation: uintField(s, 'Incarnation', U32, what),
        from: textField(s, 'From', what),
      };
    }
    case WireType.alive: {
      const s = readStruct(bytes, 1, 'alive').struct;
      return decodeAlive(s);
    }
    case WireType.heartbeats:
      return decodeHeartbeats(readStruct(bytes, 1, 'heartbeats').struct);
    case WireType.protocolSwitch: {
      const what = 'protocolSwitch';
      const s = readStruct(bytes, 1, what).struct;
      const protocol = PROTOCOLS[uintField(s, 'Protocol', U32, what)];
      if (protocol === undefined) throw new WireError('malformed', `${what}.Protocol: unknown detector`);
      return { type: what, protocol, epoch: uintField(s, 'Epoch', U32, what), origin: textField(s, 'Origin', what) };
    }
    case WireType.compound:
    case WireType.compress:
    case WireType.hasCrc:
      throw new WireError('unknown-type', `type ${type} is a wrapper, not a message: use decodePacket`);
    default:
      throw new WireError('unknown-type', `unknown UDP message type ${type}`);
  }
}

export function decodePing(s: Struct): PingMessage {
  const what = 'ping';
  const source = decodeSource(s, what);
  return {
    type: 'ping',
    seqNo: uintField(s, 'SeqNo', U32, what),
    node: textField(s, 'Node', what),
    ...(source ? { source } : {}),
    ...decodeDigest(s, what),
  };
}

export function decodeAck(s: Struct): AckMessage {
  const payload = bytesField(s, 'Payload', 'ack');
  return { type: 'ack', seqNo: uintField(s, 'SeqNo', U32, 'ack'), ...(payload ? { payload } : {}), ...decodeDigest(s, 'ack') };
}

/**
 * hearsay's view digest rides in pings and acks as one more map key, `Digest` (a uint32): Go's
 * msgpack decoder skips keys its struct lacks, so memberlist and Serf read these messages as ever.
 */
function digestField(digest: number | undefined): { Digest?: number } {
  return digest === undefined ? {} : { Digest: checkUint(digest, U32, 'digest') };
}

function decodeDigest(s: Struct, what: string): { digest?: number } {
  return s.Digest === undefined ? {} : { digest: uintField(s, 'Digest', U32, what) };
}

function decodeAlive(s: Struct): AliveMessage {
  const what = 'alive';
  return { type: 'alive', incarnation: uintField(s, 'Incarnation', U32, what), profile: decodeProfile(s, 'Node', what) };
}

/** The profile part of an alive message (`Node`) or of a push/pull record (`Name`). */
export function decodeProfile(s: Struct, nameKey: 'Node' | 'Name', what: string): MemberProfile {
  return {
    name: textField(s, nameKey, what),
    host: requiredHost(s, 'Addr', what),
    port: uintField(s, 'Port', U16, what),
    meta: bytesField(s, 'Meta', what) ?? new Uint8Array(0),
    vsn: bytesField(s, 'Vsn', what) ?? new Uint8Array(0),
  };
}

function requiredHost(s: Struct, key: string, what: string): string {
  const bytes = bytesField(s, key, what);
  if (!bytes) throw new WireError('malformed', `${what}.${key}: missing address`);
  return decodeHost(bytes, `${what}.${key}`);
}

/** Source* are all optional; a message without any of them has no source. */
function decodeSource(s: Struct, what: string): Source | undefined {
  const addr = bytesField(s, 'SourceAddr', what);
  const name = textField(s, 'SourceNode', what);
  const port = uintField(s, 'SourcePort', U16, what);
  if (!addr?.length && !name && !port) return undefined;
  return { name, host: addr?.length ? decodeHost(addr, `${what}.SourceAddr`) : '', port };
}
