const UINT64 = 1n << 64n;

/**
 * Serf's LamportClock, exactly: a Go uint64 that wraps at 2^64. Witnessing a time not older than
 * the clock moves the clock one past it (so a witnessed 2^64 − 1 wraps it to 0, as in Go).
 */
export class LamportClock {
  // Serf starts its clocks at 1, so that no message of its own carries LTime 0.
  #time = 1n;

  /** The clock's current time. */
  get time(): bigint {
    return this.#time;
  }

  /** The last time this clock has seen (its time − 1, wrapping as Go's uint64): what Serf's snapshot saves. */
  get lastSeen(): bigint {
    return (this.#time + UINT64 - 1n) % UINT64;
  }

  /** Moves the clock on one tick and returns the time before it (Serf's Increment). */
  increment(): bigint {
    this.#time = (this.#time + 1n) % UINT64;
    return this.#time;
  }

  /** Takes in a time seen in a message: the clock moves past it if it was not already. */
  witness(ltime: bigint): void {
    if (ltime >= this.#time) this.#time = (ltime + 1n) % UINT64;
  }

  /** The time a new message carries: the current time, then one tick (Serf's `Time()` then `Increment()`). */
  stamp(): bigint {
    const ltime = this.#time;
    this.increment();
    return ltime;
  }
}

/** Serf's rule for a message too old to remember: more than a buffer's length behind the clock (uint64 order, as Go compares). */
export function tooOld(ltime: bigint, clock: bigint, buffer: number): boolean {
  const span = BigInt(buffer);
  return clock > span && ltime < clock - span;
}
