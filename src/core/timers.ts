import TinyQueue from 'tinyqueue';

interface Timer {
  at: number;
  order: number;
  fire: (() => void) | null;
}

export type TimerHandle = Timer;

/**
 * A node's own deadlines, kept in a binary heap. The driver only ever learns the earliest one
 * (`nextDeadline`) and calls back when it is reached; cancelled timers are skipped lazily.
 */
export class Timers {
  readonly #heap = new TinyQueue<Timer>([], (a, b) => a.at - b.at || a.order - b.order);
  #order = 0;

  schedule(at: number, fire: () => void): TimerHandle {
    const timer: Timer = { at, order: this.#order++, fire };
    this.#heap.push(timer);
    return timer;
  }

  cancel(handle: TimerHandle | undefined): void {
    if (handle) handle.fire = null;
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
  }

  #peekLive(): Timer | undefined {
    let top = this.#heap.peek();
    while (top && top.fire === null) {
      this.#heap.pop();
      top = this.#heap.peek();
    }
    return top;
  }
}
