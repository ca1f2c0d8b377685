import type { NodeContext } from './context.js';
import { ALIVE, FAILED, LEFT, SUSPECT } from './member-table.js';
import type { Membership } from './membership.js';
import { rttOutput } from './outputs.js';
import { KeyedRateLimit } from './rate-limit.js';
import { randomMembers } from './selection.js';
import { firedLate, STALL_GRACE_MS } from './stall.js';
import type { TimerHandle } from './timers.js';
import type { AckMessage, Address, IndirectPingMessage, MemberProfile, Message, PingMessage } from './types.js';
import type { HelperAnswer } from './verdicts.js';
import { protocolMax } from './versions.js';

interface PendingProbe {
  readonly nameId: number;
  readonly target: Address;
  readonly sentAt: number;
  /** How long it waits for a direct ack (probeTimeoutMs, or the member's own with probeTimeoutFromRtt). */
  readonly directTimeoutMs: number;
  expectedNacks: number;
  nacks: number;
  /** The helpers asked, by address, with their answers so far (the evidence of a failure). */
  helpers: { readonly name: string; readonly address: string; answer: HelperAnswer }[];
  tcp: string;
  timers: TimerHandle[];
  /** Its indirect probe, and its verdict, already waited once to read first (stall.ts). */
  indirectWaited: boolean;
  verdictWaited: boolean;
}

/** A member's direct round trips, smoothed as TCP does (RFC 6298). */
interface RttEstimate {
  srtt: number;
  rttvar: number;
  samples: number;
}

/** Direct acks measured before a member's own probe timeout replaces the configured one. */
const RTT_SAMPLES_NEEDED = 3;

interface Relay {
  readonly requesterSeqNo: number;
  readonly requester: Address;
  readonly timer: TimerHandle;
}

/**
 * SWIM's failure detector with Lifeguard's refinements: a randomised round-robin probe of one
 * member per probe interval (waiting a health-scaled interval for an ack), a ping with a sequence number, on silence an
 * indirect ping through k helpers (who answer with nacks) and a TCP ping, then suspicion.
 */
export class Prober {
  readonly #ctx: NodeContext;
  readonly #membership: Membership;
  readonly #pending = new Map<number, PendingProbe>();
  readonly #relays = new Map<number, Relay>();
  readonly #relayLimit: KeyedRateLimit;
  readonly #rtts = new Map<number, RttEstimate>();
  #index = 0;
  #tickTimer: TimerHandle | undefined;
  /** The sequence number of this node's own probe in flight, if any. */
  #current: number | undefined;
  #tickHeld = false;

  constructor(ctx: NodeContext, membership: Membership) {
    this.#ctx = ctx;
    this.#membership = membership;
    this.#relayLimit = new KeyedRateLimit(ctx.config.relayRate, ctx.config.relayRatePerSource, ctx.now);
  }

  /** A member left the table: its probes in flight end. */
  forget(nameId: number): void {
    const { timers } = this.#ctx;
    this.#rtts.delete(nameId);
    for (const [seqNo, pending] of this.#pending) {
      if (pending.nameId !== nameId) continue;
      for (const timer of pending.timers) timers.cancel(timer);
      this.#pending.delete(seqNo);
      this.#endedByForget(seqNo);
    }
  }

  /** Starts probing after a random stagger within one interval. */
  start(): void {
    const ctx = this.#ctx;
    this.#tickTimer = ctx.timers.schedule(ctx.now + ctx.rng.float() * ctx.config.probeIntervalMs, () => this.#tick());
  }

