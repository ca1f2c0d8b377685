import type { HeartbeatEntry, MemberProfile, Message, StreamMessage } from './types.js';

/**
 * The exact size of a message as memberlist encodes it (type byte + go-msgpack map with sorted
 * field names, old-spec raw strings, smallest unsigned ints), computed without building bytes.
 * The core needs sizes for the UDP piggyback budget; the simulator uses them to count traffic.
 */
export function memberlistSize(message: Message): number {
  switch (message.type) {
    case 'ping':
      return (
        1 + 1 + digestSize(message.digest) + field('Node', raw(utf8Length(message.node))) + field('SeqNo', uint(message.seqNo)) + sourceSize(message.source)
      );
    case 'indirectPing':
      return (
        1 +
        1 +
        field('Nack', 1) +
        field('Node', raw(utf8Length(message.node))) +
        field('Port', uint(message.target.port)) +
        field('SeqNo', uint(message.seqNo)) +
        sourceSize(message.source) +
        field('Target', raw(addressLength(message.target.host)))
      );
    case 'ack':
      return 1 + 1 + digestSize(message.digest) + field('Payload', message.payload ? raw(message.payload.length) : 1) + field('SeqNo', uint(message.seqNo));
    case 'nack':
      return 1 + 1 + field('SeqNo', uint(message.seqNo));
    case 'suspect':
    case 'dead':
      return (
        1 + 1 + field('From', raw(utf8Length(message.from))) + field('Incarnation', uint(message.incarnation)) + field('Node', raw(utf8Length(message.node)))
      );
    case 'alive': {
      const p = message.profile;
      return (
        1 +
        1 +
        field('Addr', raw(addressLength(p.host))) +
        field('Incarnation', uint(message.incarnation)) +
        field('Meta', raw(p.meta.length)) +
        field('Node', raw(utf8Length(p.name))) +
        field('Port', uint(p.port)) +
        field('Vsn', raw(p.vsn.length))
      );
    }
    case 'user':
      return 1 + message.payload.length;
    case 'heartbeats': {
      let size = heartbeatsOverhead(message.entries.length);
      for (const entry of message.entries) size += heartbeatEntrySize(entry);
      return size;
    }
    case 'protocolSwitch':
      return 1 + 1 + field('Epoch', uint(message.epoch)) + field('Origin', raw(utf8Length(message.origin))) + field('Protocol', 1);
  }
}

/** A heartbeats message without its entries: type byte, `{Entries: [...]}` map and array headers. */
export function heartbeatsOverhead(entries: number): number {
  return 1 + 1 + field('Entries', arrayHeader(entries));
}

/** One entry of a heartbeats message: the push/pull record's fields plus Generation and Heartbeat. */
export function heartbeatEntrySize(entry: HeartbeatEntry): number {
  return recordSize(entry.profile) + field('Generation', uint(entry.generation)) + field('Heartbeat', uint(entry.heartbeat));
}

function arrayHeader(length: number): number {
  if (length < 16) return 1;
  if (length < 65536) return 3;
  return 5;
}

/** hearsay's optional `Digest` key in pings and acks. */
function digestSize(digest: number | undefined): number {
  return digest === undefined ? 0 : field('Digest', uint(digest));
}

/** memberlist's compound packet header: a type byte and a part count. */
export const COMPOUND_HEADER_BYTES = 2;
/** The length prefix of each part of a compound packet. */
export const COMPOUND_PART_BYTES = 2;
/** memberlist's CRC wrapper: a type byte and a CRC-32. */
export const CRC_BYTES = 5;

/** Bytes a compound packet adds: its header, and a length prefix per part. */
export function compoundOverhead(parts: number): number {
  return parts > 1 ? COMPOUND_HEADER_BYTES + COMPOUND_PART_BYTES * parts : 0;
}

function sourceSize(source: { name: string; host: string; port: number } | undefined): number {
  if (!source) return 0;
  let size = 0;
  if (source.host) size += field('SourceAddr', raw(addressLength(source.host)));
  if (source.name) size += field('SourceNode', raw(utf8Length(source.name)));
  if (source.port) size += field('SourcePort', uint(source.port));
  return size;
}

function field(key: string, valueSize: number): number {
  return raw(key.length) + valueSize;
}

/** fixstr / str16 / str32, the only raw forms go-msgpack 0.5 emits. */
function raw(length: number): number {
  if (length < 32) return 1 + length;
  if (length < 65536) return 3 + length;
  return 5 + length;
}

function uint(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x100) return 2;
  if (value < 0x10000) return 3;
  if (value < 0x100000000) return 5;
  return 9;
}

/** IPv4 travels as 4 raw bytes; IPv6 (and the v4-mapped form) as 16. */
function addressLength(host: string): number {
  return host.includes(':') ? 16 : 4;
}

export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** The size of a stream message before compression or encryption. */
export function streamSize(message: StreamMessage): number {
  switch (message.type) {
    case 'ping':
    case 'ack':
      return memberlistSize(message);
    case 'error':
      return 1 + 1 + field('Error', raw(utf8Length(message.error)));
    case 'pushPull': {
      let size =
        1 +
        1 +
        field('Join', 1) +
        field('Nodes', uint(message.states.length)) +
        field('UserStateLen', uint(message.userState.length)) +
        message.userState.length;
      for (const state of message.states) size += recordSize(state.profile) + field('Incarnation', uint(state.incarnation));
      return size;
    }
  }
}

/** Profiles are immutable and shared, so the size of their part of a record is computed once. */
const recordSizes = new WeakMap<MemberProfile, number>();

/** A push/pull record's size without its incarnation. */
function recordSize(p: MemberProfile): number {
  let size = recordSizes.get(p);
  if (size === undefined) {
    size =
      1 +
      field('Addr', raw(addressLength(p.host))) +
      field('Meta', raw(p.meta.length)) +
      field('Name', raw(utf8Length(p.name))) +
      field('Port', uint(p.port)) +
      field('State', 1) +
      field('Vsn', raw(p.vsn.length));
    recordSizes.set(p, size);
  }
  return size;
}
