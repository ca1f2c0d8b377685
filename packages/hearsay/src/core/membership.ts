import { ConflictReports, mayMove } from './conflicts.js';
import type { NodeContext } from './context.js';
import { Departures } from './departures.js';
import { HearsayError } from './errors.js';
import { ALIVE, FAILED, LEFT, SUSPECT, type StatusCode } from './member-table.js';
import { TokenBucket } from './rate-limit.js';
import { isAtLeast, isNewer, nextIncarnation } from './serial.js';
import { firedLate, STALL_GRACE_MS } from './stall.js';
import { expectedConfirmations, minSuspicionTimeout, Suspicion } from './suspicion.js';
import type { TimerHandle } from './timers.js';
import {
  MAX_META_BYTES,
  MAX_NAME_LENGTH,
  STATUSES,
  type AliveMessage,
  type DeadMessage,
  type Member,
  type MemberEventType,
  type MemberProfile,
  type SuspectMessage,
} from './types.js';
import { validVersions } from './versions.js';

interface RunningSuspicion {
  readonly suspicion: Suspicion;
  timer: TimerHandle;
}

/**
 * The membership rules: how alive, suspect and dead updates change the table (memberlist's
 * precedence by incarnation, compared as serial numbers: see serial.ts), Lifeguard suspicion
 * timers, refutation of rumours about this node, and the events the application sees. Every
 * accepted change is re-broadcast.
 */
export class Membership {
  readonly #ctx: NodeContext;
  readonly #selfNameId: number;
  readonly #suspicions = new Map<number, RunningSuspicion>();
  readonly #departures: Departures;
  /** Tombstones sent back to refused alives: a forged alive must not make this node a reflector. */
  readonly #tombstoneReplies: TokenBucket;
  readonly #conflicts: ConflictReports;
  #profile: MemberProfile;
  #incarnation: number;
  #leaving = false;
  #localVerdicts = false;
  #onLeaveSent: (() => void) | undefined;

