/**
 * The phi accrual failure detector (Hayashibara et al. 2004) as Akka implements it: a window of
 * heartbeat inter-arrival times, fitted with a normal distribution, gives the suspicion level
 * phi = −log10(1 − F(time since the last heartbeat)). A member is judged unavailable when phi
 * passes a threshold (8 by default, as in Akka and Cassandra: roughly a 1e−8 chance that the
 * heartbeat is only late). Pure: the caller supplies every time.
 */
export interface PhiAccrualOptions {
  /** Level of phi above which a member is judged unavailable. */
  threshold: number;
  /** Inter-arrival samples kept. */
  maxSamples: number;
  /** Floor of the standard deviation, so that a very regular history does not make phi jumpy. */
  minStdDeviationMs: number;
  /** Added to the mean: pauses this long (GC, a busy network) are not yet suspicious. */
  acceptablePauseMs: number;
  /** Assumed interval before any sample exists; the history starts at this ± a quarter. */
  firstHeartbeatEstimateMs: number;
}

/** Akka's defaults: threshold 8, 1000 samples, 100 ms deviation floor, 3 s acceptable pause, 1 s first estimate. */
export const PHI_DEFAULTS: Readonly<PhiAccrualOptions> = {
  threshold: 8,
  maxSamples: 1000,
  minStdDeviationMs: 100,
  acceptablePauseMs: 3000,
  firstHeartbeatEstimateMs: 1000,
};

/** One monitored member's phi accrual detector: feed it heartbeat times, ask it for phi. Options default to `PHI_DEFAULTS`. */
export class PhiAccrual {
  readonly #options: PhiAccrualOptions;
  readonly #samples: number[] = [];
  #sum = 0;
  #squares = 0;
  #last: number | undefined;

  constructor(options: Partial<PhiAccrualOptions> = {}) {
    this.#options = { ...PHI_DEFAULTS, ...options };
  }

  /** The number of inter-arrival samples in the window. */
  get samples(): number {
    return this.#samples.length;
  }

  /** Records a heartbeat arriving at `now`. */
  heartbeat(now: number): void {
    if (this.#last === undefined) {
      // Akka's bootstrap: two samples around the estimate, so phi is defined from the start.
      const estimate = this.#options.firstHeartbeatEstimateMs;
      this.#add(estimate - estimate / 4);
      this.#add(estimate + estimate / 4);
    } else {
      this.#add(now - this.#last);
    }
    this.#last = now;
  }

  /** The suspicion level at `now`; 0 before the first heartbeat. */
  phi(now: number): number {
    if (this.#last === undefined) return 0;
    const n = this.#samples.length;
    const mean = this.#sum / n;
    const variance = Math.max(0, this.#squares / n - mean * mean);
    const stdDeviation = Math.max(Math.sqrt(variance), this.#options.minStdDeviationMs);
    return phiOf(now - this.#last, mean + this.#options.acceptablePauseMs, stdDeviation);
  }

  /**
   * The silence (ms since the last heartbeat) at which phi reaches `threshold`, in closed form;
   * Infinity before the first heartbeat.
   */
  silenceToReach(threshold: number): number {
    if (this.#last === undefined) return Infinity;
    const n = this.#samples.length;
    const mean = this.#sum / n;
    const variance = Math.max(0, this.#squares / n - mean * mean);
    const stdDeviation = Math.max(Math.sqrt(variance), this.#options.minStdDeviationMs);
    return Math.max(0, elapsedForPhi(threshold, mean + this.#options.acceptablePauseMs, stdDeviation));
  }

  /** Whether phi at `now` is still below the threshold. */
  isAvailable(now: number): boolean {
    return this.phi(now) < this.#options.threshold;
  }

  #add(interval: number): void {
    this.#samples.push(interval);
    this.#sum += interval;
    this.#squares += interval * interval;
    if (this.#samples.length > this.#options.maxSamples) {
      const dropped = this.#samples.shift()!;
      this.#sum -= dropped;
      this.#squares -= dropped * dropped;
    }
  }
}

/**
 * −log10(1 − F(elapsed)) for a normal distribution, with Akka's logistic approximation of its
 * cumulative distribution (error below 1e−4), evaluated on the side that keeps precision.
 */
export function phiOf(elapsedMs: number, meanMs: number, stdDeviationMs: number): number {
  const y = (elapsedMs - meanMs) / stdDeviationMs;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  return elapsedMs > meanMs ? -Math.log10(e / (1 + e)) : Math.max(0, -Math.log10(1 - 1 / (1 + e)));
}

/**
 * The inverse of `phiOf`: phi = θ means e/(1+e) = 10^−θ, that is y·(1.5976 + 0.070566·y²) =
 * ln(10^θ − 1), a cubic with one real root (its slope is positive everywhere), found by
 * Cardano's formula.
 */
export function elapsedForPhi(threshold: number, meanMs: number, stdDeviationMs: number): number {
  const a = 0.070566;
  const b = 1.5976;
  const target = Math.log(Math.expm1(threshold * Math.LN10));
  const p = b / a;
  const q = -target / a;
  const root = Math.sqrt((q * q) / 4 + (p * p * p) / 27);
  const y = Math.cbrt(-q / 2 + root) + Math.cbrt(-q / 2 - root);
  return meanMs + y * stdDeviationMs;
}
