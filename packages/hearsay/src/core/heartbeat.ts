import type { NodeContext } from './context.js';
import { ALIVE, FAILED, LEFT, SUSPECT } from './member-table.js';
import type { Membership } from './membership.js';
import { failAt, newTrack, suspectAt, type Track, takeHeartbeat } from './heartbeat-track.js';
import { COMPOUND_HEADER_BYTES, COMPOUND_PART_BYTES, CRC_BYTES, heartbeatEntrySize, heartbeatsOverhead } from './message-size.js';
import { rttOutput } from './outputs.js';
import { randomMembers, shuffle } from './selection.js';
import { isNewer } from './serial.js';
import type { TimerHandle } from './timers.js';
import { STATUSES, type HeartbeatEntry, type HeartbeatsMessage, type Message, type PingMessage } from './types.js';
import { protocolMax } from './versions.js';

/** Gossiped tables only, or direct heartbeats to all while the cluster is small. */
export type HeartbeatMode = 'gossip' | 'hybrid';

/** A direct heartbeat (a ping) waiting for its ack. */
interface DirectPing {
  readonly nameId: number;
  readonly sentAt: number;
}

/**
 * Heartbeat failure detection in two flavours.
 *
 * `gossip` (van Renesse, Minsky, Hayden 1998): every period each node bumps its own counter
 * and sends its whole table — name, address, generation, heartbeat, local status — to a few
 * random live members. A receiver keeps the highest (generation, heartbeat) per member and when
 * it rose.
 *
 * `hybrid`: while the live members number at most hybridThreshold, every node instead sends a
 * direct heartbeat (a ping) to every other live member each period, O(n²) messages in all; the
 * ping itself and an ack back within rttBoundMs are signs of life, and the ack measures the
 * round-trip time. Above the threshold it gossips as above.
 *
 * In both, pinned members also get a direct heartbeat every period, whatever the size. A
 * member with no sign of life is suspect after suspectAfterMs and failed after failAfterMs (or,
 * with phiThreshold > 0, suspect when phi ≥ phiThreshold and failed when also silent for
 * failAfterMs). Verdicts are local: they are never gossiped. A failed member stays as a
 * tombstone for cleanupAfterMs, so that an old table cannot bring it back; only a higher
 * generation (a restart) can.
 */
export class HeartbeatDetector {
  readonly #ctx: NodeContext;
  readonly #membership: Membership;
  readonly #tracks = new Map<number, Track>();
  readonly #direct = new Map<number, DirectPing>();
  readonly #extra: () => readonly Message[];
  #mode: HeartbeatMode;
  #pinned: readonly string[] = [];
  #heartbeat = 0;
  #tickTimer: TimerHandle | undefined;

  /** `extra` gives messages to add to every heartbeat packet (the protocol switch in force). */
  constructor(ctx: NodeContext, membership: Membership, mode: HeartbeatMode, extra: () => readonly Message[]) {
    this.#ctx = ctx;
    this.#membership = membership;
    this.#mode = mode;
    this.#extra = extra;
  }

  /** Gossiped tables only, or the hybrid; a protocol switch between the two sets it. */
  get mode(): HeartbeatMode {
    return this.#mode;
  }

  set mode(mode: HeartbeatMode) {
    this.#mode = mode;
  }

  /** Members that get a direct heartbeat every period, whatever the mode and size. */
  set pinned(names: readonly string[]) {
    this.#pinned = [...new Set(names)];
  }

  get pinned(): readonly string[] {
    return this.#pinned;
  }

  /** This node's own heartbeat counter. */
  get heartbeat(): number {
    return this.#heartbeat;
  }

  /** The highest heartbeat seen for a member's current generation (undefined if untracked). */
  heartbeatOf(name: string): number | undefined {
    const ctx = this.#ctx;
    if (name === ctx.selfName) return this.#heartbeat;
    const id = ctx.table.registry.findNameId(name);
    return id < 0 ? undefined : this.#tracks.get(id)?.heartbeat;
  }

  /** Whether heartbeats currently go directly to every live member (hybrid below its threshold). */
  get allToAll(): boolean {
    const { table, config } = this.#ctx;
    return this.#mode === 'hybrid' && table.count(ALIVE) + table.count(SUSPECT) <= config.hybridThreshold;
  }

