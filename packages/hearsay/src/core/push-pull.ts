import type { NodeContext } from './context.js';
import { ALIVE } from './member-table.js';
import type { Membership } from './membership.js';
import { randomMembers } from './selection.js';
import { STATUSES, type Address, type NameClaim, type PushNodeState, type PushPullMessage, type StreamMessage } from './types.js';

/** memberlist's push/pull period scale: 1 up to 32 members, then ceil(log2 n − 5) + 1. */
export function pushPullScale(nodes: number): number {
  return nodes <= 32 ? 1 : Math.ceil(Math.log2(nodes) - 5) + 1;
}

/**
 * Anti-entropy: a full-state exchange over a stream with one random alive member every
 * push/pull interval (scaled with cluster size), with each seed on join, and in answer to
 * peers. Remote "failed" verdicts are merged as suspicions only, as memberlist does.
 */
export class PushPull {
  readonly #ctx: NodeContext;
  readonly #membership: Membership;

  constructor(ctx: NodeContext, membership: Membership) {
    this.#ctx = ctx;
    this.#membership = membership;
  }

  /**
   * The first exchange comes at a random point of the first (size-scaled) period, so that the
   * cluster exchanges at its steady rate from the start. memberlist waits a stagger and then
   * one more period (1 to 2 periods): at 10,000 members, over five minutes without any.
   */
  start(): void {
    const ctx = this.#ctx;
    if (ctx.config.pushPullIntervalMs <= 0) return;
    const stagger = ctx.rng.float() * this.#interval();
    ctx.timers.schedule(ctx.now + stagger, () => this.#tick());
  }

  #interval(): number {
    return this.#ctx.config.pushPullIntervalMs * pushPullScale(this.#ctx.table.size);
  }

  #tick(): void {
    const ctx = this.#ctx;
    ctx.timers.schedule(ctx.now + this.#interval(), () => this.#tick());
    const [slot] = randomMembers(ctx, 1, (s) => ctx.table.statusAt(s) === ALIVE);
    if (slot === undefined) return;
    const profile = ctx.table.profileAt(slot);
    this.exchange({ host: profile.host, port: profile.port }, false, (error) => {
      if (error) ctx.notice('debug', `push/pull with ${profile.name} failed: ${error}`);
    });
  }

  /**
   * Sends our state to `to`, merges the answer, and reports the outcome. The answer of a seed
   * this node was asked to join through may fill the table (a node joining a large cluster
   * learns it all at once); any other exchange brings at most maxNewMembersPerPushPull. A seed's
   * answer that lists this node's name alive elsewhere is passed to `done` as a claim.
   */
  exchange(to: Address, join: boolean, done: (error: string | null, claim?: NameClaim) => void, seed = false): void {
    const ctx = this.#ctx;
    ctx.stats.pushPulls++;
    ctx.openStream(to, this.#localState(join), ctx.config.tcpTimeoutMs, {
      onReply: (reply) => {
        if (reply.type === 'pushPull') {
          const claim = seed ? this.#claimOnSelf(reply.states) : undefined;
          done(this.#merge(reply, seed ? ctx.config.maxMembers : ctx.config.maxNewMembersPerPushPull), claim);
        } else if (reply.type === 'error') {
          done(`remote error: ${reply.error}`);
        } else {
          done(`unexpected ${reply.type} in answer to push/pull`);
        }
      },
      onFail: (reason) => done(reason),
    });
  }

  /** Joins through `seeds`: a joining push/pull with each, then one `joined` output for them all. */
  join(request: number, seeds: readonly Address[]): void {
    const ctx = this.#ctx;
    if (seeds.length === 0) {
      ctx.emit({ kind: 'joined', request, contacted: 0, errors: ['no seed addresses given'] });
      return;
    }
    let outstanding = seeds.length;
    let contacted = 0;
    const errors: string[] = [];
    let conflict: NameClaim | undefined;
    for (const seed of seeds) {
      this.exchange(
        seed,
        true,
        (error, claim) => {
          if (error) errors.push(`${seed.host}:${seed.port}: ${error}`);
          else contacted++;
          conflict ??= claim;
          if (--outstanding === 0) ctx.emit({ kind: 'joined', request, contacted, errors, ...(conflict ? { conflict } : {}) });
        },
        true,
      );
    }
  }

