import { FAILED, LEFT, type StatusCode } from './member-table.js';
import { TokenBucket } from './rate-limit.js';

/** A name's conflict is reported once per interval: the first report is the news, repeats would only be a flood. */
export const CONFLICT_REPORT_INTERVAL_MS = 10_000;
/** Conflict reports per second for all names together (also the burst): forged alives naming every member stay a trickle. */
const CONFLICT_REPORTS_PER_SECOND = 10;

/**
 * Whether a member listed in `status` since `since` may be taken at a new address: once it left,
 * or once it has been failed `reclaimAfterMs` (0: at once), it is the same member come back
 * elsewhere (a pod restarted with a new IP). memberlist takes a failed one only with a positive
 * DeadNodeReclaimTime, off by default, and otherwise calls it a conflict until the name is
 * forgotten. While the member is alive or suspect, another address claiming its name is a conflict.
 */
export function mayMove(status: StatusCode, since: number, now: number, reclaimAfterMs: number): boolean {
  return status === LEFT || (status === FAILED && (reclaimAfterMs <= 0 || now - since > reclaimAfterMs));
}

/**
 * Which name conflicts become `conflict` outputs: the first about a name in each interval,
 * within an overall rate. A forged alive costs nothing to send, and each would otherwise be an
 * output (and a log line, and for this node's own name a cluster-wide query). Remembers at most
 * `capacity` names (the member table's bound), dropping those whose interval is over first.
 */
export class ConflictReports {
  /** When each name was last reported, oldest first. */
  readonly #reportedAt = new Map<string, number>();
  readonly #overall: TokenBucket;
  readonly #capacity: number;

  constructor(capacity: number, now: number) {
    this.#capacity = capacity;
    this.#overall = new TokenBucket(CONFLICT_REPORTS_PER_SECOND, now);
  }

  /** Whether a conflict about `name` at `now` is to be reported (and is then counted as reported). */
  admit(name: string, now: number): boolean {
    const last = this.#reportedAt.get(name);
    if (last !== undefined && now - last < CONFLICT_REPORT_INTERVAL_MS) return false;
    if (!this.#overall.available(now)) return false;
    if (last === undefined && this.#reportedAt.size >= this.#capacity) {
      this.#forgetOver(now);
      if (this.#reportedAt.size >= this.#capacity) return false;
    }
    this.#overall.take();
    // Re-inserted so that the map stays oldest first.
    this.#reportedAt.delete(name);
    this.#reportedAt.set(name, now);
    return true;
  }

  #forgetOver(now: number): void {
    for (const [name, at] of this.#reportedAt) {
      if (now - at < CONFLICT_REPORT_INTERVAL_MS) return;
      this.#reportedAt.delete(name);
    }
  }
}
