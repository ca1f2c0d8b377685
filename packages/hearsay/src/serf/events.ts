import { createHash } from 'node:crypto';
import type { SerfEventSlot } from '../wire/index.js';
import { LamportClock, tooOld } from './lamport.js';

/**
 * Serf's EventBuffer: recent events are remembered by LTime modulo this (and replayed in
 * push/pulls), and those older than the clock minus this are refused.
 */
export const EVENT_BUFFER = 512;
/** Distinct events remembered at one LTime: Serf keeps any number, so one peer could grow a slot without end. */
export const EVENTS_PER_LTIME = 64;
/** Serf's ceiling on a user event's name + payload (UserEventSizeLimit may be configured up to it, never past). */
export const MAX_USER_EVENT_BYTES = 9 * 1024;
/** Name + payload bytes of the recent events replayed in push/pulls; past it, events are remembered but not replayed. */
const REPLAY_BYTES = 256 * 1024;

/** The events seen at one LTime: digests to recognise repeats, and those kept to replay in push/pulls. */
interface EventSlot {
  readonly ltime: bigint;
  readonly digests: string[];
  readonly replay: { name: string; payload: Uint8Array }[];
  replayBytes: number;
}

/** An event as the buffer took it: the key it is gossiped and recognised under, and whether it is new here. */
export interface RecordedEvent {
  readonly key: string;
  readonly fresh: boolean;
}

/**
 * The user events' clock and recent events, as Serf's handleUserEvent keeps them: each event is
 * acted on once, and the recent ones are replayed to peers in push/pulls within a byte bound.
 */
export class EventBuffer {
  readonly clock = new LamportClock();
  /** Events before this time were handled by an earlier run of this node (restored from its snapshot): not again. */
  minimumTime = 0n;
  /** The events to replay changed since the layer last published them. */
  replayChanged = false;
  readonly #slots: (EventSlot | undefined)[] = new Array(EVENT_BUFFER);
  #replayBytes = 0;
  readonly #drop: (reason: string) => void;

  constructor(drop: (reason: string) => void) {
    this.#drop = drop;
  }

  /** Witnesses the event's time, refuses what is too old or too large, remembers the rest once. */
  record(ltime: bigint, name: string, payload: Uint8Array): RecordedEvent {
    const size = Buffer.byteLength(name) + payload.length;
    const digest = eventDigest(name, payload);
    const seen = { key: `event:${ltime}:${digest}`, fresh: false };
    if (size > MAX_USER_EVENT_BYTES) {
      this.#drop('event-oversized');
      return seen;
    }
    this.clock.witness(ltime);
    if (ltime < this.minimumTime) {
      this.#drop('event-seen-before-restart');
      return seen;
    }
    if (tooOld(ltime, this.clock.time, EVENT_BUFFER)) {
      this.#drop('event-too-old');
      return seen;
    }
    const index = Number(ltime % BigInt(EVENT_BUFFER));
    let slot = this.#slots[index];
    if (slot?.ltime !== ltime) {
      this.#replayBytes -= slot?.replayBytes ?? 0;
      this.#slots[index] = slot = { ltime, digests: [], replay: [], replayBytes: 0 };
    }
    if (slot.digests.includes(digest)) return seen;
    if (slot.digests.length >= EVENTS_PER_LTIME) {
      this.#drop('event-ltime-full');
      return seen;
    }
    slot.digests.push(digest);
    if (this.#replayBytes + size <= REPLAY_BYTES) {
      slot.replay.push({ name, payload });
      slot.replayBytes += size;
      this.#replayBytes += size;
      this.replayChanged = true;
    } else {
      // Still delivered and recognised if repeated; only the push/pull replay misses it.
      this.#drop('event-replay-full');
    }
    return { ...seen, fresh: true };
  }

  /** The events to replay in push/pulls, by LTime. */
  replay(): SerfEventSlot[] {
    return this.#slots.flatMap((slot) => (slot && slot.replay.length > 0 ? [{ ltime: slot.ltime, events: slot.replay }] : []));
  }
}

/** Names an event by its name and payload (length-prefixed: no two pairs run together alike). */
function eventDigest(name: string, payload: Uint8Array): string {
  const nameBytes = Buffer.from(name);
  return createHash('sha1').update(`${nameBytes.length}:`).update(nameBytes).update(payload).digest('base64');
}
