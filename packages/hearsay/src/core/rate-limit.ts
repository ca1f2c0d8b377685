/**
 * A token bucket on the caller's clock: `rate` tokens a second, holding at most `rate` (a
 * one-second burst). Tokens may count messages, bytes or work: what a peer can make this node
 * spend is bounded whatever it sends.
 */
export class TokenBucket {
  readonly #rate: number;
  #tokens: number;
  #at: number;

  constructor(rate: number, now: number) {
    this.#rate = rate;
    this.#tokens = rate;
    this.#at = now;
  }

  /** Whether a token is available at `now` (without taking it). */
  available(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= 1;
  }

  /** Whether the bucket has refilled completely: it then remembers nothing worth keeping. */
  full(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.#rate;
  }

  take(): void {
    this.#tokens--;
  }

  /** Spends `amount` tokens, which may overdraw: the debt is paid back by waiting. */
  spend(amount: number): void {
    this.#tokens -= amount;
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#at) * this.#rate) / 1000);
      this.#at = now;
    }
  }
}

/** Per-key buckets with one overall bucket: a token is taken from both or from neither. */
export class KeyedRateLimit {
  readonly #rate: number;
  readonly #overall: TokenBucket;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #sweepAt: number;

  constructor(overallRate: number, perKeyRate: number, now: number) {
    this.#rate = perKeyRate;
    this.#overall = new TokenBucket(overallRate, now);
    this.#sweepAt = Math.max(1024, 4 * overallRate);
  }

  /**
   * Takes a token for `key` if both its bucket and the overall one have one. Buckets are made
   * only when a token is taken, so the ones not yet refilled are bounded by the overall rate
   * (about twice it); full ones are forgotten whenever the map outgrows four times it.
   */
  take(key: string, now: number): boolean {
    if (!this.#overall.available(now)) return false;
    let bucket = this.#buckets.get(key);
    if (bucket && !bucket.available(now)) return false;
    if (!bucket) {
      if (this.#buckets.size >= this.#sweepAt) this.#forgetFull(now);
      bucket = new TokenBucket(this.#rate, now);
      this.#buckets.set(key, bucket);
    }
    bucket.take();
    this.#overall.take();
    return true;
  }

  /** How many keys are remembered (for tests of the bound). */
  get size(): number {
    return this.#buckets.size;
  }

  #forgetFull(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.full(now)) this.#buckets.delete(key);
  }
}
