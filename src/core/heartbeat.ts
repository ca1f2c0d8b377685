import type { NodeContext } from './context.js';
import { ALIVE, FAILED, LEFT, STATUS_NAMES, SUSPECT } from './member-table.js';
import type { Membership } from './membership.js';
import { heartbeatEntrySize, heartbeatsOverhead } from './message-size.js';
import { PhiAccrual } from './phi-accrual.js';
import { protocolMax, randomMembers } from './probe.js';
import type { TimerHandle } from './timers.js';
import type { HeartbeatEntry, HeartbeatsMessage } from './types.js';

/** memberlist's CRC wrapper: a type byte and a CRC-32. Counted so a packet fits either way. */
const CRC_BYTES = 5;

/** What this node knows of one member's heartbeat, for the member's current generation. */
interface Track {
  /** The generation (table incarnation) this track is about; a different one resets it. */
  readonly generation: number;
  /** The highest heartbeat seen for that generation. */
  heartbeat: number;
  /** Local time at which `heartbeat` last rose (or the track began). */
  risenAt: number;
  /** Phi accrual over rise times, in phi mode only. */
  readonly phi: PhiAccrual | undefined;
  timer: TimerHandle | undefined;
  timerAt: number;
}

/**
 * Gossip-style heartbeat failure detection (van Renesse, Minsky, Hayden 1998). Every period each
 * node bumps its own counter and sends its whole table — name, address, generation, heartbeat,
 * local status — to a few random live members. A receiver keeps the highest (generation,
 * heartbeat) per member and when it rose; a member whose heartbeat stops rising is suspect
 * after suspectAfterMs and failed after failAfterMs (or, with phiThreshold > 0, suspect when
 * phi ≥ phiThreshold and failed when also silent for failAfterMs). Verdicts are local: they are
 * never gossiped. A failed member stays as a tombstone for cleanupAfterMs, so that an old table
 * cannot bring it back; only a higher generation (a restart) can.
 */
export class HeartbeatDetector {
  readonly #ctx: NodeContext;
  readonly #membership: Membership;
  readonly #tracks = new Map<number, Track>();
  #heartbeat = 0;

