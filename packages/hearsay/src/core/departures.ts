import { isNewer } from './serial.js';

interface Departure {
  readonly incarnation: number;
  readonly at: number;
}

/**
 * Members forgotten after they left, remembered by name and last incarnation for
 * `departedMemoryMs`. Once a tombstone is reaped, memberlist takes any alive for the name as a
 * new member, so a captured packet re-sent later (encryption does not stop a replay) brings a
 * departed member back; an alive that does not outbid the remembered incarnation is refused
 * instead. Failed members are not remembered: after a partition heals they come back at the
 * incarnation they had. Bounded by count (the oldest departure goes first) and by age.
 */
export class Departures {
  readonly #byName = new Map<string, Departure>();
  readonly #capacity: number;
  readonly #memoryMs: number;

  constructor(capacity: number, memoryMs: number) {
    this.#capacity = capacity;
    this.#memoryMs = memoryMs;
  }

  get size(): number {
    return this.#byName.size;
  }

  remember(name: string, incarnation: number, now: number): void {
    if (this.#memoryMs <= 0) return;
    // Re-inserted so that the map stays in order of departure: expiry and eviction take the front.
    this.#byName.delete(name);
    this.#byName.set(name, { incarnation, at: now });
    this.#expire(now);
    if (this.#byName.size > this.#capacity) this.#byName.delete(this.#byName.keys().next().value!);
  }

  /**
   * The remembered incarnation when an alive at `incarnation` does not outbid the departure (a
   * replay or a stale rumour); undefined when it may come back, and the departure is then forgotten.
   */
  refusal(name: string, incarnation: number, now: number): number | undefined {
    this.#expire(now);
    const departure = this.#byName.get(name);
    if (!departure) return undefined;
    if (isNewer(incarnation, departure.incarnation)) {
      this.#byName.delete(name);
      return undefined;
    }
    return departure.incarnation;
  }

  #expire(now: number): void {
    for (const [name, departure] of this.#byName) {
      if (now - departure.at <= this.#memoryMs) return;
      this.#byName.delete(name);
    }
  }
}
