import type { Message } from './types.js';

interface QueuedBroadcast {
  readonly key: string;
  readonly message: Message;
  readonly size: number;
  /** Insertion order: among equals, the newest goes first. */
  readonly order: number;
  transmits: number;
  readonly onDone: (() => void) | undefined;
}

/** How many times each update is sent: retransmitMult × ceil(log10(n + 1)). */
export function retransmitLimit(retransmitMult: number, nodes: number): number {
  return retransmitMult * Math.ceil(Math.log10(nodes + 1));
}

/**
 * memberlist's TransmitLimitedQueue: updates waiting to be piggybacked or gossiped. A newer
 * update with the same key (a member's name) replaces the older one; selection takes the
 * fewest-sent first, then the largest that still fits, then the newest; each update is sent
 * `retransmitLimit` times and then dropped.
 */
export class BroadcastQueue {
  readonly #byKey = new Map<string, QueuedBroadcast>();
  #items: QueuedBroadcast[] = [];
  #order = 0;

  get length(): number {
    return this.#items.length;
  }

  /** Queues an update; `onDone` runs once it has been sent its last time or was replaced. */
  add(key: string, message: Message, size: number, onDone?: () => void): void {
    const previous = this.#byKey.get(key);
    if (previous) {
      this.#items.splice(this.#items.indexOf(previous), 1);
      previous.onDone?.();
    }
    const item: QueuedBroadcast = { key, message, size, order: this.#order++, transmits: 0, onDone };
    this.#byKey.set(key, item);
    this.#items.push(item);
  }

  /**
   * Takes updates that fit in `budget` bytes, counting `overheadPerMessage` for each, and
   * counts one transmission for each one taken.
   */
  take(overheadPerMessage: number, budget: number, transmitLimit: number): Message[] {
    const items = this.#items;
    if (items.length === 0) return [];
    items.sort((a, b) => a.transmits - b.transmits || b.size - a.size || b.order - a.order);
    const taken: Message[] = [];
    let used = 0;
    let kept = 0;
    const finished: QueuedBroadcast[] = [];
    for (const item of items) {
      if (used + overheadPerMessage + item.size <= budget) {
        used += overheadPerMessage + item.size;
        taken.push(item.message);
        if (item.transmits + 1 >= transmitLimit) {
          this.#byKey.delete(item.key);
          finished.push(item);
          continue;
        }
        item.transmits++;
      }
      items[kept++] = item;
    }
    items.length = kept;
    for (const item of finished) item.onDone?.();
    return taken;
  }

  /**
   * Keeps the `retain` updates sent the fewest times (the newest among equals), as memberlist's
   * Prune does, and drops the rest; returns how many were dropped.
   */
  prune(retain: number): number {
    const items = this.#items;
    if (items.length <= retain) return 0;
    items.sort((a, b) => a.transmits - b.transmits || b.order - a.order);
    const dropped = items.splice(retain);
    for (const item of dropped) {
      this.#byKey.delete(item.key);
      item.onDone?.();
    }
    return dropped.length;
  }

  clear(): void {
    this.#byKey.clear();
    this.#items = [];
  }
}
