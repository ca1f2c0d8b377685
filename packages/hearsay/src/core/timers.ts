import TinyQueue from 'tinyqueue';

interface Timer {
  at: number;
  order: number;
  fire: (() => void) | null;
}

export type TimerHandle = Timer;

const byDeadline = (a: Timer, b: Timer) => a.at - b.at || a.order - b.order;

/**
 * A node's own deadlines, kept in a binary heap. The driver only ever learns the earliest one
 * (`nextDeadline`) and calls back when it is reached; cancelled timers are skipped lazily, and
 * the heap is rebuilt without them once they outnumber the live ones (a peer that makes this
 * node start and cancel long suspicions would otherwise fill it with dead entries).
 */
export class Timers {
  #heap = new TinyQueue<Timer>([], byDeadline);
  #order = 0;
  #cancelled = 0;

  /** Timers in the heap, cancelled ones not yet swept included. */
  get size(): number {
    return this.#heap.length;
  }

  schedule(at: number, fire: () => void): TimerHandle {
    const timer: Timer = { at, order: this.#order++, fire };
    this.#heap.push(timer);
    return timer;
  }

  cancel(handle: TimerHandle | undefined): void {
    if (!handle || handle.fire === null) return;
    handle.fire = null;
    if (++this.#cancelled > Math.max(MIN_SWEEP, this.#heap.length / 2)) this.#sweep();
  }

  /** Fires every timer due at `now`, including ones scheduled for `now` while firing. */
  runDue(now: number): void {
    for (;;) {
      const top = this.#peekLive();
      if (!top || top.at > now) return;
      this.#heap.pop();
      const fire = top.fire!;
      top.fire = null;
      fire();
    }
  }

  nextDeadline(): number {
    return this.#peekLive()?.at ?? Infinity;
  }

  clear(): void {
    while (this.#heap.length) this.#heap.pop()!.fire = null;
    this.#cancelled = 0;
  }

  #peekLive(): Timer | undefined {
    let top = this.#heap.peek();
    while (top && top.fire === null) {
      this.#heap.pop();
      this.#cancelled--;
      top = this.#heap.peek();
    }
    return top;
  }

  #sweep(): void {
    this.#heap = new TinyQueue(
      this.#heap.data.filter((timer) => timer.fire !== null),
      byDeadline,
    );
    this.#cancelled = 0;
  }
}

/** Cancelled timers tolerated before a sweep, whatever the heap's size. */
const MIN_SWEEP = 1024;
