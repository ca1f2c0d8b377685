import TinyQueue from 'tinyqueue';

/** Anything scheduled on the virtual clock. */
export interface Scheduled {
  at: number;
  /** Insertion order, so that events at the same time run in a fixed order. */
  order: number;
}

/** An event before the queue has given it its place in line. */
export type Unscheduled<E> = E extends unknown ? Omit<E, 'order'> : never;

/** A binary heap of events ordered by time, then insertion: the simulator's only clock. */
export class EventQueue<E extends Scheduled> {
  readonly #heap = new TinyQueue<E>([], (a, b) => a.at - b.at || a.order - b.order);
  #order = 0;

  push(event: Unscheduled<E>): void {
    (event as E).order = this.#order++;
    this.#heap.push(event as E);
  }

  pop(): E | undefined {
    return this.#heap.pop();
  }

  peekTime(): number {
    return this.#heap.peek()?.at ?? Infinity;
  }

  get length(): number {
    return this.#heap.length;
  }
}