  /**
   * Stops probing (another detector takes over) and drops the probes in flight. Pings from
   * others are still answered and indirect pings still relayed.
   */
  stop(): void {
    const { timers } = this.#ctx;
    timers.cancel(this.#tickTimer);
    this.#tickTimer = undefined;
    for (const pending of this.#pending.values()) for (const timer of pending.timers) timers.cancel(timer);
    this.#pending.clear();
    this.#current = undefined;
    this.#tickHeld = false;
  }

  /**
   * memberlist's ticker: a tick every probe interval, whatever the health. A tick that comes
   * while this node's own probe still waits (a failing probe waits out its health-scaled
   * interval) is held, as Go's ticker channel holds one, and starts the next probe when it ends.
   */
  #tick(): void {
    const ctx = this.#ctx;
    this.#tickTimer = ctx.timers.schedule(ctx.now + ctx.config.probeIntervalMs, () => this.#tick());
    if (this.#current !== undefined) {
      this.#tickHeld = true;
      return;
    }
    this.#probeNext();
  }

  #probeNext(): void {
    if (this.#membership.leaving) return;
    const slot = this.#nextTarget();
    if (slot >= 0) this.#probe(slot);
  }

  /** This node's own probe ended (acked, concluded or its member forgotten): a held tick starts the next. */
  #ended(seqNo: number): void {
    if (this.#current !== seqNo) return;
    this.#current = undefined;
    if (!this.#tickHeld) return;
    this.#tickHeld = false;
    this.#probeNext();
  }

  /**
   * The same when the probe's member is being forgotten: the held tick waits for a timer at this
   * instant, since probing now could reshuffle the table under the caller, which still holds
   * the forgotten member's slot.
   */
  #endedByForget(seqNo: number): void {
    if (this.#current !== seqNo) return;
    this.#current = undefined;
    if (!this.#tickHeld) return;
    this.#tickHeld = false;
    this.#ctx.timers.schedule(this.#ctx.now, () => {
      if (this.#tickTimer !== undefined) this.#probeNext();
    });
  }

  /** The next member in list order that is not this node, failed or left; reshuffles on wrap. */
  #nextTarget(): number {
    const { table } = this.#ctx;
    for (let checked = 0; checked < table.size; ) {
      if (this.#index >= table.size) {
        this.#reapAndShuffle();
        this.#index = 0;
        checked++;
        continue;
      }
      const slot = this.#index++;
      const status = table.statusAt(slot);
      if (status === FAILED || status === LEFT || table.nameIdAt(slot) === this.#selfNameId()) {
        checked++;
        continue;
      }
      return slot;
    }
    return -1;
  }

  /**
   * At each wrap of the probe order: forget members failed or left longer than
   * gossipToTheDeadTime (memberlist 0.2.2 keeps left ones forever; newer versions reap them
   * too), then reshuffle.
   */
  #reapAndShuffle(): void {
    const ctx = this.#ctx;
    const { table, config } = ctx;
    for (let slot = table.size - 1; slot >= 0; slot--) {
      const status = table.statusAt(slot);
      if ((status === FAILED || status === LEFT) && ctx.now - table.sinceAt(slot) > config.gossipToTheDeadTimeMs && table.nameAt(slot) !== ctx.selfName) {
        ctx.forget(slot);
      }
    }
    table.shuffle(ctx.rng);
  }

