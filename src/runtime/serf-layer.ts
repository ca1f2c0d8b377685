import type { PushPullMessage } from '../core/index.js';
import { decodeSerfMessage, encodeSerfLeave, serfStateLTime } from '../wire/index.js';

/**
 * Just enough of Serf's layer for a hearsay node to be an ordinary member of a Serf cluster:
 * Serf's Lamport clock for membership intents, read from every intent and push/pull state
 * seen, so that our leave intent is newer than anything Serf holds about us (spec §9.5).
 * Other Serf messages (events, queries, relays) are ignored.
 */
export class SerfLayer {
  #ltime = 0;

  get ltime(): number {
    return this.#ltime;
  }

  /** Reads a user payload; returns whether it was one of Serf's membership intents. */
  observe(payload: Uint8Array): boolean {
    let message;
    try {
      message = decodeSerfMessage(payload);
    } catch {
      return false;
    }
    if (message.type === 'other') return false;
    this.#witness(message.ltime);
    return true;
  }

  observeState(message: PushPullMessage): void {
    if (message.userState.length === 0) return;
    const ltime = serfStateLTime(message.userState);
    if (ltime !== null) this.#witness(ltime);
  }

  /** A leave intent for `node`, stamped after everything seen so far. */
  leaveIntent(node: string): Uint8Array {
    this.#ltime++;
    return encodeSerfLeave({ ltime: this.#ltime, node, prune: false });
  }

  #witness(ltime: number): void {
    if (ltime > this.#ltime) this.#ltime = ltime;
  }
}
