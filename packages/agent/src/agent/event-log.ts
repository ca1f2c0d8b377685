import type { HearsayNode } from 'hearsay';
import { eventRecord, watchNodeEvents, type EventRecord } from './event-records.js';

/** Events GET /v1/events/recent can return: enough for a page reload or a short look back, bounded whatever the cluster does. */
export const EVENT_LOG_SIZE = 200;

/**
 * The agent's events, numbered in the order seen, from its start: the last `size` kept in a ring
 * (GET /v1/events/recent, the live view after a reload), each handed at once to every follower
 * (the SSE streams, the webhooks). Followers must not throw: they only queue or write.
 */
export class EventLog {
  readonly #ring: (EventRecord | undefined)[];
  readonly #followers = new Set<(record: EventRecord) => void>();
  readonly #detach: () => void;
  #lastId = 0;

  constructor(node: HearsayNode, size = EVENT_LOG_SIZE) {
    this.#ring = new Array<EventRecord | undefined>(size);
    this.#detach = watchNodeEvents(node, (type, data) => this.#add(type, data));
  }

  /** Events kept at most. */
  get size(): number {
    return this.#ring.length;
  }

  /** The id of the newest event; 0 before the first. */
  get lastId(): number {
    return this.#lastId;
  }

  /** The newest `limit` events kept, oldest first. */
  recent(limit = this.#ring.length): EventRecord[] {
    const count = Math.min(limit, this.#lastId, this.#ring.length);
    const records: EventRecord[] = [];
    for (let id = this.#lastId - count + 1; id <= this.#lastId; id++) records.push(this.#ring[id % this.#ring.length] as EventRecord);
    return records;
  }

  /** Hands each later event to `follower` until the returned function is called. */
  follow(follower: (record: EventRecord) => void): () => void {
    this.#followers.add(follower);
    return () => this.#followers.delete(follower);
  }

  close(): void {
    this.#detach();
    this.#followers.clear();
  }

  #add(type: string, data: object): void {
    const record = eventRecord(++this.#lastId, type, data, new Date());
    this.#ring[record.id % this.#ring.length] = record;
    for (const follower of this.#followers) follower(record);
  }
}
