import {
  ConfigError,
  createRandom,
  DEFAULT_VSN,
  deriveSeed,
  MemberNode,
  memberlistSize,
  minSuspicionTimeout,
  compoundOverhead,
  PROTOCOLS,
  Registry,
  resolveConfig,
  streamSize,
  type Address,
  type Input,
  type MemberProfile,
  type MemberEvent,
  type Message,
  type Output,
  type Protocol,
  type Random,
  type StreamMessage,
  type SwimConfig,
  startingIncarnation,
} from '../core/index.js';
import { encodePacket, encodeStream } from '../wire/index.js';
import { EventQueue } from './event-queue.js';
import { countPacket, emptyTraffic, loadPerRound, roundMs, type SimTraffic } from './load.js';
import { Observer, type GroundTruth } from './observer.js';
import type { SimOptions, SimResult } from './scenario.js';
import { SwitchTracker } from './switches.js';

const SIM_PORT = 7946;
/** Serf's empty tags (0xFF + an empty msgpack map). */
const EMPTY_META = Uint8Array.of(0xff, 0x80);

type SimEvent =
  | { at: number; kind: 'tick'; node: number; generation: number }
  | { at: number; kind: 'packet'; node: number; from: Address; messages: readonly Message[] }
  | { at: number; kind: 'streamOpen'; node: number; stream: number }
  | { at: number; kind: 'streamReply'; stream: number; message: StreamMessage }
  | { at: number; kind: 'streamEnd'; stream: number; reason: string }
  | { at: number; kind: 'action'; run: () => void };

/** A stream exchange in flight between two simulated nodes. */
interface SimStream {
  readonly initiator: number;
  readonly generation: number;
  /** The initiator's own id for it. */
  readonly localId: number;
  readonly target: number;
  readonly message: StreamMessage;
  readonly from: Address;
  done: boolean;
}

