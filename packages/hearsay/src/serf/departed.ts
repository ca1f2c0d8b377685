import type { Address, Member, MemberEvent } from '../core/index.js';

/** A member that failed or left, as Serf keeps listing it until it is reaped. */
export interface DepartedMember extends Member {
  /** How it departed. */
  readonly status: 'failed' | 'left';
  /** Local time (ms) at which it is reaped: `since` + reconnectTimeoutMs (failed) or tombstoneTimeoutMs (left). */
  readonly reapAt: number;
}

/** What a `DepartedMembers` is built from. */
export interface DepartedMembersOptions {
  /** This node's name: it is never listed as departed. */
  readonly selfName: string;
  /** Entries held at most (the member table's bound, maxMembers). */
  readonly capacity: number;
  /** How long a failed member stays listed (Serf's ReconnectTimeout). */
  readonly reconnectTimeoutMs: number;
  /** How long a member that left stays listed (Serf's TombstoneTimeout). */
  readonly tombstoneTimeoutMs: number;
  /** Counts an entry evicted to make room, by reason. */
  readonly drop: (reason: string) => void;
}

/**
 * The members that failed or left, listed until Serf would reap them. memberlist (the core)
 * forgets them after gossipToTheDeadTimeMs (heartbeat detectors: cleanupAfterMs), while Serf
 * keeps failed members for reconnect_timeout and left ones for tombstone_timeout (24 h each).
 * The directory lives here, fed by the core's events, so that the core's push/pull state (and
 * every byte count built on it) stays memberlist's. Bounded by `capacity`: when full, the member
 * departed longest ago is evicted and counted (`departed-full`): a peer feeding forged members
 * that fail in turn would otherwise grow it for a whole day.
 */
export class DepartedMembers {
  readonly #options: DepartedMembersOptions;
  // One map per status, each in order of departure: its first entry is the next one it reaps.
  readonly #failed = new Map<string, DepartedMember>();
  readonly #left = new Map<string, DepartedMember>();

  constructor(options: DepartedMembersOptions) {
    this.#options = options;
  }

  /** Members listed, failed and left. */
  get size(): number {
    return this.#failed.size + this.#left.size;
  }

  /**
   * Takes a member event in. A member back (join, alive, update) leaves the directory; the
   * address it had departed from is returned when a join brings it back elsewhere: the core had
   * forgotten it, but it is the same member moved.
   */
  observe(event: MemberEvent): Address | undefined {
    const { member } = event;
    if (member.name === this.#options.selfName) return undefined;
    switch (event.type) {
      case 'failed':
      case 'left':
        this.#add(member, event.type, event.at);
        return undefined;
      case 'join':
      case 'alive':
      case 'update': {
        const departed = this.#take(member.name);
        const moved = departed !== undefined && (departed.host !== member.host || departed.port !== member.port);
        return event.type === 'join' && moved ? { host: departed.host, port: departed.port } : undefined;
      }
      case 'suspect':
        return undefined;
    }
  }

  /** When the next member is due to be reaped; Infinity when none is listed. */
  nextDeadline(): number {
    return Math.min(firstOf(this.#failed)?.reapAt ?? Infinity, firstOf(this.#left)?.reapAt ?? Infinity);
  }

  /** Removes and returns the members due by `now`, earliest first. */
  reap(now: number): DepartedMember[] {
    const reaped = [...dueIn(this.#failed, now), ...dueIn(this.#left, now)];
    return reaped.sort((a, b) => a.reapAt - b.reapAt);
  }

  /** A failed member forced to leave: listed as left from `at`, for tombstoneTimeoutMs. Returns it, or undefined when it is not listed as failed. */
  markLeft(name: string, at: number): DepartedMember | undefined {
    const failed = this.#failed.get(name);
    if (!failed) return undefined;
    this.#add(failed, 'left', at);
    return this.#left.get(name);
  }

  /** Removes a member at once (a pruned one); returns it, or undefined when it is not listed. */
  remove(name: string): DepartedMember | undefined {
    return this.#take(name);
  }

  /** The member listed under `name`, if any. */
  get(name: string): DepartedMember | undefined {
    return this.#failed.get(name) ?? this.#left.get(name);
  }

  /** Every member listed, failed ones first, each group in order of departure. */
  list(): DepartedMember[] {
    return [...this.#failed.values(), ...this.#left.values()];
  }

  #add(member: Member, status: 'failed' | 'left', at: number): void {
    this.#take(member.name);
    if (this.size >= this.#options.capacity) this.#evictOldest();
    const timeout = status === 'failed' ? this.#options.reconnectTimeoutMs : this.#options.tombstoneTimeoutMs;
    (status === 'failed' ? this.#failed : this.#left).set(member.name, { ...member, status, since: at, reapAt: at + timeout });
  }

  #take(name: string): DepartedMember | undefined {
    const departed = this.get(name);
    this.#failed.delete(name);
    this.#left.delete(name);
    return departed;
  }

  #evictOldest(): void {
    const failed = firstOf(this.#failed);
    const left = firstOf(this.#left);
    const oldest = failed && (!left || failed.since <= left.since) ? failed : left;
    if (!oldest) return;
    this.#take(oldest.name);
    this.#options.drop('departed-full');
  }
}

function firstOf(map: Map<string, DepartedMember>): DepartedMember | undefined {
  return map.values().next().value;
}

function* dueIn(map: Map<string, DepartedMember>, now: number): Generator<DepartedMember> {
  for (const [name, member] of map) {
    if (member.reapAt > now) return;
    map.delete(name);
    yield member;
  }
}