  constructor(ctx: NodeContext, membership: Membership) {
    this.#ctx = ctx;
    this.#membership = membership;
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

  /** Starts the periodic send after a random stagger within one period. */
  start(): void {
    const ctx = this.#ctx;
    ctx.timers.schedule(ctx.now + ctx.rng.float() * ctx.config.heartbeatIntervalMs, () => this.#tick());
  }

  #tick(): void {
    const ctx = this.#ctx;
    const { table, config } = ctx;
    ctx.timers.schedule(ctx.now + config.heartbeatIntervalMs, () => this.#tick());
    if (this.#membership.leaving) return;
    this.#heartbeat++;
    const selfId = table.registry.findNameId(ctx.selfName);
    const entries: HeartbeatEntry[] = new Array(table.size);
    for (let slot = 0; slot < table.size; slot++) {
      const self = table.nameIdAt(slot) === selfId;
      entries[slot] = {
        profile: table.profileAt(slot),
        generation: table.incarnationAt(slot),
        heartbeat: self ? this.#heartbeat : this.#sync(slot).heartbeat,
        status: STATUS_NAMES[table.statusAt(slot)]!,
      };
    }
    const targets = randomMembers(ctx, config.heartbeatFanout, (s) => {
      const status = table.statusAt(s);
      return status === ALIVE || status === SUSPECT;
    });
    if (targets.length === 0) return;
    const messages = splitHeartbeats(entries, config.udpBufferSize - config.packetOverheadBytes - CRC_BYTES);
    for (const slot of targets) {
      const profile = table.profileAt(slot);
      const to = { host: profile.host, port: profile.port };
      const crc = protocolMax(profile.vsn) >= 5;
      for (const message of messages) ctx.sendPacket(to, [message], crc);
    }
  }

  /** Merges a received table (or part of one). */
  onHeartbeats(message: HeartbeatsMessage): void {
    for (const entry of message.entries) this.#merge(entry);
  }

  #merge(entry: HeartbeatEntry): void {
    const ctx = this.#ctx;
    const { table } = ctx;
    const name = entry.profile.name;
    if (name === ctx.selfName) return;
    // A sender's failed (or left) record is a tombstone: no evidence that the member lives.
    const tombstone = entry.status === 'failed' || entry.status === 'left';
    let slot = table.find(name);
    if (slot < 0 || entry.generation > table.incarnationAt(slot)) {
      // An unknown member, or a newer generation (a restart), which overrides everything.
      if (tombstone) return;
      this.#membership.onAlive(entry.profile, entry.generation);
      slot = table.find(name);
      if (slot < 0 || table.incarnationAt(slot) !== entry.generation) return; // rejected (conflict)
      const track = this.#sync(slot);
      if (entry.heartbeat > track.heartbeat) track.heartbeat = entry.heartbeat;
      return;
    }
    if (entry.generation < table.incarnationAt(slot) || tombstone) return;
    const track = this.#sync(slot);
    if (entry.heartbeat <= track.heartbeat) return;
    const status = table.statusAt(slot);
    // A failed member is not revived by its old generation, however high the heartbeat.
    if (status === FAILED || status === LEFT) return;
    track.heartbeat = entry.heartbeat;
    track.risenAt = ctx.now;
    track.phi?.heartbeat(ctx.now);
    if (status === SUSPECT) this.#membership.setVerdict(slot, ALIVE, 'alive');
    this.#arm(table.nameIdAt(slot), track);
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
    const phi =
      ctx.config.phiThreshold > 0
        ? new PhiAccrual({ threshold: ctx.config.phiThreshold, firstHeartbeatEstimateMs: ctx.config.heartbeatIntervalMs })
        : undefined;
    phi?.heartbeat(ctx.now);
    track = { generation, heartbeat: 0, risenAt: ctx.now, phi, timer: undefined, timerAt: Infinity };
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
        return this.#suspectAt(track);
      case SUSPECT:
        return this.#failAt(track);
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
    if (status === ALIVE && now >= this.#suspectAt(track)) {
      this.#membership.setVerdict(slot, SUSPECT, 'suspect');
      status = SUSPECT;
    }
    if (status === SUSPECT && now >= this.#failAt(track)) {
      this.#membership.setVerdict(slot, FAILED, 'failed');
      status = FAILED;
    }
    if ((status === FAILED || status === LEFT) && now >= table.sinceAt(slot) + config.cleanupAfterMs) {
      this.#tracks.delete(nameId);
      this.#membership.forget(slot);
      return;
    }
    this.#arm(nameId, track);
  }

  /** Fixed: suspectAfterMs of silence. Phi: the first moment phi reaches the threshold. */
  #suspectAt(track: Track): number {
    const { config } = this.#ctx;
    if (!track.phi) return track.risenAt + config.suspectAfterMs;
    return track.risenAt + phiCrossing(track.phi, track.risenAt, config.phiThreshold);
  }

  /** Fixed: failAfterMs of silence. Phi: phi at the threshold and failAfterMs of silence. */
  #failAt(track: Track): number {
    const { config } = this.#ctx;
    const silent = track.risenAt + config.failAfterMs;
    return track.phi ? Math.max(silent, this.#suspectAt(track)) : silent;
  }
}

/**
 * The silence after which phi first reaches `threshold` (phi grows with silence), to within
 * 1/1024 ms, found by doubling then bisection; the returned value always satisfies it.
 */
function phiCrossing(phi: PhiAccrual, since: number, threshold: number): number {
  let hi = 1;
  while (phi.phi(since + hi) < threshold) {
    hi *= 2;
    if (hi > 1e12) return Infinity;
  }
  let lo = 0;
  while (hi - lo > 1 / 1024) {
    const mid = (lo + hi) / 2;
    if (phi.phi(since + mid) >= threshold) hi = mid;
    else lo = mid;
  }
  return hi;
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
