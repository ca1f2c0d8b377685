import { WireError } from './errors.js';
import { MsgpackWriter, asStruct, boolField, bytesField, fromUtf8, readObject, textField, uint64BigIntField, type Struct } from './msgpack.js';

/*
 * The parts of Serf 0.9.4's layer a foreign node needs (docs/wire-format.md §9): tags in Meta, the join and leave
 * intents it piggybacks as memberlist user messages, and the LTime in its push/pull user state.
 * Lamport times are Go uint64s: decoded exactly as bigints, since a peer may send any of them.
 */

/** memberlist's MetaMaxSize; Serf refuses longer tags locally. */
export const MAX_META_BYTES = 512;
const TAG_MAGIC = 0xff;

/** Serf message type bytes (the first byte of a memberlist user payload). */
export const SerfMessageType = {
  leave: 0,
  join: 1,
  pushPull: 2,
  userEvent: 3,
  query: 4,
  queryResponse: 5,
  conflictResponse: 6,
  keyRequest: 7,
  keyResponse: 8,
  relay: 9,
} as const;

/** `0xFF + map{string: string}`, raw strings, keys sorted for a stable encoding (Go's is random). */
export function encodeTags(tags: Readonly<Record<string, string>>): Uint8Array {
  const keys = Object.keys(tags).sort();
  const w = new MsgpackWriter().byte(TAG_MAGIC).mapHeader(keys.length);
  for (const key of keys) w.text(key).text(tags[key]!);
  const meta = w.finish();
  if (meta.length > MAX_META_BYTES) throw new RangeError(`encoded tags take ${meta.length} bytes, over the limit of ${MAX_META_BYTES}`);
  return meta;
}

/**
 * Tags from a member's Meta. Meta not starting with 0xFF is Serf's legacy form: the whole Meta is
 * the "role" tag. Empty Meta gives no tags (Serf itself would report {role: ""}).
 */
export function decodeTags(meta: Uint8Array): Record<string, string> {
  if (meta.length === 0) return {};
  if (meta[0] !== TAG_MAGIC) return { role: fromUtf8(meta) };
  const { value } = readObject(meta, 1, 'tags');
  const map = asStruct(value, 'tags');
  const tags: Record<string, string> = {};
  for (const [key, v] of Object.entries(map)) {
    if (!(v instanceof Uint8Array) && v !== null) throw new WireError('malformed', `tags.${key}: expected a string`);
    tags[key] = v ? fromUtf8(v) : '';
  }
  return tags;
}

/** Serf's leave intent: a member says it is leaving. */
export interface SerfLeave {
  /** The member Lamport time of the intent. */
  readonly ltime: number | bigint;
  /** The member leaving. */
  readonly node: string;
  /** Whether to forget the member at once (`serf force-leave -prune`) rather than keep it as left. */
  readonly prune: boolean;
}

/** Serf's join intent: a member announces its (re)join. */
export interface SerfJoin {
  /** The member Lamport time of the intent. */
  readonly ltime: number | bigint;
  /** The member joining. */
  readonly node: string;
}

/** A leave intent: `00 + {LTime, Node, Prune}`. Send it before the self-dead to show as "left". */
export function encodeSerfLeave(leave: SerfLeave): Uint8Array {
  return new MsgpackWriter().byte(SerfMessageType.leave).struct({ LTime: leave.ltime, Node: leave.node, Prune: leave.prune }).finish();
}

/** A join intent: `01 + {LTime, Node}`. */
export function encodeSerfJoin(join: SerfJoin): Uint8Array {
  return new MsgpackWriter().byte(SerfMessageType.join).struct({ LTime: join.ltime, Node: join.node }).finish();
}

/** A Serf user event (`serf event NAME PAYLOAD`). */
export interface SerfUserEvent {
  /** The event Lamport time. */
  readonly ltime: number | bigint;
  /** The event's name. */
  readonly name: string;
  /** The event's payload, opaque. */
  readonly payload: Uint8Array;
  /** Coalesce: Serf may deliver only the newest event of a name. */
  readonly coalesce: boolean;
}

/** A user event (`serf event`): `03 + {CC, LTime, Name, Payload}`. */
export function encodeSerfUserEvent(event: SerfUserEvent): Uint8Array {
  return new MsgpackWriter()
    .byte(SerfMessageType.userEvent)
    .struct({ CC: event.coalesce, LTime: event.ltime, Name: event.name, Payload: event.payload })
    .finish();
}

/** A memberlist user payload read as Serf: an intent, a user event, or another Serf type by number. */
export type SerfMessage =
  | { readonly type: 'leave'; readonly ltime: bigint; readonly node: string; readonly prune: boolean }
  | { readonly type: 'join'; readonly ltime: bigint; readonly node: string }
  | { readonly type: 'event'; readonly ltime: bigint; readonly name: string; readonly payload: Uint8Array; readonly coalesce: boolean }
  | { readonly type: 'other'; readonly serfType: number };

/**
 * Reads a memberlist user payload as a Serf message. Intents are decoded; other Serf types are
 * reported by number only (Serf ignores types it does not know, and so may we). Throws
 * WireError for an empty payload or a malformed intent.
 */