  constructor(ctx: NodeContext, profile: MemberProfile, incarnation: number) {
    this.#ctx = ctx;
    this.#profile = profile;
    this.#incarnation = incarnation;
    this.#departures = new Departures(ctx.config.maxMembers, ctx.config.departedMemoryMs);
    this.#tombstoneReplies = new TokenBucket(ctx.config.relayRate, ctx.now);
    this.#conflicts = new ConflictReports(ctx.config.maxMembers, ctx.now);
    const registry = ctx.table.registry;
    this.#selfNameId = registry.nameId(profile.name);
    ctx.table.insert(this.#selfNameId, registry.profileId(profile), incarnation, ALIVE, ctx.now, ctx.rng);
    this.#event('join', this.#selfSlot());
    ctx.broadcast(profile.name, this.#selfAlive());
  }

  get incarnation(): number {
    return this.#incarnation;
  }

  get profile(): MemberProfile {
    return this.#profile;
  }

  get leaving(): boolean {
    return this.#leaving;
  }

  /**
   * For the heartbeat detector, where each node judges for itself: suspect and dead rumours
   * (gossiped, or pushed as suspect/failed records) are ignored; graceful leaves still apply.
   */
  useLocalVerdicts(on: boolean): void {
    if (on === this.#localVerdicts) return;
    this.#localVerdicts = on;
    const ctx = this.#ctx;
    if (on) {
      // Running SWIM suspicions end; the heartbeat detector judges suspects afresh.
      for (const [nameId, running] of this.#suspicions) {
        ctx.timers.cancel(running.timer);
        ctx.verdicts.dropped(ctx.table.registry.name(nameId), 'the heartbeat detector took over', ctx.now);
      }
      this.#suspicions.clear();
      return;
    }
    // Back to SWIM: members suspected locally become SWIM suspicions of this node, told to the
    // cluster, so that a live one refutes and a dead one fails after the suspicion timeout.
    const { table } = ctx;
    for (let slot = 0; slot < table.size; slot++) {
      if (table.statusAt(slot) !== SUSPECT) continue;
      this.#suspect(slot, { type: 'suspect', node: table.nameAt(slot), incarnation: table.incarnationAt(slot), from: ctx.selfName });
    }
  }

  /**
   * Sets a member's status from a local verdict, with its event, and tells no one. `silentForMs`:
   * how long its heartbeat had not risen (the evidence of a suspicion).
   */
  setVerdict(slot: number, status: StatusCode, event: MemberEventType, silentForMs = 0): void {
    const ctx = this.#ctx;
    const { table, verdicts, selfName, now } = ctx;
    const name = table.nameAt(slot);
    const incarnation = table.incarnationAt(slot);
    if (status === SUSPECT) {
      ctx.stats.suspicionsRaised++;
      verdicts.noteEvidence(name, { silentForMs });
      verdicts.suspected({ member: name, incarnation, accuser: selfName, own: true, healthScore: ctx.awareness.score, timeout: null, at: now });
    }
    if (status === FAILED) {
      ctx.stats.failuresDeclared++;
      verdicts.failed(name, incarnation, selfName, now, ctx.awareness.score);
    }
    if (status === ALIVE && table.statusAt(slot) === SUSPECT) verdicts.refuted(name, incarnation, now);
    table.setStatus(slot, status, now);
    this.#event(event, slot);
  }

  /** Drops a member from the table (a tombstone whose time is up), silently; see NodeContext.forget. */
  forget(slot: number): void {
    const ctx = this.#ctx;
    const { table, now } = ctx;
    const name = table.nameAt(slot);
    // Only members that left: a failed one is expected back at its incarnation after a partition heals.
    if (table.statusAt(slot) === LEFT) this.#departures.remember(name, table.incarnationAt(slot), now);
    if (this.#stopSuspicion(table.nameIdAt(slot))) ctx.verdicts.dropped(name, 'forgotten', now);
    ctx.views.forget(name);
    const degraded = ctx.verdicts.forget(name);
    if (degraded) ctx.emit({ kind: 'degraded', ...degraded });
    table.removeAt(slot);
  }

  /**
   * An alive for a member forgotten after it left, no newer than its last incarnation:
   * a replayed packet, or a memberlist node restarted at a low incarnation. The departure is
   * sent to the alive's address, as memberlist would gossip its tombstone: a restarted node
   * refutes it with a higher incarnation and comes back; a replay goes nowhere.
   */
  #refuseDeparted(profile: MemberProfile, incarnation: number): boolean {
    const ctx = this.#ctx;
    const departed = this.#departures.refusal(profile.name, incarnation, ctx.now);
    if (departed === undefined) return false;
    ctx.drop('departed-alive');
    if (this.#tombstoneReplies.available(ctx.now)) {
      this.#tombstoneReplies.take();
      ctx.sendPacket({ host: profile.host, port: profile.port }, [{ type: 'dead', node: profile.name, incarnation: departed, from: ctx.selfName }], false);
    }
    return true;
  }

  /** Adds members known from elsewhere (a snapshot) as alive, without events or gossip. */
  preload(members: readonly { readonly profile: MemberProfile; readonly incarnation: number }[]): void {
    const { table, now, rng } = this.#ctx;
    const { nameIds, profileIds } = table.registry.internAll(members);
    table.reserve(table.size + members.length);
    for (let i = 0; i < members.length; i++) {
      if (table.slotOfNameId(nameIds[i]!) >= 0) continue;
      table.insert(nameIds[i]!, profileIds[i]!, members[i]!.incarnation, ALIVE, now, rng);
    }
  }

  member(slot: number): Member {
    const { table } = this.#ctx;
    const profile = table.profileAt(slot);
    return {
      name: profile.name,
      host: profile.host,
      port: profile.port,
      meta: profile.meta,
      vsn: profile.vsn,
      incarnation: table.incarnationAt(slot),
      status: STATUSES[table.statusAt(slot)],
      since: table.sinceAt(slot),
    };
  }

  /**
   * Applies an alive update; `message` is built only when the update is news. The first check
   * is a fast path for push/pull, where most records repeat what the table already holds.
   */
  onAlive(profile: MemberProfile, incarnation: number, message?: AliveMessage): void {
    const ctx = this.#ctx;
    const { table } = ctx;
    const known = table.find(profile.name);
    if (known >= 0 && table.profileAt(known) === profile && !isNewer(incarnation, table.incarnationAt(known)) && profile.name !== ctx.selfName) {
      return;
    }
    const isSelf = profile.name === ctx.selfName;
    if (isSelf && this.#leaving) return;
    if (!validVersions(profile.vsn)) {
      this.#ignore(`alive for ${profile.name} with invalid protocol versions`);
      return;
    }
    // memberlist refuses meta over its MetaMaxSize when the local delegate sets it, but takes and
    // spreads any size from peers; names have no limit there at all.
    if (profile.meta.length > MAX_META_BYTES) {
      ctx.drop('meta-too-large');
      return;
    }
    if (profile.name.length > MAX_NAME_LENGTH) {
      ctx.drop('name-too-long');
      return;
    }
    const slot = known;
    message ??= { type: 'alive', incarnation, profile };
    if (slot < 0) {
      // memberlist keeps an unknown member announced at incarnation 0 as a dead placeholder;
      // nothing can be learned from it, so it is ignored.
      if (incarnation === 0 || this.#refuseDeparted(profile, incarnation) || !ctx.admitMember()) return;
      const nameId = table.registry.nameId(profile.name);
      const newSlot = table.insert(nameId, table.registry.profileId(profile), incarnation, ALIVE, ctx.now, ctx.rng);
      ctx.broadcast(profile.name, message);
      this.#event('join', newSlot);
      return;
    }

    const current = table.profileAt(slot);
    const status = table.statusAt(slot);
    const moved = current.host !== profile.host || current.port !== profile.port;
    if (moved && !mayMove(status, table.sinceAt(slot), ctx.now, ctx.config.deadNodeReclaimTimeMs)) {
      this.#conflict(current, profile);
      return;
    }
    const knownIncarnation = table.incarnationAt(slot);
    if (isSelf) {
      if (!isAtLeast(incarnation, this.#incarnation)) return;
      if (incarnation === this.#incarnation && sameBytes(profile.meta, this.#profile.meta) && sameBytes(profile.vsn, this.#profile.vsn)) return;
      this.#refute(incarnation);
      return;
    }
    if (!isNewer(incarnation, knownIncarnation) && !moved) return;

    this.#stopSuspicion(table.nameIdAt(slot));
    ctx.broadcast(profile.name, message);
    const metaChanged = !sameBytes(current.meta, profile.meta);
    if (moved || metaChanged || current.vsn.length !== profile.vsn.length || !sameBytes(current.vsn, profile.vsn)) {
      table.setProfile(slot, table.registry.profileId(profile));
    }
    table.setIncarnation(slot, incarnation);
    if (status !== ALIVE) table.setStatus(slot, ALIVE, ctx.now);
    if (status === SUSPECT) ctx.verdicts.refuted(profile.name, incarnation, ctx.now);
    if (status === FAILED || status === LEFT) {
      ctx.verdicts.returned(profile.name, ctx.now);
      // Back at a new address, it is the same member moved (a restart with a new IP): an update.
      this.#event(moved ? 'update' : 'join', slot);
      return;
    }
    if (status === SUSPECT) this.#event('alive', slot);
    if (metaChanged) this.#event('update', slot);
  }

  onSuspect(message: SuspectMessage): void {
    const slot = this.#rumourSlot(message, this.#localVerdicts);
    if (slot < 0) return;
    const ctx = this.#ctx;
    const { table } = ctx;
    const nameId = table.nameIdAt(slot);
    const running = this.#suspicions.get(nameId);
    if (running) {
      if (running.suspicion.confirm(message.from)) {
        ctx.broadcast(message.node, message);
        this.#reschedule(nameId, running);
        ctx.verdicts.confirmed(message.node, { from: message.from, at: ctx.now, deadline: running.suspicion.deadline }, message.from === ctx.selfName);
      }
      ctx.verdicts.discardEvidence(message.node);
      return;
    }
    if (table.statusAt(slot) !== ALIVE) return;
    if (message.node === ctx.selfName) {
      this.#refute(message.incarnation);
      return;
    }

    ctx.stats.suspicionsRaised++;
    this.#suspect(slot, message);
  }

  /** Marks a member suspect (with its event when it was alive) and starts its suspicion timer. */
  #suspect(slot: number, message: SuspectMessage): void {
    const ctx = this.#ctx;
    const { table } = ctx;
    const nameId = table.nameIdAt(slot);
    ctx.broadcast(message.node, message);
    table.setIncarnation(slot, message.incarnation);
    const wasAlive = table.statusAt(slot) === ALIVE;
    table.setStatus(slot, SUSPECT, ctx.now);
    if (wasAlive) this.#event('suspect', slot);

    const nodes = table.size;
    const min = minSuspicionTimeout(ctx.config.suspicionMult, nodes, ctx.config.probeIntervalMs);
    const max = ctx.config.suspicionMaxTimeoutMult * min;
    const expected = expectedConfirmations(ctx.config.suspicionMult, nodes);
    const suspicion = new Suspicion(ctx.now, message.from, min, max, expected);
    ctx.verdicts.suspected({
      member: message.node,
      incarnation: message.incarnation,
      accuser: message.from,
      own: message.from === ctx.selfName,
      healthScore: ctx.awareness.score,
      timeout: { minMs: min, maxMs: max, confirmationsExpected: expected },
      at: ctx.now,
    });
    const entry: RunningSuspicion = { suspicion, timer: undefined as unknown as TimerHandle };
    this.#suspicions.set(nameId, entry);
    this.#reschedule(nameId, entry);
  }

  onDead(message: DeadMessage): void {
    // Under local verdicts a graceful leave (a dead from the member itself) still applies.
    const slot = this.#rumourSlot(message, this.#localVerdicts && message.from !== message.node);
    if (slot < 0) return;
    const ctx = this.#ctx;
    const { table } = ctx;
    this.#stopSuspicion(table.nameIdAt(slot));
    const status = table.statusAt(slot);
    const leaving = message.from === message.node;
    // A failed member that is known elsewhere to have left (a forced leave, pushed as `left` by a
    // peer that heard the intent this node missed) has left here too; memberlist keeps it dead.
    if (status === FAILED && leaving && message.node !== ctx.selfName) {
      ctx.verdicts.left(message.node, message.incarnation, message.from, ctx.now, ctx.awareness.score);
      table.setStatus(slot, LEFT, ctx.now);
      this.#event('left', slot);
      return;
    }
    if (status === FAILED || status === LEFT) return;

    const isSelf = message.node === ctx.selfName;
    if (isSelf && !this.#leaving) {
      this.#refute(message.incarnation);
      return;
    }
    ctx.broadcast(message.node, message, isSelf ? this.#onLeaveSent : undefined);
    if (!isSelf) {
      if (leaving) ctx.verdicts.left(message.node, message.incarnation, message.from, ctx.now, ctx.awareness.score);
      else ctx.verdicts.failed(message.node, message.incarnation, message.from, ctx.now, ctx.awareness.score);
    }
    table.setIncarnation(slot, message.incarnation);
    table.setStatus(slot, leaving ? LEFT : FAILED, ctx.now);
    this.#event(leaving ? 'left' : 'failed', slot);
  }

  /**
   * What suspect and dead rumours share before they may change anything: under local verdicts
   * they only prompt a refutation; a stale one about this node prompts a fresh alive; one about
   * an unknown member or an older incarnation is ignored. The member's slot, or -1.
   */
  #rumourSlot(message: SuspectMessage | DeadMessage, localVerdict: boolean): number {
    if (localVerdict) {
      this.#refuteLocalVerdict(message.node, message.incarnation);
      return -1;
    }
    if (this.#isStaleRumourAboutSelf(message.node, message.incarnation)) return -1;
    const { table } = this.#ctx;
    const slot = table.find(message.node);
    return slot >= 0 && isAtLeast(message.incarnation, table.incarnationAt(slot)) ? slot : -1;
  }

  /** Announces this node's departure; `onSent` runs when the announcement has gone out. */
  leave(onSent: () => void): void {
    this.#leaving = true;
    this.#onLeaveSent = onSent;
    this.onDead({ type: 'dead', node: this.#profile.name, incarnation: this.#incarnation, from: this.#profile.name });
  }

  /**
   * A leave forced on a member (see the `forceLeave` input): failed → left, with its event; with
   * `prune` a failed or left member is dropped from the table at once (its departure remembered,
   * so that a replayed alive cannot bring it back). Nothing changes for this node or a live one.
   */
  forceLeave(name: string, prune: boolean): void {
    const ctx = this.#ctx;
    const slot = ctx.table.find(name);
    if (slot < 0 || name === ctx.selfName) return;
    const status = ctx.table.statusAt(slot);
    if (status === FAILED) {
      ctx.verdicts.left(name, ctx.table.incarnationAt(slot), `${ctx.selfName} (forced)`, ctx.now, ctx.awareness.score);
      ctx.table.setStatus(slot, LEFT, ctx.now);
      this.#event('left', slot);
    }
    if (prune && (status === FAILED || status === LEFT)) ctx.forget(slot);
  }

  /** Replaces this node's meta and announces it with a new incarnation. */
  setMeta(meta: Uint8Array): void {
    const ctx = this.#ctx;
    checkMeta(meta);
    // After a leave, an alive about this node would replace the leave announcement in the queue
    // and bring it back to life on its peers; memberlist ignores alives about itself once left.
    if (this.#leaving) {
      ctx.notice('warn', 'meta change ignored: this node has left');
      return;
    }
    this.#profile = { ...this.#profile, meta };
    this.#incarnation = nextIncarnation(this.#incarnation);
    const slot = this.#selfSlot();
    ctx.table.setProfile(slot, ctx.table.registry.profileId(this.#profile));
    ctx.table.setIncarnation(slot, this.#incarnation);
    ctx.broadcast(this.#profile.name, this.#selfAlive());
    this.#event('update', slot);
  }

  /** Suspicion expiry: the member fails if it is still suspected since the same moment. */
  #expire(nameId: number, startedAt: number): void {
    const ctx = this.#ctx;
    this.#suspicions.delete(nameId);
    const slot = ctx.table.slotOfNameId(nameId);
    if (slot < 0 || ctx.table.statusAt(slot) !== SUSPECT || ctx.table.sinceAt(slot) !== startedAt) return;
    ctx.stats.failuresDeclared++;
    this.onDead({ type: 'dead', node: ctx.table.nameAt(slot), incarnation: ctx.table.incarnationAt(slot), from: ctx.selfName });
  }

  #reschedule(nameId: number, entry: RunningSuspicion): void {
    const ctx = this.#ctx;
    ctx.timers.cancel(entry.timer);
    this.#expireAt(nameId, entry, Math.max(ctx.now, entry.suspicion.deadline));
  }

  /**
   * The suspicion's expiry at `at`. Fired late, it waits STALL_GRACE_MS once, so that a refutation
   * that arrived meanwhile is read first (stall.ts).
   */
  #expireAt(nameId: number, entry: RunningSuspicion, at: number, waited = false): void {
    const ctx = this.#ctx;
    entry.timer = ctx.timers.schedule(at, () => {
      if (!waited && firedLate(ctx.now, at)) {
        this.#expireAt(nameId, entry, ctx.now + STALL_GRACE_MS, true);
        return;
      }
      this.#expire(nameId, entry.suspicion.startedAt);
    });
  }

  /** Ends a member's running suspicion without a verdict; whether one ran. */
  #stopSuspicion(nameId: number): boolean {
    const running = this.#suspicions.get(nameId);
    if (!running) return false;
    this.#ctx.timers.cancel(running.timer);
    this.#suspicions.delete(nameId);
    return true;
  }

  /**
   * A suspect or dead about an incarnation of this node that it has already refuted means the
   * sender missed the refutation (its gossip ran out before reaching it): announce the current
   * incarnation again, so that it rides on the ack to the sender's probe. memberlist ignores
   * these, which leaves the sender's suspicion running until it declares this node failed.
   */
  #isStaleRumourAboutSelf(node: string, incarnation: number): boolean {
    if (node !== this.#ctx.selfName || this.#leaving || isAtLeast(incarnation, this.#incarnation)) return false;
    this.#ctx.broadcast(this.#profile.name, this.#selfAlive());
    return true;
  }

  /**
   * With local verdicts the only rumours are peers' push/pull records. One that holds this node
   * suspect or failed starts a new generation, which overrides that peer's tombstone: this is how
   * the sides of a healed partition take each other back before their tombstones expire.
   */
  #refuteLocalVerdict(node: string, incarnation: number): void {
    if (node === this.#ctx.selfName && !this.#leaving && isAtLeast(incarnation, this.#incarnation)) this.#refute(incarnation);
  }

  /**
   * Someone says this node is suspect, failed or differently announced: outbid them. The
   * successor wraps past 2^32 − 1, where memberlist is stuck (and so are Serf peers, which
   * compare linearly and will not follow a wrapped refutation).
   */
  #refute(accused: number): void {
    const ctx = this.#ctx;
    this.#incarnation = nextIncarnation(isNewer(accused, this.#incarnation) ? accused : this.#incarnation);
    ctx.awareness.apply(1);
    ctx.stats.refutations++;
    ctx.table.setIncarnation(this.#selfSlot(), this.#incarnation);
    ctx.broadcast(this.#profile.name, this.#selfAlive());
  }

  #selfAlive(): AliveMessage {
    return { type: 'alive', incarnation: this.#incarnation, profile: this.#profile };
  }

  #selfSlot(): number {
    return this.#ctx.table.slotOfNameId(this.#selfNameId);
  }

  #event(type: MemberEventType, slot: number): void {
    this.#ctx.emit({ kind: 'event', event: { type, member: this.member(slot), at: this.#ctx.now } });
  }

  /** Another node claims a listed member's name: ignored, and reported unless it is a repeat. */
  #conflict(known: MemberProfile, claimed: MemberProfile): void {
    const ctx = this.#ctx;
    ctx.stats.messagesIgnored++;
    if (!this.#conflicts.admit(known.name, ctx.now)) {
      ctx.drop('conflict-repeated');
      return;
    }
    ctx.emit({ kind: 'conflict', name: known.name, known: { host: known.host, port: known.port }, claimed: { host: claimed.host, port: claimed.port } });
  }

  #ignore(text: string, level: 'debug' | 'warn' = 'debug'): void {
    this.#ctx.stats.messagesIgnored++;
    this.#ctx.notice(level, text);
  }
}

/** The application's own meta: over memberlist's MetaMaxSize is an error, not a drop. */
export function checkMeta(meta: Uint8Array): void {
  if (meta.length > MAX_META_BYTES) {
    throw new HearsayError(`node meta of ${meta.length} bytes exceeds the limit of ${MAX_META_BYTES} bytes: use fewer or shorter tags`);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