/** The host of the i-th simulated node: 10.x.y.z, unique up to 16 million nodes. */
export function simHost(index: number): string {
  return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

/**
 * A deterministic discrete-event simulation: many instances of the real protocol core on a
 * virtual clock, over a network model with loss, delay, partitions, crashes, pauses and
 * restarts. The only clock is a binary heap of events; a node is touched only when an event
 * concerns it. The same options give the same result, bit for bit.
 */
export class Simulation implements GroundTruth {
  /** The settings every node runs with: the profile's, with the overrides. */
  readonly config: SwimConfig;
  /** The options with their defaults: seed 1, 60 s, no loss, 1 ms delay + up to 1 ms jitter. */
  readonly options: Required<Pick<SimOptions, 'nodes' | 'seed' | 'durationMs' | 'loss' | 'delayMs' | 'jitterMs'>>;
  readonly #events = new EventQueue<SimEvent>();
  readonly #rng: Random;
  readonly #registry = new Registry();
  readonly #profiles: MemberProfile[];
  /** Each node's address, shared by every packet it sends (addresses are immutable). */
  readonly #addresses: Address[];
  readonly #byHost = new Map<string, number>();
  readonly #nodes: (MemberNode | null)[];
  readonly #generation: Int32Array;
  readonly #scheduledTick: Float64Array;
  readonly #crashed: Uint8Array;
  readonly #lastCrash: Float64Array;
  /** The incarnation each node last started with (heartbeat modes: its generation). */
  readonly #incarnation: Float64Array;
  /** The detector every node is configured with (and starts, or restarts, with). */
  readonly #detector: Protocol;
  /** Members each node monitors by direct heartbeats, by node index (kept across restarts). */
  readonly #pinned: (string[] | undefined)[];
  /** Whether heartbeats judge, or have judged, in this run: restarts must then outbid tombstones. */
  #heartbeatsUsed: boolean;
  /**
   * The longest a verdict about a crashed run can take (for any detector used in this run), so
   * that one reaching a node restarted since is not counted as a false positive.
   */
  #verdictLag: number;
  readonly #pausedUntil: Float64Array;
  readonly #backlog = new Map<number, SimEvent[]>();
  readonly #group: Int32Array;
  readonly #streams = new Map<number, SimStream>();
  readonly #wireBytes: boolean;
  readonly #links = new Map<number, { loss?: number; delayMs?: number; jitterMs?: number }>();
  #nextStream = 1;
  #nextRequest = 1;
  /** Judges what the nodes believe against the ground truth: crash and leave reports, false positives, convergence. */
  readonly observer: Observer;
  /** Follows run-time detector switches until every live node has adopted them. */
  readonly switches: SwitchTracker;
  /** Everything sent so far; copy it to measure a stretch of time (see `loadPerRound`). */
  readonly traffic: SimTraffic = emptyTraffic();
  /** Called with every membership event as it happens: which node saw what about which. */
  readonly eventListeners: ((observer: number, member: number, event: MemberEvent, now: number) => void)[] = [];
  /** Virtual time (ms). */
  now = 0;
  /** Events handled so far. */
  eventsProcessed = 0;

  constructor(options: SimOptions) {
    const n = options.nodes;
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`nodes must be a positive integer, got ${n}`);
    const loss = options.loss ?? 0;
    if (!(loss >= 0 && loss <= 1)) throw new ConfigError(`loss must be within 0 … 1, got ${loss}`);
    this.config = resolveConfig(options.profile ?? 'lan', options.config ?? {});
    this.options = {
      nodes: n,
      seed: options.seed ?? 1,
      durationMs: options.durationMs ?? 60_000,
      loss,
      delayMs: options.delayMs ?? 1,
      jitterMs: options.jitterMs ?? 1,
    };
    this.#rng = createRandom(this.options.seed);
    this.#wireBytes = (options.byteCounting ?? 'wire') === 'wire';
    this.#profiles = [];
    this.#addresses = [];
    for (let i = 0; i < n; i++) {
      const profile: MemberProfile = { name: `n${i}`, host: simHost(i), port: SIM_PORT, meta: EMPTY_META, vsn: DEFAULT_VSN };
      this.#profiles.push(profile);
      this.#addresses.push({ host: profile.host, port: profile.port });
      this.#byHost.set(profile.host, i);
      this.#registry.nameId(profile.name);
    }
    this.#nodes = new Array<MemberNode | null>(n).fill(null);
    this.#generation = new Int32Array(n);
    this.#scheduledTick = new Float64Array(n).fill(Infinity);
    this.#crashed = new Uint8Array(n);
    this.#lastCrash = new Float64Array(n).fill(-Infinity);
    this.#incarnation = new Float64Array(n);
    this.#pinned = pinnedByIndex(options.pinned ?? {}, n);
    this.#detector = options.detector ?? 'swim';
    if (!PROTOCOLS.includes(this.#detector)) {
      throw new ConfigError(`detector must be one of ${PROTOCOLS.join(', ')}, got "${String(this.#detector)}"`);
    }
    this.#heartbeatsUsed = this.#detector !== 'swim';
    this.#verdictLag = this.#verdictLagOf(this.#detector);
    this.#pausedUntil = new Float64Array(n);
    this.#group = new Int32Array(n);
    this.observer = new Observer(n, this, n);
    this.switches = new SwitchTracker(n, (index) => this.isLive(index));
  }

  #verdictLagOf(protocol: Protocol): number {
    const c = this.config;
    if (protocol !== 'swim') {
      // Heartbeat modes: a verdict about a previous run comes failAfter after the last rise of
      // its heartbeat, whose last value push gossip spreads within log_{M+1}(N) + ln(N)/M rounds
      // (doubled, plus a period, against loss; direct heartbeats are faster still).
      const n = this.options.nodes;
      const m = c.heartbeatFanout;
      const rounds = Math.ceil(Math.log(n) / Math.log(m + 1)) + Math.ceil(Math.log(n) / m);
      return c.failAfterMs + (2 * rounds + 1) * c.heartbeatIntervalMs;
    }
    // SWIM: the longest suspicion timeout plus a probe period at the worst local health.
    return (
      c.suspicionMaxTimeoutMult * minSuspicionTimeout(c.suspicionMult, this.options.nodes, c.probeIntervalMs) + c.awarenessMaxMultiplier * c.probeIntervalMs
    );
  }

  // ——— ground truth ———

  isLive(index: number): boolean {
    return this.#nodes[index] !== null && !this.#crashed[index];
  }

  isPaused(index: number): boolean {
    return this.#pausedUntil[index]! > this.now;
  }

  reachable(a: number, b: number): boolean {
    return this.#group[a] === this.#group[b];
  }

  recentlyRestarted(index: number): boolean {
    return this.now - this.#lastCrash[index]! <= this.#verdictLag;
  }

  /** The index of the node called `name` (n0 … n{N−1}); a ConfigError for any other name. */
  indexOf(name: string): number {
    const match = /^n(\d+)$/.exec(name);
    const index = match ? Number(match[1]) : -1;
    if (index < 0 || index >= this.options.nodes) {
      throw new ConfigError(`no simulated node named "${name}": names are n0 … n${this.options.nodes - 1}`);
    }
    return index;
  }

  /** The core of node `index`, or null while it is not live (not started, crashed or left). */
  node(index: number): MemberNode | null {
    return this.isLive(index) ? this.#nodes[index]! : null;
  }

  /** The detector every node is configured with (a run-time switch may have changed it since). */
  get detector(): Protocol {
    return this.#detector;
  }

  /** The simulation's own randomness (the nodes have theirs), seeded by `options.seed`: the network and the scenario draw from it. */
  get random(): Random {
    return this.#rng;
  }

  // ——— scripting ———

  /** Runs `run` at virtual time `at`. */
  at(at: number, run: () => void): void {
    this.#events.push({ at, kind: 'action', run });
  }

  /** Starts node `index` now; it joins through `seeds` unless it starts knowing everyone. */
  startNode(index: number, seeds: number[], members?: { profile: MemberProfile; incarnation: number }[]): void {
    if (this.isLive(index)) return;
    this.#crashed[index] = 0;
    this.#generation[index]!++;
    // Heartbeat modes: a restart outbids the tombstones of its previous run (the clock is virtual
    // milliseconds, + 1 so that a restart at 0 is not 0). A SWIM-only run keeps memberlist's
    // behaviour: start at 1 and refute.
    const incarnation = this.#heartbeatsUsed && this.#generation[index]! > 1 ? startingIncarnation(this.now + 1, this.#incarnation[index]!) : 1;
    this.#incarnation[index] = incarnation;
    const node = new MemberNode({
      incarnation,
      detector: this.#detector,
      profile: this.#profiles[index]!,
      config: this.config,
      random: createRandom(deriveSeed(this.options.seed, index * 1000 + this.#generation[index]!)),
      now: this.now,
      registry: this.#registry,
      ...(members ? { members } : {}),
      ...(this.#pinned[index] ? { pinned: this.#pinned[index] } : {}),
    });
    this.#nodes[index] = node;
    this.observer.revived(index);
    this.observer.started(index, this.now);
    this.switches.started(index);
    this.#handle(index, node.drain());
    this.#rearm(index);
    const live = seeds.filter((s) => s !== index && this.isLive(s));
    if (live.length > 0) {
      const join: Input = {
        kind: 'join',
        request: this.#nextRequest++,
        seeds: live.map((s) => ({ host: simHost(s), port: SIM_PORT })),
      };
      this.#step(index, join);
    }
  }

  /** Starts every node already knowing every other one alive (no join traffic). */
  startConverged(): void {
    const n = this.options.nodes;
    const members = this.#profiles.map((profile) => ({ profile, incarnation: 1 }));
    for (let i = 0; i < n; i++) {
      this.observer.presetView(i, n);
      this.startNode(i, [], members);
    }
  }

  /** Crashes node `index` now: it stops without a word, and the observer starts a crash report. */
  crash(index: number): void {
    const node = this.#nodes[index];
    if (!node || this.#crashed[index]) return;
    node.stop();
    this.#crashed[index] = 1;
    this.#lastCrash[index] = this.now;
    this.#backlog.delete(index);
    this.#pausedUntil[index] = 0;
    this.observer.crashed(index, node.name, this.now);
    this.switches.check(this.now);
  }

  /** Announces a graceful leave; the node stops once the announcement has gone out. */
  leave(index: number, timeoutMs: number): void {
    const node = this.node(index);
    if (!node) return;
    this.observer.leaving(index, node.name, this.now);
    this.#step(index, { kind: 'leave', timeoutMs });
  }

  /** A node that left stops (after the packets of the current step are on their way). */
  #depart(index: number): void {
    const node = this.node(index);
    if (!node) return;
    node.stop();
    this.#crashed[index] = 1;
    this.#backlog.delete(index);
    this.observer.departed(index, this.now);
    this.switches.check(this.now);
  }

  /** Crash (if running) and start again with the same name and address, joining via a live node. */
  restart(index: number): void {
    this.crash(index);
    const seeds: number[] = [];
    for (let tries = 0; tries < 3 * this.options.nodes && seeds.length < 1; tries++) {
      const candidate = this.#rng.int(this.options.nodes);
      if (candidate !== index && this.isLive(candidate)) seeds.push(candidate);
    }
    this.#nodes[index] = null;
    this.startNode(index, seeds);
  }

  /**
   * Asks node `via` to switch the whole cluster to `protocol` (the core spreads it by gossip);
   * `switches.reports` follows it until every live node has adopted it. A node that is not
   * running (crashed, paused) cannot be asked: the report says so.
   */
  switchProtocol(protocol: Protocol, via: number): void {
    if (!PROTOCOLS.includes(protocol)) {
      throw new ConfigError(`protocol must be one of ${PROTOCOLS.join(', ')}, got "${String(protocol)}"`);
    }
    const name = this.#profiles[via]!.name;
    const node = this.node(via);
    if (!node || this.isPaused(via)) {
      this.switches.refused(name, protocol, this.now);
      return;
    }
    if (protocol !== 'swim') this.#heartbeatsUsed = true;
    this.#verdictLag = Math.max(this.#verdictLag, this.#verdictLagOf(protocol));
    this.#step(via, { kind: 'setProtocol', protocol });
    const { epoch, origin } = node.protocolSwitch;
    this.switches.requested(via, name, protocol, epoch, origin, this.now);
  }

  /** Pauses node `index` for `forMs` from now: what reaches it waits, and is handled when it resumes. */
  pause(index: number, forMs: number): void {
    if (!this.isLive(index)) return;
    this.#pausedUntil[index] = this.now + forMs;
    this.at(this.now + forMs, () => this.#resume(index));
  }

  /** Cuts the network into groups (names per group; the unlisted form one more group). */
  partition(groups: number[][]): void {
    this.#group.fill(groups.length);
    groups.forEach((members, g) => {
      for (const index of members) this.#group[index] = g;
    });
  }

  /** Ends every partition: all nodes reach each other again. */
  heal(): void {
    this.#group.fill(0);
  }

  /** Processes events until virtual time `until` (inclusive). */
  runUntil(until: number): void {
    const events = this.#events;
    while (events.peekTime() <= until) {
      const event = events.pop()!;
      this.now = event.at;
      this.eventsProcessed++;
      this.#dispatch(event);
    }
    this.now = Math.max(this.now, until);
  }

  // ——— internals ———

  #dispatch(event: SimEvent): void {
    switch (event.kind) {
      case 'action':
        event.run();
        return;
      case 'tick': {
        if (event.generation !== this.#generation[event.node] || this.#scheduledTick[event.node] !== event.at) return;
        this.#scheduledTick[event.node] = Infinity;
        if (this.isPaused(event.node)) return; // resumes with a tick
        this.#step(event.node, { kind: 'tick' });
        return;
      }
      case 'packet':
        this.#deliver(event.node, event, { kind: 'packet', from: event.from, messages: event.messages });
        return;
      case 'streamOpen': {
        const stream = this.#streams.get(event.stream);
        if (!stream || stream.done) return;
        this.#deliver(event.node, event, { kind: 'stream', from: stream.from, stream: event.stream, message: stream.message });
        return;
      }
      case 'streamReply':
      case 'streamEnd': {
        const stream = this.#streams.get(event.stream);
        if (!stream || stream.done) return;
        if (this.isLive(stream.initiator) && this.isPaused(stream.initiator)) {
          this.#deliver(stream.initiator, event, { kind: 'tick' }); // kept in the backlog
          return;
        }
        stream.done = true;
        this.#streams.delete(event.stream);
        if (this.#generation[stream.initiator] !== stream.generation) return;
        const input: Input =
          event.kind === 'streamReply'
            ? { kind: 'streamReply', stream: stream.localId, message: event.message }
            : { kind: 'streamFailed', stream: stream.localId, reason: event.reason };
        this.#deliver(stream.initiator, event, input);
        return;
      }
    }
  }

  /** Hands an input to a node, or keeps it for later if the node is paused. */
  #deliver(index: number, event: SimEvent, input: Input): void {
    if (!this.isLive(index)) return;
    if (this.isPaused(index)) {
      let backlog = this.#backlog.get(index);
      if (!backlog) {
        backlog = [];
        this.#backlog.set(index, backlog);
      }
      backlog.push(event);
      return;
    }
    this.#step(index, input);
  }

  #resume(index: number): void {
    if (!this.isLive(index) || this.isPaused(index)) return;
    this.#pausedUntil[index] = 0;
    // Like a process after SIGCONT: overdue timers fire first, then the backlog is read.
    this.#step(index, { kind: 'tick' });
    const backlog = this.#backlog.get(index) ?? [];
    this.#backlog.delete(index);
    for (const event of backlog) this.#dispatch(event);
  }

  #step(index: number, input: Input): void {
    const node = this.#nodes[index]!;
    this.#handle(index, node.step(this.now, input));
    this.#rearm(index);
  }

  #rearm(index: number): void {
    const node = this.#nodes[index];
    if (!node || this.#crashed[index]) return;
    const deadline = node.nextDeadline();
    if (deadline < this.#scheduledTick[index]!) {
      this.#scheduledTick[index] = deadline;
      this.#events.push({ at: Math.max(deadline, this.now), kind: 'tick', node: index, generation: this.#generation[index]! });
    }
  }

  #handle(index: number, outputs: Output[]): void {
    let lastTableTo = '';
    for (const output of outputs) {
      switch (output.kind) {
        case 'packet':
          lastTableTo = countPacket(this.traffic, output.messages, output.to.host, lastTableTo);
          this.#sendPacket(index, output.to, output.messages, output.crc);
          break;
        case 'openStream':
          this.#openStream(index, output.stream, output.to, output.message, output.timeoutMs, output.expectReply);
          break;
        case 'reply':
          this.#reply(index, output.stream, output.message);
          break;
        case 'event': {
          const member = this.#byHost.get(output.event.member.host);
          if (member === undefined) break;
          this.observer.event(index, member, output.event, this.now);
          for (const listener of this.eventListeners) listener(index, member, output.event, this.now);
          break;
        }
        case 'left':
          this.at(this.now, () => this.#depart(index));
          break;
        case 'protocol':
          this.switches.adopted(index, output.epoch, output.origin, this.now);
          break;
        case 'message':
        case 'joined':
        case 'notice':
        case 'rtt':
          break;
      }
    }
  }

  /** Sets loss and delay for the link between two nodes (both directions). */
  setLink(a: number, b: number, link: { loss?: number; delayMs?: number; jitterMs?: number }): void {
    if (link.loss !== undefined && !(link.loss >= 0 && link.loss <= 1)) {
      throw new ConfigError(`link loss must be within 0 … 1, got ${link.loss}`);
    }
    this.#links.set(this.#linkKey(a, b), link);
  }

  #linkKey(a: number, b: number): number {
    return Math.min(a, b) * this.options.nodes + Math.max(a, b);
  }

  #link(a: number, b: number): { loss?: number; delayMs?: number; jitterMs?: number } | undefined {
    return this.#links.size === 0 ? undefined : this.#links.get(this.#linkKey(a, b));
  }

  #delay(a: number, b: number): number {
    const link = this.#link(a, b);
    return (link?.delayMs ?? this.options.delayMs) + this.#rng.float() * (link?.jitterMs ?? this.options.jitterMs);
  }

  #sendPacket(from: number, to: Address, messages: readonly Message[], crc: boolean): void {
    const traffic = this.traffic;
    traffic.packets++;
    if (this.#wireBytes) {
      traffic.bytes += encodePacket(messages, { crc, compress: true }).length;
    } else {
      let size = compoundOverhead(messages.length) + (crc ? 5 : 0);
      for (const message of messages) size += memberlistSize(message);
      traffic.bytes += size;
    }
    const target = this.#byHost.get(to.host);
    if (target === undefined || !this.reachable(from, target)) return;
    const loss = this.#link(from, target)?.loss ?? this.options.loss;
    if (loss > 0 && this.#rng.float() < loss) return;
    this.#events.push({ at: this.now + this.#delay(from, target), kind: 'packet', node: target, from: this.#addresses[from]!, messages });
  }

  #openStream(from: number, localId: number, to: Address, message: StreamMessage, timeoutMs: number, expectReply: boolean): void {
    this.traffic.packets++;
    this.traffic.bytes += this.#streamBytes(message);
    const target = this.#byHost.get(to.host);
    const id = this.#nextStream++;
    const stream: SimStream = {
      initiator: from,
      generation: this.#generation[from]!,
      localId,
      target: target ?? -1,
      message,
      from: this.#addresses[from]!,
      done: false,
    };
    this.#streams.set(id, stream);
    if (target === undefined || !this.reachable(from, target)) {
      // No route: the connection attempt times out.
      this.#events.push({ at: this.now + timeoutMs, kind: 'streamEnd', stream: id, reason: 'timed out' });
      return;
    }
    if (!this.isLive(target)) {
      // The host is up but nothing listens: refused after a round trip.
      this.#events.push({ at: this.now + 2 * this.#delay(from, target), kind: 'streamEnd', stream: id, reason: 'connection refused' });
      return;
    }
    this.#events.push({ at: this.now + this.#delay(from, target), kind: 'streamOpen', node: target, stream: id });
    if (expectReply) {
      this.#events.push({ at: this.now + timeoutMs, kind: 'streamEnd', stream: id, reason: 'timed out' });
    } else {
      stream.done = true;
    }
  }

  #streamBytes(message: StreamMessage): number {
    return this.#wireBytes ? encodeStream(message, { compress: true }).length : streamSize(message);
  }

  #reply(from: number, id: number, message: StreamMessage): void {
    this.traffic.packets++;
    this.traffic.bytes += this.#streamBytes(message);
    const stream = this.#streams.get(id);
    if (!stream || stream.done || !this.reachable(from, stream.initiator)) return;
    this.#events.push({ at: this.now + this.#delay(from, stream.initiator), kind: 'streamReply', stream: id, message });
  }
}

