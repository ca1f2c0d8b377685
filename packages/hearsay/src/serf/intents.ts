/**
 * The newest leave intent seen for each member (Serf's per-member statusLTime, for leaves): an
 * intent is acted on and gossiped on only when it is newer than the last one about the same
 * member, so that every node passes it on once and the gossip dies out.
 */
export class LeaveIntents {
  readonly #latest = new Map<string, bigint>();
  readonly #capacity: number;
  readonly #drop: (reason: string) => void;

  /**
   * Remembers up to `capacity` members (intents are taken only about listed members: the member
   * table's bound); past it the oldest is forgotten, and a repeat of it is gossiped once more.
   */
  constructor(capacity: number, drop: (reason: string) => void) {
    this.#capacity = capacity;
    this.#drop = drop;
  }

  /** Records an intent about `node` at `ltime`; true when it is newer than any seen about that member. */
  admit(node: string, ltime: bigint): boolean {
    const latest = this.#latest.get(node);
    if (latest !== undefined && ltime <= latest) return false;
    this.#latest.delete(node);
    if (this.#latest.size >= this.#capacity) {
      this.#latest.delete(this.#latest.keys().next().value!);
      this.#drop('intents-full');
    }
    this.#latest.set(node, ltime);
    return true;
  }
}