  /**
   * Starts judging every member known now (silence counts from now) and the periodic send
   * after a random stagger within one period.
   */
  start(): void {
    const ctx = this.#ctx;
    this.trackAll();
    this.#tickTimer = ctx.timers.schedule(ctx.now + ctx.rng.float() * ctx.config.heartbeatIntervalMs, () => this.#tick());
  }

  /** A member left the table: what was kept about it goes. */
  forget(nameId: number): void {
    const track = this.#tracks.get(nameId);
    if (track) this.#ctx.timers.cancel(track.timer);
    this.#tracks.delete(nameId);
    for (const [seqNo, ping] of this.#direct) if (ping.nameId === nameId) this.#direct.delete(seqNo);
  }

  /** Stops sending and judging (another detector takes over); what was learned is dropped. */
  stop(): void {
    const { timers } = this.#ctx;
    timers.cancel(this.#tickTimer);
    this.#tickTimer = undefined;
    for (const track of this.#tracks.values()) timers.cancel(track.timer);
    this.#tracks.clear();
    this.#direct.clear();
  }

  #tick(): void {
    const ctx = this.#ctx;
    const { config } = ctx;
    this.#tickTimer = ctx.timers.schedule(ctx.now + config.heartbeatIntervalMs, () => this.#tick());
    if (this.#membership.leaving) return;
    this.#heartbeat++;
    for (const [seqNo, ping] of this.#direct) if (ctx.now - ping.sentAt > config.rttBoundMs) this.#direct.delete(seqNo);
    // Queued updates ride on the first pings sent until their transmit limit is spent: in table
    // order those would always be the same few members, and an update would never reach the rest.
    if (this.allToAll) {
      this.trackAll();
      for (const slot of shuffle(ctx.rng, this.#liveSlots())) this.#sendDirect(slot);
      return;
    }
    this.#gossipTable();
    for (const slot of shuffle(ctx.rng, this.#pinnedSlots())) this.#sendDirect(slot);
  }

  /** Sends the whole table to heartbeatFanout random live members. */
  #gossipTable(): void {
    const ctx = this.#ctx;
    const { table, config } = ctx;
    const targets = randomMembers(ctx, config.heartbeatFanout, (s) => {
      const status = table.statusAt(s);
      return status === ALIVE || status === SUSPECT;
    });
    if (targets.length === 0) return;
    const selfId = table.registry.findNameId(ctx.selfName);
    const entries: HeartbeatEntry[] = new Array(table.size);
    for (let slot = 0; slot < table.size; slot++) {
      const self = table.nameIdAt(slot) === selfId;
      entries[slot] = {
        profile: table.profileAt(slot),
        generation: table.incarnationAt(slot),
        heartbeat: self ? this.#heartbeat : this.#sync(slot).heartbeat,
        status: STATUSES[table.statusAt(slot)],
      };
    }
    // The switch in force rides along as a compound; the CRC is counted so a packet fits either way.
    const extra = this.#extra();
    let extraSize = extra.length ? COMPOUND_HEADER_BYTES + COMPOUND_PART_BYTES : 0;
    for (const message of extra) extraSize += ctx.sizer(message) + COMPOUND_PART_BYTES;
    const budget = config.udpBufferSize - config.packetOverheadBytes - CRC_BYTES - extraSize;
    const messages = splitHeartbeats(entries, budget);
    for (const slot of targets) {
      const profile = table.profileAt(slot);
      const to = { host: profile.host, port: profile.port };
      const crc = protocolMax(profile.vsn) >= 5;
      for (const message of messages) {
        ctx.stats.heartbeatTablesSent++;
        ctx.sendPacket(to, extra.length ? [message, ...extra] : [message], crc);
      }
    }
  }

  /** A ping whose ack, back within rttBoundMs, is a sign of life and a round-trip sample. */
  #sendDirect(slot: number): void {
    const ctx = this.#ctx;
    const { table } = ctx;
    const profile = table.profileAt(slot);
    const seqNo = ctx.nextSeqNo();
    this.#direct.set(seqNo, { nameId: table.nameIdAt(slot), sentAt: ctx.now });
    ctx.stats.directHeartbeatsSent++;
    const ping: PingMessage = { type: 'ping', seqNo, node: profile.name, source: ctx.selfSource };
    const extra = this.#extra();
    const to = { host: profile.host, port: profile.port };
    if (extra.length) ctx.sendPacket(to, [ping, ...extra], protocolMax(profile.vsn) >= 5);
    else ctx.sendMessage(to, ping, false);
  }

  /** Every member gets a track, and so a deadline, even before its first sign of life. */
  trackAll(): void {
    const { table } = this.#ctx;
    const selfId = table.registry.findNameId(this.#ctx.selfName);
    for (let slot = 0; slot < table.size; slot++) if (table.nameIdAt(slot) !== selfId) this.#sync(slot);
  }

  #liveSlots(): number[] {
    const { table } = this.#ctx;
    const selfId = table.registry.findNameId(this.#ctx.selfName);
    const slots: number[] = [];
    for (let slot = 0; slot < table.size; slot++) {
      const status = table.statusAt(slot);
      if ((status === ALIVE || status === SUSPECT) && table.nameIdAt(slot) !== selfId) slots.push(slot);
    }
    return slots;
  }

  #pinnedSlots(): number[] {
    const { table } = this.#ctx;
    const slots: number[] = [];
    for (const name of this.#pinned) {
      const slot = table.find(name);
      if (slot < 0 || name === this.#ctx.selfName) continue;
      const status = table.statusAt(slot);
      if (status === ALIVE || status === SUSPECT) slots.push(slot);
    }
    return slots;
  }

  /** An ack to a direct heartbeat: false when the sequence number is not one of them. */
  onAck(seqNo: number, payload?: Uint8Array): boolean {
    const ctx = this.#ctx;
    const ping = this.#direct.get(seqNo);
    if (!ping) return false;
    this.#direct.delete(seqNo);
    const rtt = ctx.now - ping.sentAt;
    if (rtt > ctx.config.rttBoundMs) {
      ctx.stats.directAcksLate++;
      return true;
    }
    ctx.stats.directAcks++;
    const slot = ctx.table.slotOfNameId(ping.nameId);
    if (slot < 0) return true;
    ctx.emit(rttOutput(ctx.table.nameAt(slot), rtt, payload));
    this.#signOfLife(slot);
    return true;
  }

  /** A ping from a member (a direct heartbeat, or a SWIM probe during a switch) shows it alive. */
  onPing(sourceName: string | undefined): void {
    if (!sourceName) return;
    const slot = this.#ctx.table.find(sourceName);
    if (slot >= 0) this.#signOfLife(slot);
  }

  #signOfLife(slot: number): void {
    const ctx = this.#ctx;
    const status = ctx.table.statusAt(slot);
    // A failed member is not revived by its old generation: only a restart (a higher one) is.
    if (status === FAILED || status === LEFT) return;
    const track = this.#sync(slot);
    this.#rise(slot, track, status);
  }

  #rise(slot: number, track: Track, status: number): void {
    const ctx = this.#ctx;
    track.risenAt = ctx.now;
    track.phi?.heartbeat(ctx.now);
    if (status === SUSPECT) this.#membership.setVerdict(slot, ALIVE, 'alive');
    this.#arm(ctx.table.nameIdAt(slot), track);
  }

  /** Merges a received table (or part of one). */
  onHeartbeats(message: HeartbeatsMessage): void {
    this.#ctx.stats.heartbeatTablesReceived++;
    for (const entry of message.entries) this.#merge(entry);
  }

  #merge(entry: HeartbeatEntry): void {
    const ctx = this.#ctx;
    const { table } = ctx;
    const name = entry.profile.name;
    // A sender's failed (or left) record is a tombstone: no evidence that the member lives.
    const tombstone = entry.status === 'failed' || entry.status === 'left';
    if (name === ctx.selfName) {
      // A live record of this node at a newer generation or with other meta is forged (or from
      // a previous run): the membership rules refute it, as they would an alive message.
      if (!tombstone) this.#membership.onAlive(entry.profile, entry.generation);
      return;
    }
    let slot = table.find(name);
    if (slot < 0 || isNewer(entry.generation, table.incarnationAt(slot))) {
      // An unknown member, or a newer generation (a restart), which overrides everything.
      if (tombstone) return;
      this.#membership.onAlive(entry.profile, entry.generation);
      slot = table.find(name);
      if (slot < 0 || table.incarnationAt(slot) !== entry.generation) return; // rejected (conflict)
      takeHeartbeat(this.#ctx, this.#sync(slot), entry.heartbeat);
      return;
    }
    if (entry.generation !== table.incarnationAt(slot) || tombstone) return;
    const track = this.#sync(slot);
    if (entry.heartbeat <= track.heartbeat) return;
    const status = table.statusAt(slot);
    // A failed member is not revived by its old generation, however high the heartbeat.
    if (status === FAILED || status === LEFT) return;
    if (!takeHeartbeat(this.#ctx, track, entry.heartbeat)) return;
    this.#rise(slot, track, status);
  }

  /**
   * The track for a member, made afresh when there is none or the table holds another
   * generation (a member added or revived by an alive update or push/pull): silence is then
   * counted from now.
   */
  #sync(slot: number): Track {
    const ctx = this.#ctx;
    const nameId = ctx.table.nameIdAt(slot);
    const generation = ctx.table.incarnationAt(slot);
    let track = this.#tracks.get(nameId);
    if (track && track.generation === generation) return track;
    if (track) ctx.timers.cancel(track.timer);
    track = newTrack(ctx.config, generation, ctx.now);
    this.#tracks.set(nameId, track);
    this.#arm(nameId, track);
    return track;
  }

  /**
   * Makes sure a check is scheduled no later than the track's next deadline. Checks are lazy:
   * a rise does not move a later check, which on firing finds nothing due and re-arms.
   */
  #arm(nameId: number, track: Track): void {
    const ctx = this.#ctx;
    const slot = ctx.table.slotOfNameId(nameId);
    if (slot < 0) return;
    const at = this.#deadline(slot, track);
    if (at === Infinity || (track.timer && track.timerAt <= at)) return;
    ctx.timers.cancel(track.timer);
    track.timerAt = at;
    track.timer = ctx.timers.schedule(Math.max(at, ctx.now), () => {
      track.timer = undefined;
      track.timerAt = Infinity;
      this.#check(nameId, track);
    });
  }

  #deadline(slot: number, track: Track): number {
    const { table, config } = this.#ctx;
    switch (table.statusAt(slot)) {
      case ALIVE:
        return suspectAt(config, track);
      case SUSPECT:
        return failAt(config, track);
      default:
        return table.sinceAt(slot) + config.cleanupAfterMs;
    }
  }

  #check(nameId: number, track: Track): void {
    const ctx = this.#ctx;
    const { table, config } = ctx;
    if (this.#tracks.get(nameId) !== track) return;
    const slot = table.slotOfNameId(nameId);
    if (slot < 0) {
      this.#tracks.delete(nameId);
      return;
    }
    if (table.incarnationAt(slot) !== track.generation) {
      this.#sync(slot);
      return;
    }
    const now = ctx.now;
    let status = table.statusAt(slot);
    if (status === ALIVE && now >= suspectAt(config, track)) {
      this.#membership.setVerdict(slot, SUSPECT, 'suspect', now - track.risenAt);
      status = SUSPECT;
    }
    if (status === SUSPECT && now >= failAt(config, track)) {
      this.#membership.setVerdict(slot, FAILED, 'failed');
      status = FAILED;
    }
    if ((status === FAILED || status === LEFT) && now >= table.sinceAt(slot) + config.cleanupAfterMs) {
      this.#tracks.delete(nameId);
      ctx.forget(slot);
      return;
    }
    this.#arm(nameId, track);
  }
}

/**
 * Splits a table into heartbeats messages of at most `budget` encoded bytes each (by the
 * memberlist-style size arithmetic of message-size.ts). An entry too large for any packet on
 * its own still goes, alone.
 */
export function splitHeartbeats(entries: readonly HeartbeatEntry[], budget: number): HeartbeatsMessage[] {
  const messages: HeartbeatsMessage[] = [];
  let current: HeartbeatEntry[] = [];
  let size = 0;
  for (const entry of entries) {
    const entrySize = heartbeatEntrySize(entry);
    if (current.length > 0 && heartbeatsOverhead(current.length + 1) + size + entrySize > budget) {
      messages.push({ type: 'heartbeats', entries: current });
      current = [];
      size = 0;
    }
    current.push(entry);
    size += entrySize;
  }
  if (current.length > 0) messages.push({ type: 'heartbeats', entries: current });
  return messages;
}
