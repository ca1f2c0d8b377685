/**
 * What this node knows of its peers' membership views: the digest each sent last (in its pings
 * and acks, see MemberTable.digest), to tell a cluster whose members agree from one whose views
 * have split. Bounded by the members the table may hold.
 */
export interface ViewSummary {
  /** This node's own digest. */
  readonly digest: number;
  /** Distinct digests among this node's and its peers' heard within the window. */
  readonly distinct: number;
  /** Peers heard within the window whose digest equals this node's, and those whose does not. */
  readonly agreeing: number;
  /** The names of the peers whose digest differs. */
  readonly differing: readonly string[];
}

/** Peer digests older than this many probe intervals no longer count. */
export const VIEW_WINDOW_PROBES = 10;

export class PeerViews {
  readonly #maxPeers: number;
  readonly #latest = new Map<string, { digest: number; at: number }>();

  constructor(maxPeers: number) {
    this.#maxPeers = maxPeers;
  }

  observe(peer: string, digest: number, now: number): void {
    this.#latest.delete(peer);
    this.#latest.set(peer, { digest, at: now });
    if (this.#latest.size > this.#maxPeers) this.#latest.delete(this.#latest.keys().next().value!);
  }

  forget(peer: string): void {
    this.#latest.delete(peer);
  }

  summary(own: number, now: number, windowMs: number): ViewSummary {
    const digests = new Set([own]);
    let agreeing = 0;
    const differing: string[] = [];
    for (const [peer, { digest, at }] of this.#latest) {
      if (now - at > windowMs) continue;
      digests.add(digest);
      if (digest === own) agreeing++;
      else differing.push(peer);
    }
    return { digest: own, distinct: digests.size, agreeing, differing };
  }
}
