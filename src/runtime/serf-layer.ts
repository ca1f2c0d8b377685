import { createHash } from 'node:crypto';
import type { PushPullMessage } from '../core/index.js';
import { decodeSerfMessage, encodeSerfLeave, encodeSerfUserEvent, parseSerfUserState } from '../wire/index.js';

/** How many recent user events are remembered to recognise repeats. */
const SEEN_EVENTS = 4096;

/** What a user payload turned out to be. */
export type SerfArrival =
  | { readonly kind: 'intent' }
  | { readonly kind: 'event'; readonly name: string; readonly payload: Uint8Array; readonly key: string; readonly fresh: boolean }
  | { readonly kind: 'other' };

/**
 * Just enough of Serf's layer for a hearsay node to be an ordinary member of a Serf cluster:
 * its Lamport clocks (membership intents and user events), read from everything seen, so that
 * our leave intent and our events are newer than what Serf holds; and its user events, which
 * carry hearsay's application broadcasts (Serf agents show them as `serf event`s). Other Serf
 * messages (queries, relays, key management) are ignored.
 */
export class SerfLayer {
  #ltime = 0;
  #eventLTime = 0;
  readonly #seen = new Set<string>();

  get ltime(): number {
    return this.#ltime;
  }

  observe(payload: Uint8Array): SerfArrival {
    let message;
    try {
      message = decodeSerfMessage(payload);
    } catch {
      return { kind: 'other' };
    }
    switch (message.type) {
      case 'leave':
      case 'join':
        this.#ltime = Math.max(this.#ltime, message.ltime);
        return { kind: 'intent' };
      case 'event': {
        this.#eventLTime = Math.max(this.#eventLTime, message.ltime);
        const key = eventKey(message.ltime, message.name, message.payload);
        return { kind: 'event', name: message.name, payload: message.payload, key, fresh: this.#remember(key) };
      }
      case 'other':
        return { kind: 'other' };
    }
  }

  observeState(message: PushPullMessage): void {
    if (message.userState.length === 0) return;
    const state = parseSerfUserState(message.userState);
    if (!state) return;
    this.#ltime = Math.max(this.#ltime, state.ltime);
    this.#eventLTime = Math.max(this.#eventLTime, state.eventLTime);
  }

  /** A leave intent for `node`, stamped after everything seen so far. */
  leaveIntent(node: string): Uint8Array {
    this.#ltime++;
    return encodeSerfLeave({ ltime: this.#ltime, node, prune: false });
  }

  /** A new user event, and the key under which it is disseminated and recognised. */
  userEvent(name: string, payload: Uint8Array): { bytes: Uint8Array; key: string } {
    this.#eventLTime++;
    const key = eventKey(this.#eventLTime, name, payload);
    this.#remember(key);
    return { bytes: encodeSerfUserEvent({ ltime: this.#eventLTime, name, payload, coalesce: false }), key };
  }

  /** Records a key; false if it was already known. */
  #remember(key: string): boolean {
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > SEEN_EVENTS) this.#seen.delete(this.#seen.values().next().value!);
    return true;
  }
}

function eventKey(ltime: number, name: string, payload: Uint8Array): string {
  return `event:${ltime}:${name}:${createHash('sha1').update(payload).digest('base64')}`;
}