export function decodeSerfMessage(payload: Uint8Array): SerfMessage {
  if (payload.length === 0) throw new WireError('truncated', 'empty Serf message');
  const type = payload[0]!;
  if (type === SerfMessageType.userEvent) {
    const s = asStruct(readObject(payload, 1, 'serf event').value, 'serf event');
    return {
      type: 'event',
      ltime: uint64BigIntField(s, 'LTime', 'serf event'),
      name: textField(s, 'Name', 'serf event'),
      payload: bytesField(s, 'Payload', 'serf event') ?? new Uint8Array(0),
      coalesce: boolField(s, 'CC', 'serf event'),
    };
  }
  if (type !== SerfMessageType.leave && type !== SerfMessageType.join) return { type: 'other', serfType: type };
  const what = type === SerfMessageType.leave ? 'serf leave' : 'serf join';
  const s = asStruct(readObject(payload, 1, what).value, what);
  const ltime = uint64BigIntField(s, 'LTime', what);
  const node = textField(s, 'Node', what);
  return type === SerfMessageType.leave ? { type: 'leave', ltime, node, prune: boolField(s, 'Prune', what) } : { type: 'join', ltime, node };
}

/** The events Serf remembers for one event LTime (one slot of its event buffer). Encoders also take number LTimes. */
export interface SerfEventSlot<LTime extends number | bigint = bigint> {
  /** The event Lamport time of the slot. */
  readonly ltime: LTime;
  /** The events at that time: name and payload. */
  readonly events: readonly { readonly name: string; readonly payload: Uint8Array }[];
}

/** The clocks and recent events of Serf's push/pull user state. Decoded LTimes are bigints; encoders also take numbers. */
export interface SerfUserState<LTime extends number | bigint = bigint> {
  /** The member Lamport clock: a leave intent must carry a larger one to be believed. */
  readonly ltime: LTime;
  /** The user-event Lamport clock. */
  readonly eventLTime: LTime;
  /** The query Lamport clock. */
  readonly queryLTime: LTime;
  /** Recent user events: Serf replays them from every push/pull, so that a missed event arrives late rather than never. */
  readonly events: readonly SerfEventSlot<LTime>[];
}

/**
 * The clocks and recent events of Serf's push/pull user state (`02 + {LTime, EventLTime,
 * QueryLTime, Events, ...}`); null if unparsable. Malformed event slots are skipped.
 */
export function parseSerfUserState(userState: Uint8Array): SerfUserState | null {
  if (userState.length === 0 || userState[0] !== SerfMessageType.pushPull) return null;
  try {
    const s: Struct = asStruct(readObject(userState, 1, 'serf state').value, 'serf state');
    return {
      ltime: uint64BigIntField(s, 'LTime', 'serf state'),
      eventLTime: uint64BigIntField(s, 'EventLTime', 'serf state'),
      queryLTime: uint64BigIntField(s, 'QueryLTime', 'serf state'),
      events: Array.isArray(s.Events) ? s.Events.flatMap(eventSlot) : [],
    };
  } catch {
    return null;
  }
}

function eventSlot(raw: unknown): SerfEventSlot[] {
  if (raw === null || raw === undefined) return [];
  try {
    const slot = asStruct(raw, 'serf event slot');
    const events = Array.isArray(slot.Events) ? slot.Events : [];
    return [
      {
        ltime: uint64BigIntField(slot, 'LTime', 'serf event slot'),
        events: events.map((event) => {
          const e = asStruct(event, 'serf event slot event');
          return { name: textField(e, 'Name', 'serf event'), payload: bytesField(e, 'Payload', 'serf event') ?? new Uint8Array(0) };
        }),
      },
    ];
  } catch {
    return [];
  }
}

/**
 * Serf's push/pull user state for a node that tracks no member intents: its clocks and its
 * recent events (only the filled slots: Go reads any length into its slice). StatusLTimes and
 * LeftMembers stay empty, which Serf merges as "nothing to say about members".
 */
export function encodeSerfUserState(state: SerfUserState<number | bigint>): Uint8Array {
  const w = new MsgpackWriter(128).byte(SerfMessageType.pushPull).mapHeader(6);
  w.text('EventLTime').uint(state.eventLTime);
  w.text('Events').arrayHeader(state.events.length);
  for (const slot of state.events) {
    w.mapHeader(2).text('Events').arrayHeader(slot.events.length);
    for (const event of slot.events) w.mapHeader(2).text('Name').text(event.name).text('Payload').raw(event.payload);
    w.text('LTime').uint(slot.ltime);
  }
  w.text('LTime').uint(state.ltime);
  w.text('LeftMembers').nil();
  w.text('QueryLTime').uint(state.queryLTime);
  w.text('StatusLTimes').mapHeader(0);
  return w.finish();
}

/** Just the member LTime of Serf's push/pull user state; null if unparsable. */
export function serfStateLTime(userState: Uint8Array): bigint | null {
  return parseSerfUserState(userState)?.ltime ?? null;
}