  #selfNameId(): number {
    return this.#ctx.table.registry.findNameId(this.#ctx.selfName);
  }

  #probe(slot: number): void {
    const ctx = this.#ctx;
    const { table, config } = ctx;
    const profile = table.profileAt(slot);
    const nameId = table.nameIdAt(slot);
    const seqNo = ctx.nextSeqNo();
    const ping: PingMessage = { type: 'ping', seqNo, node: profile.name, source: ctx.selfSource, digest: ctx.table.digest };
    const target = { host: profile.host, port: profile.port };
    ctx.stats.probes++;
    if (table.statusAt(slot) === SUSPECT) {
      // Lifeguard's buddy system: tell the suspect, so that it can refute at once.
      const suspect: Message = { type: 'suspect', node: profile.name, incarnation: table.incarnationAt(slot), from: ctx.selfName };
      ctx.sendPacket(target, [ping, suspect], protocolMax(profile.vsn) >= 5);
    } else {
      ctx.sendMessage(target, ping, false);
    }

    // Health stretches the probe, not the wait for a direct ack (memberlist's rule): on a LAN a
    // late UDP ack is a lost one, and the time saved goes to the indirect probes and TCP fallback.
    const probeInterval = ctx.awareness.scale(config.probeIntervalMs);
    const probeTimeout = this.#directTimeout(nameId);
    const pending: PendingProbe = {
      nameId,
      target,
      sentAt: ctx.now,
      directTimeoutMs: probeTimeout,
      expectedNacks: 0,
      nacks: 0,
      helpers: [],
      tcp: 'not tried',
      timers: [],
      indirectWaited: false,
      verdictWaited: false,
    };
    this.#pending.set(seqNo, pending);
    this.#current = seqNo;
    this.#arm(seqNo, pending, ctx.now + probeTimeout, ctx.now + probeInterval);
  }

  /**
   * How long to wait for a direct ack from a member: probeTimeoutMs, or with probeTimeoutFromRtt
   * its smoothed round trip + 4 deviations once measured, between a tenth of probeTimeoutMs
   * (jitter below that is not worth an indirect probe) and half the probe interval (the indirect
   * probe needs the rest).
   */
  #directTimeout(nameId: number): number {
    const { config } = this.#ctx;
    const estimate = config.probeTimeoutFromRtt ? this.#rtts.get(nameId) : undefined;
    if (!estimate || estimate.samples < RTT_SAMPLES_NEEDED) return config.probeTimeoutMs;
    const floor = config.probeTimeoutMs / 10;
    const ceiling = Math.max(config.probeTimeoutMs, config.probeIntervalMs / 2);
    return Math.min(ceiling, Math.max(floor, Math.ceil(estimate.srtt + 4 * estimate.rttvar)));
  }

  #sampleRtt(nameId: number, rtt: number): void {
    if (!this.#ctx.config.probeTimeoutFromRtt) return;
    const estimate = this.#rtts.get(nameId);
    if (!estimate) {
      this.#rtts.set(nameId, { srtt: rtt, rttvar: rtt / 2, samples: 1 });
      return;
    }
    estimate.rttvar = 0.75 * estimate.rttvar + 0.25 * Math.abs(estimate.srtt - rtt);
    estimate.srtt = 0.875 * estimate.srtt + 0.125 * rtt;
    estimate.samples++;
  }

  /** The probe's two deadlines: the indirect probe, then the verdict. */
  #arm(seqNo: number, pending: PendingProbe, indirectAt: number, deadline: number): void {
    const { timers } = this.#ctx;
    pending.timers = [
      timers.schedule(indirectAt, () => this.#probeIndirectly(seqNo, pending, indirectAt, deadline)),
      timers.schedule(deadline, () => this.#conclude(seqNo, pending, deadline)),
    ];
  }

  /** No direct ack in time: ask k helpers, and try a TCP ping alongside. */
  #probeIndirectly(seqNo: number, pending: PendingProbe, dueAt: number, deadline: number): void {
    const ctx = this.#ctx;
    const { table, config } = ctx;
    if (!pending.indirectWaited && firedLate(ctx.now, dueAt)) {
      pending.indirectWaited = true;
      for (const timer of pending.timers) ctx.timers.cancel(timer);
      // The indirect phase gets its whole time again, from after the wait.
      const indirectAt = ctx.now + STALL_GRACE_MS;
      this.#arm(seqNo, pending, indirectAt, indirectAt + (deadline - dueAt));
      return;
    }
    const slot = table.slotOfNameId(pending.nameId);
    if (slot < 0) return;
    const profile = table.profileAt(slot);
    const target = { host: profile.host, port: profile.port };
    const helpers = randomMembers(ctx, config.indirectChecks, (s) => table.statusAt(s) === ALIVE && s !== slot);
    for (const helper of helpers) {
      const helperProfile = table.profileAt(helper);
      const nack = protocolMax(helperProfile.vsn) >= 4;
      if (nack) pending.expectedNacks++;
      const request: IndirectPingMessage = { type: 'indirectPing', seqNo, node: profile.name, target, nack, source: ctx.selfSource };
      pending.helpers.push({ name: helperProfile.name, address: addressKey(helperProfile), answer: 'none' });
      ctx.stats.indirectPings++;
      ctx.sendMessage({ host: helperProfile.host, port: helperProfile.port }, request, false);
    }
    if (!config.disableTcpPings && protocolMax(profile.vsn) >= 3 && deadline > ctx.now) {
      ctx.stats.tcpPings++;
      pending.tcp = 'no answer';
      const ping: PingMessage = { type: 'ping', seqNo, node: profile.name, source: ctx.selfSource, digest: ctx.table.digest };
      ctx.openStream(target, ping, deadline - ctx.now, {
        onReply: (reply) => {
          if (reply.type === 'ack' && reply.seqNo === seqNo) this.#acked(seqNo, undefined, false);
        },
        onFail: (reason) => {
          pending.tcp = `failed: ${reason}`;
        },
      });
    }
  }

  /** The probe's time is up without any ack: Lifeguard adjusts health, then suspicion. */
  #conclude(seqNo: number, pending: PendingProbe, deadline: number): void {
    const ctx = this.#ctx;
    if (this.#pending.get(seqNo) !== pending) return;
    if (!pending.verdictWaited && firedLate(ctx.now, deadline)) {
      pending.verdictWaited = true;
      const again = ctx.now + STALL_GRACE_MS;
      pending.timers = [ctx.timers.schedule(again, () => this.#conclude(seqNo, pending, again))];
      return;
    }
    this.#pending.delete(seqNo);
    ctx.stats.probesFailed++;
    const slot = ctx.table.slotOfNameId(pending.nameId);
    if (slot >= 0) {
      ctx.verdicts.noteEvidence(ctx.table.nameAt(slot), {
        sentAt: pending.sentAt,
        directTimeoutMs: pending.directTimeoutMs,
        waitedMs: ctx.now - pending.sentAt,
        helpers: pending.helpers.map(({ name, answer }) => ({ name, answer })),
        tcp: pending.tcp,
      });
    }
    ctx.awareness.apply(pending.expectedNacks > 0 ? Math.max(0, pending.expectedNacks - pending.nacks) : 1);
    this.#suspect(pending.nameId);
    // After the verdict, as in memberlist, where the held tick waits for probeNode to return.
    this.#ended(seqNo);
  }

  #suspect(nameId: number): void {
    const { table, selfName } = this.#ctx;
    const slot = table.slotOfNameId(nameId);
    if (slot < 0) return;
    const status = table.statusAt(slot);
    if (status !== ALIVE && status !== SUSPECT) return;
    this.#membership.onSuspect({ type: 'suspect', node: table.nameAt(slot), incarnation: table.incarnationAt(slot), from: selfName });
  }

  /** An ack to this node's probe; `direct`: from the target itself, not relayed by a helper or over TCP. */
  #acked(seqNo: number, payload: Uint8Array | undefined, direct: boolean): void {
    const ctx = this.#ctx;
    const pending = this.#pending.get(seqNo);
    if (!pending) return;
    this.#pending.delete(seqNo);
    for (const timer of pending.timers) ctx.timers.cancel(timer);
    ctx.awareness.apply(-1);
    const rtt = ctx.now - pending.sentAt;
    if (direct) this.#sampleRtt(pending.nameId, rtt);
    ctx.stats.rttSumMs += rtt;
    ctx.stats.rttCount++;
    ctx.stats.lastRttMs = rtt;
    const slot = ctx.table.slotOfNameId(pending.nameId);
    if (slot >= 0) {
      const name = ctx.table.nameAt(slot);
      ctx.emit(rttOutput(name, rtt, payload));
      const degraded = ctx.verdicts.probeAnswered(name, direct, ctx.now);
      if (degraded) ctx.emit({ kind: 'degraded', ...degraded });
    }
    this.#ended(seqNo);
  }

  onPing(from: Address, ping: PingMessage): void {
    const ctx = this.#ctx;
    if (ping.node !== '' && ping.node !== ctx.selfName) {
      ctx.stats.messagesIgnored++;
      ctx.notice('warn', `ping for ${ping.node} reached ${ctx.selfName}`);
      return;
    }
    if (ping.digest !== undefined && ping.source?.name) ctx.views.observe(ping.source.name, ping.digest, ctx.now);
    if (!ctx.allowReply()) return;
    const payload = ctx.ackPayload;
    const digest = ctx.table.digest;
    const ack: Message = payload.length > 0 ? { type: 'ack', seqNo: ping.seqNo, payload, digest } : { type: 'ack', seqNo: ping.seqNo, digest };
    const to = replyAddress(from, ping.source);
    // Under the heartbeat detectors every member pings in rounds of its own fixed phase: updates
    // piggybacked on acks would spend their transmit budget on whoever pings first after they
    // arrive, round after round, and never reach the rest. Shuffled pings and gossip carry them.
    if (ctx.protocol === 'swim') ctx.sendMessage(to, ack, false);
    else ctx.sendPacket(to, [ack], false);
  }

  /**
   * Pings a member on a requester's behalf. Bounded, as memberlist's is not (one forged packet
   * made it ping a third address 65,025 times): the target must be a member this node lists at
   * that address, whatever its status (a forged alive could list any address as alive anyway,
   * and a helper's verdict may differ from the requester's); relays are rate-limited per
   * requesting address and overall; and each counts as a reply of its packet.
   *
   * A member this node does not list is no attack: a requester still suspecting a member can
   * ask a helper that has already forgotten it (Lifeguard's longest suspicions outlast
   * gossipToTheDeadTime). It is answered with a nack at once, so that the requester does not
   * blame its own health. A listed member asked for at another address is refused, and counted.
   */
  onIndirectPing(from: Address, request: IndirectPingMessage): void {
    const ctx = this.#ctx;
    if (!ctx.allowReply()) return;
    const requester = replyAddress(from, request.source);
    const slot = ctx.table.find(request.node);
    if (slot < 0) {
      ctx.stats.messagesIgnored++;
      if (request.nack) this.#sendNack(requester, request.seqNo);
      return;
    }
    const target = relayTarget(ctx.table.profileAt(slot), request.target);
    if (!target) {
      ctx.drop('relay-unknown-target');
      return;
    }
    if (!this.#relayLimit.take(`${from.host}:${from.port}`, ctx.now)) {
      ctx.drop('relay-rate');
      return;
    }
    const seqNo = ctx.nextSeqNo();
    ctx.stats.relayedPings++;
    ctx.sendMessage(target, { type: 'ping', seqNo, node: request.node, source: ctx.selfSource, digest: ctx.table.digest }, false);
    const timer = ctx.timers.schedule(ctx.now + ctx.config.probeTimeoutMs, () => {
      this.#relays.delete(seqNo);
      if (request.nack) this.#sendNack(requester, request.seqNo);
    });
    this.#relays.set(seqNo, { requesterSeqNo: request.seqNo, requester, timer });
  }

  #sendNack(to: Address, seqNo: number): void {
    this.#ctx.stats.nacksSent++;
    this.#ctx.sendMessage(to, { type: 'nack', seqNo }, false);
  }

  /** Handles an ack, from `from`, to one of this node's probes or relayed pings; false when it is neither. */
  onAck(from: Address, ack: AckMessage): boolean {
    const { seqNo } = ack;
    const pending = this.#pending.get(seqNo);
    if (pending) {
      const direct = from.host === pending.target.host && from.port === pending.target.port;
      if (!direct) answered(pending, from, 'ack');
      else if (ack.digest !== undefined) this.#observeView(pending.nameId, ack.digest);
      this.#acked(seqNo, ack.payload, direct);
      return true;
    }
    const relay = this.#relays.get(seqNo);
    if (!relay) return false;
    this.#relays.delete(seqNo);
    this.#ctx.timers.cancel(relay.timer);
    if (this.#ctx.allowReply()) this.#ctx.sendMessage(relay.requester, { type: 'ack', seqNo: relay.requesterSeqNo }, false);
    return true;
  }

  #observeView(nameId: number, digest: number): void {
    const { table, views, now } = this.#ctx;
    const slot = table.slotOfNameId(nameId);
    if (slot >= 0) views.observe(table.nameAt(slot), digest, now);
  }

  /** A helper's nack; more than the helpers asked would make Lifeguard think this node healthier than it is. */
  onNack(from: Address, seqNo: number): void {
    const pending = this.#pending.get(seqNo);
    if (!pending) {
      this.#ctx.stats.messagesIgnored++;
      return;
    }
    if (pending.nacks >= pending.expectedNacks) {
      this.#ctx.drop('unexpected-nack');
      return;
    }
    this.#ctx.stats.nacksReceived++;
    pending.nacks++;
    answered(pending, from, 'nack');
  }
}

function addressKey(address: Address): string {
  return `${address.host}:${address.port}`;
}

/** Notes a helper's answer to a probe, if it came from a helper's listed address. */
function answered(pending: PendingProbe, from: Address, answer: HelperAnswer): void {
  const key = addressKey(from);
  const helper = pending.helpers.find((h) => h.address === key && h.answer === 'none');
  if (helper) helper.answer = answer;
}

/** A member's listed address, if it is the one an indirect ping asks for (memberlist before protocol 2 sent no port). */
function relayTarget(member: MemberProfile, asked: Address): Address | undefined {
  const portMatches = asked.port === 0 || asked.port === member.port;
  return member.host === asked.host && portMatches ? { host: member.host, port: member.port } : undefined;
}

/** Answers go to the source a ping names, else to where the packet came from. */
function replyAddress(from: Address, source: { host: string; port: number } | undefined): Address {
  return source?.host && source.port ? { host: source.host, port: source.port } : from;
}
