import { decodeHost, encodeHost } from './address.js';
import { WireError } from './errors.js';
import {
  MsgpackWriter,
  asStruct,
  boolField,
  bytesField,
  fromUtf8,
  readObject,
  readStruct,
  textField,
  uint64BigIntField,
  uintField,
  type Struct,
} from './msgpack.js';
import { SerfMessageType } from './serf.js';

/*
 * Serf's queries (docs/wire-format.md §9.3): a query is gossiped to every member like an event; each member
 * that passes its filters may ack it and answer it, straight to the asker's address by UDP, and
 * may also ask up to RelayFactor other members to relay that answer. The internal `_serf_*`
 * queries (ping, conflict, key management) are answered by the Serf layer itself.
 */

/** Query flags: the asker wants acks; receivers must not gossip it further. */
export const QueryFlag = { ack: 1, noBroadcast: 2 } as const;

/** Serf's QuerySizeLimit: the largest encoded query (bytes). */
export const MAX_QUERY_BYTES = 1024;
/** Serf's QueryResponseSizeLimit: the largest encoded query response (bytes). */
export const MAX_QUERY_RESPONSE_BYTES = 1024;

/** A query; decoded LTimes are bigints (any uint64), encoders also take numbers. */
export interface SerfQuery<LTime extends number | bigint = bigint> {
  /** The query Lamport time. */
  readonly ltime: LTime;
  /** Random per query: two queries at the same LTime differ by it. */
  readonly id: number;
  /** Where answers go. */
  readonly host: string;
  /** The port answers go to. */
  readonly port: number;
  /** The asking member's name. */
  readonly sourceNode: string;
  /** Every filter must pass for a member to answer; empty: everyone answers. */
  readonly filters: readonly QueryFilter[];
  /** `QueryFlag` bits. */
  readonly flags: number;
  /** How many other members each responder asks to relay its answer too (0 … 255). */
  readonly relayFactor: number;
  /** How long the asker waits for answers (Go's time.Duration, here in ms). */
  readonly timeoutMs: number;
  /** The query's name (`_serf_*` for Serf's internal queries). */
  readonly name: string;
  /** The query's payload, opaque. */
  readonly payload: Uint8Array;
}

/** Only these members answer: the named ones, or those whose tag matches a regular expression. */
export type QueryFilter =
  | { readonly kind: 'nodes'; readonly names: readonly string[] }
  | { readonly kind: 'tag'; readonly tag: string; readonly expr: string }
  /** A filter type this version does not know: Serf then does not answer, and neither do we. */
  | { readonly kind: 'unknown'; readonly type: number };

/** An ack or an answer to a query; decoded LTimes are bigints, encoders also take numbers. */
export interface SerfQueryResponse<LTime extends number | bigint = bigint> {
  /** The LTime of the query answered. */
  readonly ltime: LTime;
  /** The ID of the query answered. */
  readonly id: number;
  /** The responding member's name. */
  readonly from: string;
  /** `QueryFlag.ack` for an ack, 0 for an answer. */
  readonly flags: number;
  /** The answer; empty for an ack. */
  readonly payload: Uint8Array;
}

/** The answer to a `_serf_*-key` query (Serf's nodeKeyResponse). */
export interface SerfKeyResponse {
  /** Whether the operation succeeded on the responding member. */
  readonly result: boolean;
  /** Why it failed; empty on success. */
  readonly message: string;
  /** The member's keys in base64 (a list-keys answer). */
  readonly keys: readonly string[];
  /** The member's primary key in base64 (a list-keys answer). */
  readonly primaryKey: string;
}

const FILTER_NODES = 0;
const FILTER_TAG = 1;
const NANOS_PER_MS = 1_000_000;