  /** A peer's push/pull: answer with our state (same join flag), then merge theirs. */
  onRemoteState(message: PushPullMessage): StreamMessage {
    const reply = this.#localState(message.join);
    const error = this.#merge(message, this.#ctx.config.maxNewMembersPerPushPull);
    if (error) this.#ctx.notice('warn', `rejected push/pull state: ${error}`);
    return reply;
  }

  #localState(join: boolean): PushPullMessage {
    const { table } = this.#ctx;
    const states: PushNodeState[] = new Array(table.size);
    for (let slot = 0; slot < table.size; slot++) {
      states[slot] = { profile: table.profileAt(slot), incarnation: table.incarnationAt(slot), status: STATUSES[table.statusAt(slot)] };
    }
    return { type: 'pushPull', join, states, userState: this.#ctx.userState };
  }

  /**
   * Serf refuses to run under a name the cluster holds for a live member elsewhere (a second node
   * started with the same name). The record of this node's name, when a seed lists it alive or
   * suspect at another address; undefined otherwise.
   */
  #claimOnSelf(states: readonly PushNodeState[]): NameClaim | undefined {
    const { host, port, name } = this.#membership.profile;
    for (const state of states) {
      const { profile } = state;
      if (profile.name !== name || (state.status !== 'alive' && state.status !== 'suspect')) continue;
      if (profile.host === host && profile.port === port) return undefined;
      return { address: { host: profile.host, port: profile.port }, incarnation: state.incarnation };
    }
    return undefined;
  }

  /** Applies a remote state, adding at most `newMembers` members; returns why it was rejected, or null. */
  #merge(message: PushPullMessage, newMembers: number): string | null {
    const incompatible = this.#incompatibility(message.states);
    if (incompatible) return incompatible;
    this.#ctx.limitNewMembers(newMembers);
    const membership = this.#membership;
    const self = this.#ctx.selfName;
    for (const state of message.states) {
      const name = state.profile.name;
      switch (state.status) {
        case 'alive':
          membership.onAlive(state.profile, state.incarnation);
          break;
        case 'left':
          membership.onDead({ type: 'dead', node: name, incarnation: state.incarnation, from: name });
          break;
        case 'failed':
        case 'suspect':
          membership.onSuspect({ type: 'suspect', node: name, incarnation: state.incarnation, from: self });
          break;
      }
    }
    return null;
  }

  /**
   * memberlist's verifyProtocol: every alive record's current protocol and delegate versions
   * must fall within the ranges that all alive records (remote and local) support.
   */
  #incompatibility(remote: readonly PushNodeState[]): string | null {
    const { table } = this.#ctx;
    const bounds = { maxPMin: 0, minPMax: 255, maxDMin: 0, minDMax: 255 };
    const seen = new Set<number>();
    const versions: Uint8Array[] = [];
    // Each distinct set of version bytes is checked once: a handful, however many records.
    const collect = (vsn: Uint8Array) => {
      if (vsn.length < 6) return;
      const key = vsn[0]! * 2 ** 40 + vsn[1]! * 2 ** 32 + vsn[2]! * 2 ** 24 + vsn[3]! * 2 ** 16 + vsn[4]! * 2 ** 8 + vsn[5]!;
      if (seen.has(key)) return;
      seen.add(key);
      versions.push(vsn);
      bounds.maxPMin = Math.max(bounds.maxPMin, vsn[0]!);
      bounds.minPMax = Math.min(bounds.minPMax, vsn[1]!);
      bounds.maxDMin = Math.max(bounds.maxDMin, vsn[3]!);
      bounds.minDMax = Math.min(bounds.minDMax, vsn[4]!);
    };
    for (const state of remote) if (state.status === 'alive') collect(state.profile.vsn);
    for (let slot = 0; slot < table.size; slot++) if (table.statusAt(slot) === ALIVE) collect(table.profileAt(slot).vsn);
    const { maxPMin, minPMax, maxDMin, minDMax } = bounds;
    for (const v of versions) {
      if (v[2]! < maxPMin || v[2]! > minPMax) return `protocol version ${v[2]} outside [${maxPMin}, ${minPMax}]`;
      if (v[5]! < maxDMin || v[5]! > minDMax) return `delegate protocol version ${v[5]} outside [${maxDMin}, ${minDMax}]`;
    }
    return null;
  }
}
