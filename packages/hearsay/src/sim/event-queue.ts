/** Anything scheduled on the virtual clock. */
export interface Scheduled {
  readonly at: number;
}

/**
 * A binary min-heap of events ordered by time, then by insertion (so that events at the same
 * time run in a fixed order): the simulator's only clock. The keys live in typed arrays beside
 * the events, so that sifting compares plain numbers and never touches an event object; millions
 * of packets pass through here.
 */
export class EventQueue<E extends Scheduled> {
  #events: (E | undefined)[] = [];
  #at = new Float64Array(1024);
  #order = new Float64Array(1024);
  #length = 0;
  #nextOrder = 0;

  push(event: E): void {
    if (this.#length === this.#at.length) this.#grow();
    const atKeys = this.#at;
    const orderKeys = this.#order;
    const events = this.#events;
    const at = event.at;
    const order = this.#nextOrder++;
    let pos = this.#length++;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const parentAt = atKeys[parent]!;
      // Every later push has a larger order, so ties on time go to the earlier event.
      if (parentAt <= at) break;
      atKeys[pos] = parentAt;
      orderKeys[pos] = orderKeys[parent]!;
      events[pos] = events[parent];
      pos = parent;
    }
    atKeys[pos] = at;
    orderKeys[pos] = order;
    events[pos] = event;
  }

  pop(): E | undefined {
    if (this.#length === 0) return undefined;
    const atKeys = this.#at;
    const orderKeys = this.#order;
    const events = this.#events;
    const top = events[0];
    const length = --this.#length;
    const at = atKeys[length]!;
    const order = orderKeys[length]!;
    const event = events[length];
    events[length] = undefined;
    if (length === 0) return top;
    let pos = 0;
    const half = length >> 1;
    while (pos < half) {
      let child = 2 * pos + 1;
      const right = child + 1;
      if (right < length && before(atKeys[right]!, orderKeys[right]!, atKeys[child]!, orderKeys[child]!)) child = right;
      if (!before(atKeys[child]!, orderKeys[child]!, at, order)) break;
      atKeys[pos] = atKeys[child]!;
      orderKeys[pos] = orderKeys[child]!;
      events[pos] = events[child];
      pos = child;
    }
    atKeys[pos] = at;
    orderKeys[pos] = order;
    events[pos] = event;
    return top;
  }

  peekTime(): number {
    return this.#length === 0 ? Infinity : this.#at[0]!;
  }

  get length(): number {
    return this.#length;
  }

  #grow(): void {
    const at = new Float64Array(this.#at.length * 2);
    at.set(this.#at);
    this.#at = at;
    const order = new Float64Array(this.#order.length * 2);
    order.set(this.#order);
    this.#order = order;
  }
}

function before(atA: number, orderA: number, atB: number, orderB: number): boolean {
  return atA < atB || (atA === atB && orderA < orderB);
}
