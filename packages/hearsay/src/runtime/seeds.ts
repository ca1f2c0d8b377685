/**
 * When a node isolated from its cluster tries its seeds again (memberlist #222: after a network
 * blip, a node that declared every other member failed stays alone forever). Pure: the caller
 * ticks it with the time and whether the node is alone, and does the lookups and the join.
 */
export class SeedRetryPolicy {
  readonly #intervalMs: number;
  readonly #seeds: string[] = [];
  #running = false;
  #lastStart = Number.NEGATIVE_INFINITY;
  #stopped = false;

  /** `intervalMs` between two attempts; 0 never retries. */
  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** The seed entries, as given (names, not addresses), in the order first given. */
  get seeds(): readonly string[] {
    return this.#seeds;
  }

  /** Keeps the entries of a join for later attempts (each once). */
  remember(entries: readonly string[]): void {
    for (const entry of entries) if (!this.#seeds.includes(entry)) this.#seeds.push(entry);
  }

  /**
   * Whether to resolve the seeds and join them now: only with seeds to try, while the node is
   * alone, one attempt at a time, at most one start per interval. A `true` counts as a start.
   */
  due(now: number, alone: boolean): boolean {
    if (this.#stopped || this.#intervalMs <= 0 || this.#seeds.length === 0 || !alone || this.#running) return false;
    if (now - this.#lastStart < this.#intervalMs) return false;
    this.#running = true;
    this.#lastStart = now;
    return true;
  }

  /** The attempt `due` started has ended, however it went. */
  finished(): void {
    this.#running = false;
  }

  /** No attempt ever again: the node left the cluster on purpose, or shut down. */
  stop(): void {
    this.#stopped = true;
  }
}
