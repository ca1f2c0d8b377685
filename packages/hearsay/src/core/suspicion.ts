/**
 * Lifeguard's suspicion timeout, as memberlist computes it. The timeout starts at the maximum
 * and shrinks logarithmically towards the minimum as independent confirmations arrive.
 */

/** The minimum timeout: suspicionMult × max(1, log10(n)) × probe interval (log to 1/1000). */
export function minSuspicionTimeout(suspicionMult: number, nodes: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, nodes)));
  return (suspicionMult * Math.floor(nodeScale * 1000) * probeIntervalMs) / 1000;
}

/** Confirmations expected before the timeout reaches its minimum (0 in tiny clusters). */
export function expectedConfirmations(suspicionMult: number, nodes: number): number {
  const k = suspicionMult - 2;
  return nodes - 2 < k ? 0 : k;
}

/** The timeout after `confirmations` independent confirmations, never below `min`. */
export function suspicionTimeout(min: number, max: number, expected: number, confirmations: number): number {
  if (expected < 1) return min;
  const fraction = Math.log(confirmations + 1) / Math.log(expected + 1);
  const raw = Math.floor(max - fraction * (max - min));
  return Math.max(min, raw);
}

/** One running suspicion of one member. */
export class Suspicion {
  readonly startedAt: number;
  readonly min: number;
  readonly max: number;
  readonly expected: number;
  readonly #confirmers = new Set<string>();

  constructor(startedAt: number, accuser: string, min: number, max: number, expected: number) {
    this.startedAt = startedAt;
    this.min = min;
    this.max = max;
    this.expected = expected;
    this.#confirmers.add(accuser);
  }

  get confirmations(): number {
    return this.#confirmers.size - 1;
  }

  /** The timeout with the confirmations so far (the first accuser is not a confirmation). */
  get timeout(): number {
    return suspicionTimeout(this.min, this.max, this.expected, this.confirmations);
  }

  get deadline(): number {
    return this.startedAt + this.timeout;
  }

  /** Counts a new independent accuser; false if it was already counted or no more are needed. */
  confirm(from: string): boolean {
    if (this.confirmations >= this.expected || this.#confirmers.has(from)) return false;
    this.#confirmers.add(from);
    return true;
  }
}
