import type { MemberProfile, Random } from './types.js';

/** Status codes in the table: the statuses' indexes in STATUSES (types.ts), memberlist's `NodeStateType`. */
export const ALIVE = 0;
export const SUSPECT = 1;
export const FAILED = 2;
export const LEFT = 3;
/** A status as the table stores it. */
export type StatusCode = typeof ALIVE | typeof SUSPECT | typeof FAILED | typeof LEFT;

/**
 * Interns member names and profiles as small integers. One registry can be shared by every
 * node of a simulation, so that a 10,000-node run keeps one copy of each name and profile and
 * each node's table is a handful of typed arrays rather than millions of objects.
 *
 * Tables count their references (`retain`/`release`): a name or profile no table holds any
 * more is freed and its id reused, so that a peer sending endless new profiles (an alive with
 * fresh meta each time) or new names cannot grow the registry past what the tables hold.
 */
export class Registry {
  readonly #nameIds = new Map<string, number>();
  readonly #names: (string | undefined)[] = [];
  /** A 32-bit hash per name id, for view digests. */
  readonly #nameHashes: number[] = [];
  readonly #nameRefs: number[] = [];
  readonly #freeNames: number[] = [];
  readonly #profileIds = new Map<MemberProfile, number>();
  readonly #profiles: (MemberProfile | undefined)[] = [];
  readonly #profileRefs: number[] = [];
  readonly #freeProfiles: number[] = [];

  /** The name ids handed out so far: arrays indexed by name id need this many entries. */
  get nameCount(): number {
    return this.#names.length;
  }