/** Checks the `pinned` option's names and files the lists by node index. */
function pinnedByIndex(pinned: Readonly<Record<string, readonly string[]>>, n: number): (string[] | undefined)[] {
  const byIndex = new Array<string[] | undefined>(n);
  const indexOf = (name: string) => {
    const match = /^n(\d+)$/.exec(name);
    const index = match ? Number(match[1]) : -1;
    if (index < 0 || index >= n) throw new ConfigError(`pinned: no simulated node named "${name}" (names are n0 … n${n - 1})`);
    return index;
  };
  for (const [observer, members] of Object.entries(pinned)) {
    for (const member of members) indexOf(member);
    byIndex[indexOf(observer)] = [...members];
  }
  return byIndex;
}

/** A summary of a finished simulation, in the shape `hearsay sim --json` prints; `wallMs` is the real time it took. */
export function summarize(sim: Simulation, options: SimOptions, wallMs: number): SimResult {
  const { observer, config, traffic } = sim;
  const swim = sim.detector === 'swim';
  const durationMs = sim.options.durationMs;
  const durationS = durationMs / 1000;
  const round = roundMs(config, sim.detector);
  const crashes = observer.crashReports.map((c) => ({ ...c }));
  const mean = (values: (number | null)[]): number | null => {
    const known = values.filter((v): v is number => v !== null);
    return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
  };
  let suspicions = 0;
  let refutations = 0;
  for (let i = 0; i < sim.options.nodes; i++) {
    const node = sim.node(i);
    if (!node) continue;
    suspicions += node.stats.suspicionsRaised;
    refutations += node.stats.refutations;
  }
  return {
    nodes: sim.options.nodes,
    seed: sim.options.seed,
    protocol: sim.detector,
    profile: options.profile ?? 'lan',
    duration_ms: sim.options.durationMs,
    loss: sim.options.loss,
    start: options.start ?? 'join',
    converged_at_ms: observer.convergedAt,
    converged_at_end: observer.converged,
    settled_at_ms: observer.converged ? observer.settledAt : null,
    crashes,
    leaves: observer.leaveReports.map((l) => ({ ...l })),
    mean_first_suspect_ms: mean(crashes.map((c) => c.first_suspect_ms)),
    // SWIM's expectations say nothing about heartbeat gossip, whose suspicion is a fixed silence.
    expected_first_suspect_ms: swim ? mean(crashes.map((c) => swimFirstSuspicionMs(config, c.group_size, c.live_nodes))) : null,
    expected_first_suspect_continuous_ms: swim ? mean(crashes.map((c) => roundRobinFirstSuspicionMs(config, c.group_size, c.live_nodes))) : null,
    mean_all_failed_ms: mean(crashes.map((c) => c.all_failed_ms)),
    false_positives: observer.falsePositives,
    resurrections: observer.resurrections,
    suspicions,
    refutations,
    switches: sim.switches.reports.map((s) => ({ ...s })),
    msgs_per_node_per_s: traffic.packets / sim.options.nodes / durationS,
    bytes_per_node_per_s: traffic.bytes / sim.options.nodes / durationS,
    bytes_are_estimates: (options.byteCounting ?? 'wire') !== 'wire',
    round_ms: round,
    load_per_round: loadPerRound(emptyTraffic(), traffic, durationMs, round),
    events_processed: sim.eventsProcessed,
    wall_ms: Math.round(wallMs),
  };
}

/**
 * SWIM's expected time to the first suspicion of a crashed member (docs/detectors.md): 1/(1 − e^(−q))
 * protocol periods until someone probes it (e/(e−1) as q → 1, q the live fraction of the
 * group), plus one probe interval for that probe to fail (the ack deadline).
 */
export function swimFirstSuspicionMs(config: SwimConfig, group: number, live: number): number {
  const q = Math.max(1e-9, live / group);
  return (1 / (1 - Math.exp(-q))) * config.probeIntervalMs + config.probeIntervalMs;
}

/**
 * The continuous-time version for randomised round-robin: each of the L live observers
 * reaches the dead member at a uniform time within its pass of N − 1 periods, so the first one
 * comes after (N − 1)/(L + 1) periods on average; then one probe interval for it to fail.
 */
export function roundRobinFirstSuspicionMs(config: SwimConfig, group: number, live: number): number {
  return ((group - 1) / (live + 1)) * config.probeIntervalMs + config.probeIntervalMs;
}