/** `04 + {Addr, Filters, Flags, ID, LTime, Name, Payload, Port, RelayFactor, SourceNode, Timeout}`. */
export function encodeSerfQuery(query: SerfQuery<number | bigint>): Uint8Array {
  const w = new MsgpackWriter(128 + query.payload.length).byte(SerfMessageType.query).mapHeader(11);
  w.text('Addr').raw(encodeHost(query.host));
  w.text('Filters');
  if (query.filters.length === 0) w.nil();
  else {
    w.arrayHeader(query.filters.length);
    for (const filter of query.filters) w.raw(encodeFilter(filter));
  }
  w.text('Flags').uint(query.flags);
  w.text('ID').uint(query.id);
  w.text('LTime').uint(query.ltime);
  w.text('Name').text(query.name);
  w.text('Payload').raw(query.payload);
  w.text('Port').uint(query.port);
  w.text('RelayFactor').uint(query.relayFactor);
  w.text('SourceNode').text(query.sourceNode);
  // Go's int64 nanoseconds reach 292 years; ours stop at 2^53 ns (104 days), plenty for a query.
  w.text('Timeout').uint(Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.round(query.timeoutMs * NANOS_PER_MS))));
  return w.finish();
}

function encodeFilter(filter: QueryFilter): Uint8Array {
  const w = new MsgpackWriter();
  switch (filter.kind) {
    case 'nodes':
      w.byte(FILTER_NODES).arrayHeader(filter.names.length);
      for (const name of filter.names) w.text(name);
      break;
    case 'tag':
      w.byte(FILTER_TAG).struct({ Expr: filter.expr, Tag: filter.tag });
      break;
    case 'unknown':
      w.byte(filter.type);
      break;
  }
  return w.finish();
}

/** Reads a query (after its type byte). Throws WireError when malformed. */
export function decodeSerfQuery(payload: Uint8Array): SerfQuery {
  const what = 'serf query';
  const s = structAfterType(payload, what, SerfMessageType.query);
  const addr = bytesField(s, 'Addr', what);
  if (!addr) throw new WireError('malformed', `${what}.Addr: missing`);
  const filters = s.Filters;
  if (filters !== undefined && filters !== null && !Array.isArray(filters)) throw new WireError('malformed', `${what}.Filters: expected an array`);
  return {
    ltime: uint64BigIntField(s, 'LTime', what),
    id: uintField(s, 'ID', 0xffffffff, what),
    host: decodeHost(addr, `${what}.Addr`),
    port: uintField(s, 'Port', 0xffff, what),
    sourceNode: textField(s, 'SourceNode', what),
    filters: ((filters as unknown[] | null | undefined) ?? []).map(decodeFilter),
    flags: uintField(s, 'Flags', 0xffffffff, what),
    relayFactor: uintField(s, 'RelayFactor', 0xff, what),
    timeoutMs: durationMs(s.Timeout),
    name: textField(s, 'Name', what),
    payload: bytesField(s, 'Payload', what) ?? new Uint8Array(0),
  };
}

function decodeFilter(raw: unknown): QueryFilter {
  if (!(raw instanceof Uint8Array) || raw.length === 0) throw new WireError('malformed', 'serf query filter: expected non-empty bytes');
  const type = raw[0]!;
  if (type === FILTER_NODES) {
    const { value } = readObject(raw, 1, 'serf node filter');
    if (!Array.isArray(value) || !value.every((name) => name instanceof Uint8Array)) {
      throw new WireError('malformed', 'serf node filter: expected a list of names');
    }
    return { kind: 'nodes', names: value.map((name: Uint8Array) => fromUtf8(name)) };
  }
  if (type === FILTER_TAG) {
    const s = readStruct(raw, 1, 'serf tag filter').struct;
    return { kind: 'tag', tag: textField(s, 'Tag', 'serf tag filter'), expr: textField(s, 'Expr', 'serf tag filter') };
  }
  return { kind: 'unknown', type };
}

/** A Go time.Duration (signed nanoseconds) in ms; negative or absurd values count as 0. */
function durationMs(value: unknown): number {
  const nanos = typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : 0;
  return Number.isFinite(nanos) && nanos > 0 ? nanos / NANOS_PER_MS : 0;
}