  /** Names and profiles held now. */
  get size(): { names: number; profiles: number } {
    return { names: this.#nameIds.size, profiles: this.#profileIds.size };
  }

  /** Interns a name; it stays until some table has retained it and the last one released it. */
  nameId(name: string): number {
    let id = this.#nameIds.get(name);
    if (id === undefined) {
      id = this.#freeNames.pop() ?? this.#names.length;
      this.#names[id] = name;
      this.#nameHashes[id] = fnv1a(name);
      this.#nameRefs[id] = 0;
      this.#nameIds.set(name, id);
    }
    return id;
  }

  /** The id of an interned name, or -1 if it is not interned. */
  findNameId(name: string): number {
    return this.#nameIds.get(name) ?? -1;
  }

  /** A 32-bit hash of the name interned as `id`. */
  nameHash(id: number): number {
    return this.#nameHashes[id]!;
  }

  /** The name interned as `id`. */
  name(id: number): string {
    return this.#names[id]!;
  }

  /** Counts one more table holding the name. */
  retainName(id: number): void {
    this.#nameRefs[id]!++;
  }

  /** Counts one table fewer holding the name; the last release frees it and its id. */
  releaseName(id: number): void {
    if (--this.#nameRefs[id]! > 0) return;
    this.#nameIds.delete(this.#names[id]!);
    this.#names[id] = undefined;
    this.#freeNames.push(id);
  }

  /** Interns by identity; callers reuse the id they hold when the content has not changed. */
  profileId(profile: MemberProfile): number {
    let id = this.#profileIds.get(profile);
    if (id === undefined) {
      id = this.#freeProfiles.pop() ?? this.#profiles.length;
      this.#profiles[id] = profile;
      this.#profileRefs[id] = 0;
      this.#profileIds.set(profile, id);
    }
    return id;
  }

  /** The profile interned as `id`. */
  profile(id: number): MemberProfile {
    return this.#profiles[id]!;
  }

  /** Counts one more table slot holding the profile. */
  retainProfile(id: number): void {
    this.#profileRefs[id]!++;
  }

  /** Counts one table slot fewer holding the profile; the last release frees it and its id. */
  releaseProfile(id: number): void {
    if (--this.#profileRefs[id]! > 0) return;
    this.#profileIds.delete(this.#profiles[id]!);
    this.#profiles[id] = undefined;
    this.#freeProfiles.push(id);
  }

  /**
   * Interned ids of a list of members, remembered per list: the simulator hands the same
   * snapshot to thousands of nodes. Remembered ids are checked before use, since an entry
   * every table has released since may have been freed and its id reused.
   */
  internAll(members: readonly { readonly profile: MemberProfile }[]): { nameIds: Uint32Array; profileIds: Uint32Array } {
    let ids = this.#interned.get(members);
    if (!ids) {
      ids = { nameIds: new Uint32Array(members.length), profileIds: new Uint32Array(members.length) };
      this.#interned.set(members, ids);
    }
    const { nameIds, profileIds } = ids;
    members.forEach(({ profile }, i) => {
      if (this.#names[nameIds[i]!] !== profile.name) nameIds[i] = this.nameId(profile.name);
      if (this.#profiles[profileIds[i]!] !== profile) profileIds[i] = this.profileId(profile);
    });
    return ids;
  }

  readonly #interned = new WeakMap<object, { nameIds: Uint32Array; profileIds: Uint32Array }>();
}

/**
 * One node's membership list: a list of slots (memberlist's `nodes` slice, whose order is the
 * probe order) in parallel typed arrays, plus an index from interned name to slot.
 */
export class MemberTable {
  /** Where the table's names and profiles are interned (shared by every node of a simulation). */
  readonly registry: Registry;
  #size = 0;
  #capacity = 0;
  #slotOfName = new Int32Array(0);
  #nameId = new Uint32Array(0);
  #profileId = new Uint32Array(0);
  #incarnation = new Uint32Array(0);
  #status = new Uint8Array(0);
  #since = new Float64Array(0);
  readonly #counts = [0, 0, 0, 0];
  /** The sum (mod 2^32) of the digest terms of the members listed alive or suspect; see `digest`. */
  #digest = 0;

  constructor(registry: Registry, initialCapacity = 8) {
    this.registry = registry;
    this.#grow(initialCapacity);
  }

  /** Members listed, whatever their status. */
  get size(): number {
    return this.#size;
  }

  /**
   * A digest of this view: which members are up (alive or suspect) at which incarnation, as a
   * sum of one term per member, kept as the table changes. Two nodes with the same members up at
   * the same incarnations have the same digest. Suspicion does not count: it is short-lived by
   * design and every node sees it at a different moment; failed and left members do not either,
   * since each node reaps its tombstones at its own time.
   */
  get digest(): number {
    return this.#digest;
  }

  /** How many members have this status. */
  count(status: StatusCode): number {
    return this.#counts[status]!;
  }

  /** The slot of the member with this interned name, or -1 if it is not listed. */
  slotOfNameId(nameId: number): number {
    return nameId < this.#slotOfName.length ? this.#slotOfName[nameId]! - 1 : -1;
  }

  /** The slot of the member called `name`, or -1 if it is not listed. */
  find(name: string): number {
    const id = this.registry.findNameId(name);
    return id < 0 ? -1 : this.slotOfNameId(id);
  }

  /** The interned name id of the member in `slot`. */
  nameIdAt(slot: number): number {
    return this.#nameId[slot]!;
  }
  /** The name of the member in `slot`. */
  nameAt(slot: number): string {
    return this.registry.name(this.#nameId[slot]!);
  }
  /** The interned profile id of the member in `slot`. */
  profileIdAt(slot: number): number {
    return this.#profileId[slot]!;
  }
  /** The profile of the member in `slot`. */
  profileAt(slot: number): MemberProfile {
    return this.registry.profile(this.#profileId[slot]!);
  }
  /** The incarnation of the member in `slot`. */
  incarnationAt(slot: number): number {
    return this.#incarnation[slot]!;
  }
  /** The status code of the member in `slot`. */
  statusAt(slot: number): StatusCode {
    return this.#status[slot] as StatusCode;
  }
  /** When (local ms) the member in `slot` entered its status. */
  sinceAt(slot: number): number {
    return this.#since[slot]!;
  }

  /** Replaces the profile of the member in `slot` by an interned one, moving the reference. */
  setProfile(slot: number, profileId: number): void {
    const old = this.#profileId[slot]!;
    if (old === profileId) return;
    this.registry.retainProfile(profileId);
    this.registry.releaseProfile(old);
    this.#profileId[slot] = profileId;
  }
  /** Sets the incarnation of the member in `slot`. */
  setIncarnation(slot: number, incarnation: number): void {
    if (isUp(this.#status[slot]!))
      this.#digest = (this.#digest - this.#term(slot) + digestTerm(this.registry.nameHash(this.#nameId[slot]!), incarnation)) >>> 0;
    this.#incarnation[slot] = incarnation;
  }
  /** Sets the status of the member in `slot`, entered at `since` (local ms). */
  setStatus(slot: number, status: StatusCode, since: number): void {
    const wasUp = isUp(this.#status[slot]!);
    if (wasUp !== isUp(status)) this.#digest = (wasUp ? this.#digest - this.#term(slot) : this.#digest + this.#term(slot)) >>> 0;
    this.#counts[this.#status[slot]!]!--;
    this.#counts[status]!++;
    this.#status[slot] = status;
    this.#since[slot] = since;
  }

  /** Makes room for `capacity` members at once. */
  reserve(capacity: number): void {
    if (capacity > this.#capacity) this.#grow(capacity);
    if (this.#slotOfName.length < this.registry.nameCount) {
      const index = new Int32Array(this.registry.nameCount);
      index.set(this.#slotOfName);
      this.#slotOfName = index;
    }
  }

  /** Appends a member, then swaps it to a random position, as memberlist does. */
  insert(nameId: number, profileId: number, incarnation: number, status: StatusCode, since: number, rng: Random): number {
    if (this.slotOfNameId(nameId) >= 0) throw new Error(`member ${this.registry.name(nameId)} already in table`);
    if (this.#size === this.#capacity) this.#grow(this.#capacity * 2);
    if (nameId >= this.#slotOfName.length) {
      const index = new Int32Array(Math.max(nameId + 1, this.registry.nameCount, this.#slotOfName.length * 2));
      index.set(this.#slotOfName);
      this.#slotOfName = index;
    }
    this.registry.retainName(nameId);
    this.registry.retainProfile(profileId);
    const slot = this.#size++;
    this.#nameId[slot] = nameId;
    this.#profileId[slot] = profileId;
    this.#incarnation[slot] = incarnation;
    this.#status[slot] = status;
    this.#since[slot] = since;
    this.#slotOfName[nameId] = slot + 1;
    this.#counts[status]!++;
    if (isUp(status)) this.#digest = (this.#digest + this.#term(slot)) >>> 0;
    const target = rng.int(this.#size);
    this.swap(slot, target);
    return target;
  }

  /** Removes a slot by moving the last one into it (the probe order is reshuffled anyway). */
  removeAt(slot: number): void {
    this.registry.releaseName(this.#nameId[slot]!);
    this.registry.releaseProfile(this.#profileId[slot]!);
    const last = this.#size - 1;
    if (isUp(this.#status[slot]!)) this.#digest = (this.#digest - this.#term(slot)) >>> 0;
    this.#counts[this.#status[slot]!]!--;
    this.#slotOfName[this.#nameId[slot]!] = 0;
    if (slot !== last) {
      this.#copy(last, slot);
      this.#slotOfName[this.#nameId[slot]!] = slot + 1;
    }
    this.#size = last;
  }

  /** Exchanges two slots (their place in the probe order). */
  swap(a: number, b: number): void {
    if (a === b) return;
    const nameId = this.#nameId[a]!;
    const profileId = this.#profileId[a]!;
    const incarnation = this.#incarnation[a]!;
    const status = this.#status[a]!;
    const since = this.#since[a]!;
    this.#copy(b, a);
    this.#nameId[b] = nameId;
    this.#profileId[b] = profileId;
    this.#incarnation[b] = incarnation;
    this.#status[b] = status;
    this.#since[b] = since;
    this.#slotOfName[this.#nameId[a]!] = a + 1;
    this.#slotOfName[nameId] = b + 1;
  }

  /** Fisher–Yates over the slots. */
  shuffle(rng: Random): void {
    for (let i = this.#size - 1; i > 0; i--) this.swap(i, rng.int(i + 1));
  }

  #term(slot: number): number {
    return digestTerm(this.registry.nameHash(this.#nameId[slot]!), this.#incarnation[slot]!);
  }

  #copy(from: number, to: number): void {
    this.#nameId[to] = this.#nameId[from]!;
    this.#profileId[to] = this.#profileId[from]!;
    this.#incarnation[to] = this.#incarnation[from]!;
    this.#status[to] = this.#status[from]!;
    this.#since[to] = this.#since[from]!;
  }

  #grow(capacity: number): void {
    const grow = <T extends Uint32Array | Uint8Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.#nameId = grow(this.#nameId, (n) => new Uint32Array(n));
    this.#profileId = grow(this.#profileId, (n) => new Uint32Array(n));
    this.#incarnation = grow(this.#incarnation, (n) => new Uint32Array(n));
    this.#status = grow(this.#status, (n) => new Uint8Array(n));
    this.#since = grow(this.#since, (n) => new Float64Array(n));
    this.#capacity = capacity;
  }
}

function isUp(status: number): boolean {
  return status === ALIVE || status === SUSPECT;
}

/** FNV-1a over the name's UTF-16 code units: cheap, and only compared between hearsay nodes. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** One member's term of a view digest: its name and incarnation mixed (murmur3's finaliser). */
function digestTerm(nameHash: number, incarnation: number): number {
  let h = (nameHash ^ Math.imul(incarnation, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
