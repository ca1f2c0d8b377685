import type { Address } from '../core/index.js';
import { canonicalHost, decodeSerfConflictResponse } from '../wire/index.js';
import type { QueryCollector } from './queries.js';

/** The internal query Serf asks when another node claims this node's name. */
export const CONFLICT_QUERY = '_serf_conflict';

/** The count of a `_serf_conflict` query's answers, and whether this node may keep its name. */
export interface ConflictTally {
  /** Answers naming this node's own address as the holder of its name. */
  readonly matching: number;
  /** Answers counted: one per responder, a nil answer (name unknown there) included, malformed ones not. */
  readonly total: number;
  /** Whether this node holds a majority (matching > total / 2) and keeps running; otherwise it must shut down. */
  readonly keep: boolean;
}

/** One answer to a query, as a collector hears it. */
export interface ConflictAnswer {
  /** The responder's name. */
  readonly from: string;
  /** Its answer: `06 + Member`, or `06 + nil`. */
  readonly payload: Uint8Array;
}

/**
 * Serf's resolveNodeConflict count: each responder's first answer counts (Serf keeps one per
 * responder; a malformed one takes the place without being counted); it matches when the member
 * it describes is at `self`'s address and port (IPs compared as Go's net.IP.Equal, so an IPv4
 * address equals its v4-mapped form). Serf keeps running only with matching ≥ ⌊total / 2⌋ + 1:
 * no answer at all, or a tie, shuts it down.
 */
export function tallyConflictAnswers(self: Address, answers: Iterable<ConflictAnswer>): ConflictTally {
  const selfHost = comparableHost(self.host);
  const counted = new Set<string>();
  let matching = 0;
  let total = 0;
  for (const { from, payload } of answers) {
    if (counted.has(from)) continue;
    counted.add(from);
    let holder: ReturnType<typeof decodeSerfConflictResponse>;
    try {
      holder = decodeSerfConflictResponse(payload);
    } catch {
      continue;
    }
    total++;
    if (holder && holder.host !== '' && holder.port === self.port && comparableHost(holder.host) === selfHost) matching++;
  }
  return { matching, total, keep: matching >= Math.floor(total / 2) + 1 };
}

/** Collects the answers to a `_serf_conflict` query this node asked: each responder's first (acks are not votes). */
export class ConflictAnswers implements QueryCollector {
  readonly #answers = new Map<string, Uint8Array>();

  onAck(): void {}

  onResponse(from: string, payload: Uint8Array): void {
    if (!this.#answers.has(from)) this.#answers.set(from, payload);
  }

  /** The tally of the answers heard so far, for the node at `self`. */
  tally(self: Address): ConflictTally {
    return tallyConflictAnswers(
      self,
      Array.from(this.#answers, ([from, payload]) => ({ from, payload })),
    );
  }
}

/** A host in the form Go's net.IP.Equal compares: v4-mapped IPv6 as plain IPv4. */
function comparableHost(host: string): string {
  const canonical = canonicalHost(host);
  return canonical.startsWith('::ffff:') && canonical.includes('.') ? canonical.slice('::ffff:'.length) : canonical;
}