/** `05 + {Flags, From, ID, LTime, Payload}`: an ack (Flags = 1) or an answer. */
export function encodeSerfQueryResponse(response: SerfQueryResponse<number | bigint>): Uint8Array {
  return (
    new MsgpackWriter(64 + response.payload.length)
      .byte(SerfMessageType.queryResponse)
      // An ack's payload is a nil slice in Go: written as nil, byte for byte as Serf sends it.
      .struct({
        Flags: response.flags,
        From: response.from,
        ID: response.id,
        LTime: response.ltime,
        Payload: response.payload.length > 0 ? response.payload : null,
      })
      .finish()
  );
}

/** Reads a query response (with its type byte). Throws WireError when malformed. */
export function decodeSerfQueryResponse(payload: Uint8Array): SerfQueryResponse {
  const what = 'serf query response';
  const s = structAfterType(payload, what, SerfMessageType.queryResponse);
  return {
    ltime: uint64BigIntField(s, 'LTime', what),
    id: uintField(s, 'ID', 0xffffffff, what),
    from: textField(s, 'From', what),
    flags: uintField(s, 'Flags', 0xffffffff, what),
    payload: bytesField(s, 'Payload', what) ?? new Uint8Array(0),
  };
}

/**
 * `09 + {DestAddr: {IP, Port, Zone}, DestName} + inner message`: asks the receiver to send the
 * inner message (a query response) on to DestAddr, so that an answer survives one lost path.
 */
export function encodeSerfRelay(to: { host: string; port: number }, destName: string, inner: Uint8Array): Uint8Array {
  const w = new MsgpackWriter(64 + inner.length).byte(SerfMessageType.relay).mapHeader(2);
  w.text('DestAddr').mapHeader(3).text('IP').raw(encodeHost(to.host)).text('Port').uint(to.port).text('Zone').text('');
  w.text('DestName').text(destName);
  return w.bytes(inner).finish();
}

/** Reads a relay request: where to send the inner message, and the message. Throws WireError when malformed. */
export function decodeSerfRelay(payload: Uint8Array): { host: string; port: number; inner: Uint8Array } {
  const what = 'serf relay';
  if (payload.length === 0 || payload[0] !== SerfMessageType.relay) throw new WireError('malformed', `${what}: wrong type byte`);
  const { value, end } = readObject(payload, 1, what);
  const dest = asStruct(asStruct(value, what).DestAddr, `${what}.DestAddr`);
  const ip = bytesField(dest, 'IP', `${what}.DestAddr`);
  if (!ip) throw new WireError('malformed', `${what}.DestAddr.IP: missing`);
  const inner = payload.slice(end);
  if (inner.length === 0) throw new WireError('truncated', `${what}: no message to relay`);
  return { host: decodeHost(ip, `${what}.DestAddr.IP`), port: uintField(dest, 'Port', 0xffff, `${what}.DestAddr`), inner };
}

/** The payload of `_serf_install-key`, `_serf_use-key`, `_serf_remove-key`: `07 + {Key}`. */
export function encodeSerfKeyRequest(key: Uint8Array): Uint8Array {
  return new MsgpackWriter(48).byte(SerfMessageType.keyRequest).struct({ Key: key }).finish();
}

/** The key a `_serf_*-key` query's payload carries. Throws WireError when malformed. */
export function decodeSerfKeyRequest(payload: Uint8Array): Uint8Array {
  const what = 'serf key request';
  const key = bytesField(structAfterType(payload, what, SerfMessageType.keyRequest), 'Key', what);
  if (!key) throw new WireError('malformed', `${what}.Key: missing`);
  return key;
}

/** `08 + {Keys, Message, PrimaryKey, Result}`; keys in base64, as Serf sends them. */
export function encodeSerfKeyResponse(response: SerfKeyResponse): Uint8Array {
  const w = new MsgpackWriter(64 + 48 * response.keys.length).byte(SerfMessageType.keyResponse).mapHeader(4);
  w.text('Keys');
  if (response.keys.length === 0) w.nil();
  else {
    w.arrayHeader(response.keys.length);
    for (const key of response.keys) w.text(key);
  }
  w.text('Message').text(response.message);
  w.text('PrimaryKey').text(response.primaryKey);
  w.text('Result').bool(response.result);
  return w.finish();
}

/** Reads a key-query answer (with its type byte). Throws WireError when malformed. */
export function decodeSerfKeyResponse(payload: Uint8Array): SerfKeyResponse {
  const what = 'serf key response';
  const s = structAfterType(payload, what, SerfMessageType.keyResponse);
  const keys = s.Keys;
  if (keys !== undefined && keys !== null && !(Array.isArray(keys) && keys.every((key) => key instanceof Uint8Array))) {
    throw new WireError('malformed', `${what}.Keys: expected a list of strings`);
  }
  return {
    result: boolField(s, 'Result', what),
    message: textField(s, 'Message', what),
    keys: ((keys as Uint8Array[] | null | undefined) ?? []).map((key) => fromUtf8(key)),
    primaryKey: textField(s, 'PrimaryKey', what),
  };
}

/** Serf's member status numbers, as a conflict response carries them. */
const SERF_STATUS = { alive: 1, left: 3, failed: 4 } as const;

/** The member a `_serf_conflict` answer describes: who the responder believes holds a contested name. */
export interface SerfConflictMember {
  /** The member's name. */
  readonly name: string;
  /** Its address, in text form. */
  readonly host: string;
  /** Its gossip port. */
  readonly port: number;
  /** Its Serf tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Its status as the responder sees it. */
  readonly status: 'alive' | 'left' | 'failed';
  /** memberlist's six version bytes: [PMin, PMax, PCur, DMin, DMax, DCur]. */
  readonly vsn: Uint8Array;
}

/** `06 + Member` (or nil when the member is unknown): the answer to `_serf_conflict`. */
export function encodeSerfConflictResponse(member: SerfConflictMember | undefined): Uint8Array {
  const w = new MsgpackWriter(128).byte(SerfMessageType.conflictResponse);
  if (!member) return w.nil().finish();
  const v = member.vsn;
  const keys = Object.keys(member.tags).sort();
  w.mapHeader(11).text('Addr').raw(encodeHost(member.host));
  w.text('DelegateCur')
    .uint(v[5] ?? 0)
    .text('DelegateMax')
    .uint(v[4] ?? 0)
    .text('DelegateMin')
    .uint(v[3] ?? 0);
  w.text('Name').text(member.name).text('Port').uint(member.port);
  w.text('ProtocolCur')
    .uint(v[2] ?? 0)
    .text('ProtocolMax')
    .uint(v[1] ?? 0)
    .text('ProtocolMin')
    .uint(v[0] ?? 0);
  w.text('Status').uint(SERF_STATUS[member.status]);
  w.text('Tags').mapHeader(keys.length);
  for (const key of keys) w.text(key).text(member.tags[key]!);
  return w.finish();
}

/**
 * Who a `_serf_conflict` answer says holds the name: its name and address (all Serf's tally looks
 * at); undefined for a nil answer (the responder does not know the name), and an empty host when
 * the answer has no address. Throws WireError when malformed.
 */
export function decodeSerfConflictResponse(payload: Uint8Array): Pick<SerfConflictMember, 'name' | 'host' | 'port'> | undefined {
  const what = 'serf conflict response';
  if (payload.length === 0 || payload[0] !== SerfMessageType.conflictResponse) throw new WireError('malformed', `${what}: wrong type byte`);
  const { value } = readObject(payload, 1, what);
  if (value === null) return undefined;
  const s = asStruct(value, what);
  const addr = bytesField(s, 'Addr', what);
  return { name: textField(s, 'Name', what), host: addr ? decodeHost(addr, `${what}.Addr`) : '', port: uintField(s, 'Port', 0xffff, what) };
}

function structAfterType(payload: Uint8Array, what: string, type?: number): Struct {
  if (payload.length === 0) throw new WireError('truncated', `${what}: empty`);
  if (type !== undefined && payload[0] !== type) throw new WireError('malformed', `${what}: expected type byte ${type}, got ${payload[0]}`);
  return readStruct(payload, 1, what).struct;
}
