import {
  createRandom,
  MemberNode,
  Registry,
  resolveConfig,
  type Input,
  type MemberProfile,
  type MemberEvent,
  type Output,
  type Protocol,
  type Random,
  type ProtocolConfig,
  startingIncarnation,
} from '../core/index.js';
import type { QueryCollector, QueryOptions, SerfReport } from '../serf/index.js';
import { longestVerdictMs } from './bounds.js';
import { EventQueue } from './event-queue.js';
import type { SimTraffic } from './load.js';
import { Network, SIM_PORT, simHost, type LinkSettings, type SimEvent } from './network.js';
import { Observer, type GroundTruth } from './observer.js';
import { checkProtocol, coreSeed, nodeIndex, pinnedByIndex, simProfile, simSettings } from './nodes.js';
import type { SimOptions } from './scenario.js';
import { SerfMembers } from './serf-members.js';
import { SerfReports } from './serf-reports.js';
import { SwitchTracker } from './switches.js';

/**
 * A deterministic discrete-event simulation: many instances of the real protocol core on a
 * virtual clock, over a network model with loss, delay, partitions, crashes, pauses and
 * restarts. The only clock is a binary heap of events; a node is touched only when an event
 * concerns it. The same options give the same result, bit for bit.
 */
export class Simulation implements GroundTruth {
  /** The settings every node runs with: the profile's, with the overrides. */
  readonly config: ProtocolConfig;
  /** The options with their defaults: seed 1, 60 s, no loss, 1 ms delay + up to 1 ms jitter. */
  readonly options: Required<Pick<SimOptions, 'nodes' | 'seed' | 'durationMs' | 'loss' | 'delayMs' | 'jitterMs'>>;
  readonly #events = new EventQueue<SimEvent>();
  readonly #rng: Random;
  readonly #registry = new Registry();
  readonly #profiles: MemberProfile[];
  readonly #network: Network;
  readonly #nodes: (MemberNode | null)[];
  readonly #generation: Int32Array;
  readonly #scheduledTick: Float64Array;
  readonly #crashed: Uint8Array;
  readonly #lastCrash: Float64Array;
  /** The incarnation each node last started with (heartbeat modes: its generation). */
  readonly #incarnation: Float64Array;
  /** The detector every node is configured with (and starts, or restarts, with). */
  readonly #protocol: Protocol;
  /** Members each node monitors by direct heartbeats, by node index (kept across restarts). */
  readonly #pinned: (string[] | undefined)[];
  /** Whether heartbeats judge, or have judged, in this run: restarts must then outbid tombstones. */
  #heartbeatsUsed: boolean;
  /** The longest a verdict about a crashed run can take (any detector used so far): one reaching a node restarted since is no false positive. */
  #verdictLag: number;
  readonly #pausedUntil: Float64Array;
  readonly #backlog = new Map<number, SimEvent[]>();
  readonly #serf: SerfMembers;
  #nextRequest = 1;
  /** Judges what the nodes believe against the ground truth: crash and leave reports, false positives, convergence. */
  readonly observer: Observer;
  /** Follows run-time detector switches until every live node has adopted them. */
  readonly switches: SwitchTracker;
  /** Everything sent so far; copy it to measure a stretch of time (see `loadPerRound`). */
  readonly traffic: SimTraffic;
  /** Called with every membership event as it happens: which node saw what about which. */
  readonly eventListeners: ((observer: number, member: number, event: MemberEvent, now: number) => void)[] = [];
  /** Called with every Serf report of every node: events received, queries to answer (`report.query.respond(bytes)`), keys, drops. */
  readonly serfListeners: ((index: number, report: SerfReport, now: number) => void)[] = [];
  /**
   * Called when a degraded pair begins (`degraded` true: node `index` has reached `member` only
   * through helpers or TCP twice in a row) or ends (a direct ack again); `MemberNode.degradedPeers` lists the current ones.
   */
  readonly degradedListeners: ((index: number, member: string, degraded: boolean, now: number) => void)[] = [];
  /** Follows the scenario's user events and queries: deliveries, acks and answers. */
  readonly serfReports: SerfReports;
  /** Virtual time (ms). */
  now = 0;
  /** Events handled so far. */
  eventsProcessed = 0;

  constructor(options: SimOptions) {
    this.options = simSettings(options);
    const n = this.options.nodes;
    this.config = resolveConfig(options.profile ?? 'lan', options.config ?? {});
    this.#rng = createRandom(this.options.seed);
    this.#network = new Network(
      { ...this.options, wireBytes: (options.byteCounting ?? 'wire') === 'wire', streamLoss: options.streamLoss ?? false },
      this,
      this.#events,
      this.#rng,
    );
    this.traffic = this.#network.traffic;
    this.#profiles = Array.from({ length: n }, (_, i) => simProfile(i));
    for (const profile of this.#profiles) this.#registry.nameId(profile.name);
    this.#nodes = new Array<MemberNode | null>(n).fill(null);
    this.#generation = new Int32Array(n);
    this.#scheduledTick = new Float64Array(n).fill(Infinity);
    this.#crashed = new Uint8Array(n);
    this.#lastCrash = new Float64Array(n).fill(-Infinity);
    this.#incarnation = new Float64Array(n);
    this.#pinned = pinnedByIndex(options.pinned ?? {}, n);
    this.#protocol = checkProtocol('protocol', options.protocol ?? 'swim');
    this.#heartbeatsUsed = this.#protocol !== 'swim';
    this.#verdictLag = longestVerdictMs(this.config, this.#protocol, n);
    this.#pausedUntil = new Float64Array(n);
    this.observer = new Observer(n, this, n);
    this.switches = new SwitchTracker(n, (index) => this.isLive(index));
    this.#serf = new SerfMembers(this, (index, input) => this.#step(index, input));
    this.serfReports = new SerfReports(this);
  }

  // ——— ground truth ———

  isLive(index: number): boolean {
    return this.#nodes[index] !== null && !this.#crashed[index];
  }

  isPaused(index: number): boolean {
    return this.#pausedUntil[index]! > this.now;
  }

  reachable(a: number, b: number): boolean {
    return this.#network.reachable(a, b) && this.#network.reachable(b, a);
  }

  recentlyRestarted(index: number): boolean {
    return this.now - this.#lastCrash[index]! <= this.#verdictLag;
  }

  /** The index of the node called `name` (n0 … n{N−1}); a ConfigError for any other name. */
  indexOf(name: string): number {
    return nodeIndex(name, this.options.nodes);
  }

  /** How many times node `index` has started (0: never): its current run. */
  generation(index: number): number {
    return this.#generation[index]!;
  }

  /** The core of node `index`, or null while it is not live (not started, crashed or left). */
  node(index: number): MemberNode | null {
    return this.isLive(index) ? this.#nodes[index]! : null;
  }

  /** The detector every node is configured with (a run-time switch may have changed it since). */
  get protocol(): Protocol {
    return this.#protocol;
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
    this.#serf.drop(index);
    // Heartbeat modes: a restart outbids the tombstones of its previous run (the clock is virtual
    // milliseconds, + 1 so that a restart at 0 is not 0). A SWIM-only run keeps memberlist's
    // behaviour: start at 1 and refute.
    const incarnation = this.#heartbeatsUsed && this.#generation[index]! > 1 ? startingIncarnation(this.now + 1, this.#incarnation[index]!) : 1;
    this.#incarnation[index] = incarnation;
    const node = new MemberNode({
      incarnation,
      protocol: this.#protocol,
      profile: this.#profiles[index]!,
      config: this.config,
      random: createRandom(coreSeed(this.options.seed, index, this.#generation[index]!)),
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
    this.#serf.drop(index);
    this.#pausedUntil[index] = 0;
    this.observer.crashed(index, node.name, this.now);
    this.switches.check(this.now);
  }

  /**
   * A graceful leave as the runtime's: Serf's leave intent now, the core's leave after its head
   * start; the node stops once the announcement has gone out.
   */
  leave(index: number, timeoutMs: number): void {
    const node = this.node(index);
    if (!node) return;
    this.observer.leaving(index, node.name, this.now);
    const headStartMs = this.#serf.announceLeave(index);
    const generation = this.generation(index);
    this.at(this.now + headStartMs, () => {
      if (this.generation(index) === generation && this.node(index)) this.#step(index, { kind: 'leave', timeoutMs });
    });
  }

  /** A node that left stops (after the packets of the current step are on their way). */
  #depart(index: number): void {
    const node = this.node(index);
    if (!node) return;
    node.stop();
    this.#crashed[index] = 1;
    this.#backlog.delete(index);
    this.#serf.drop(index);
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
    checkProtocol('protocol', protocol);
    const name = this.#profiles[via]!.name;
    const node = this.node(via);
    if (!node || this.isPaused(via)) {
      this.switches.refused(name, protocol, this.now);
      return;
    }
    if (protocol !== 'swim') this.#heartbeatsUsed = true;
    this.#verdictLag = Math.max(this.#verdictLag, longestVerdictMs(this.config, protocol, this.options.nodes));
    this.#step(via, { kind: 'setProtocol', protocol });
    const { epoch, origin } = node.protocolSwitch;
    this.switches.requested(via, name, protocol, epoch, origin, this.now);
  }

  /** Node `index` broadcasts a Serf user event now (`SerfMember.broadcastEvent`: an OptionError past Serf's limits); a node down or paused sends nothing. */
  userEvent(index: number, name: string, payload: Uint8Array): void {
    this.#serf.userEvent(index, name, payload);
  }

  /**
   * Node `index` asks a Serf query now, as `SerfMember.ask`; `collector` hears acks and answers
   * until now + the query's timeout on the virtual clock. A node down or paused asks nothing.
   */
  ask(index: number, name: string, payload: Uint8Array, options: QueryOptions, collector: QueryCollector): void {
    this.#serf.ask(index, name, payload, options, collector);
  }

  /** Steps live node `index` with any core input now and carries out its outputs (a forged packet, say); ignored for a node down. */
  input(index: number, input: Input): void {
    if (this.isLive(index)) this.#step(index, input);
  }

  /** Pauses node `index` for `forMs` from now: what reaches it waits, and is handled when it resumes. */
  pause(index: number, forMs: number): void {
    if (!this.isLive(index)) return;
    this.#pausedUntil[index] = this.now + forMs;
    this.at(this.now + forMs, () => this.#resume(index));
  }

  /** Cuts the network into groups (names per group; the unlisted form one more group). */
  partition(groups: number[][]): void {
    this.#network.partition(groups);
  }

  /** Ends every partition: all nodes reach each other again. */
  heal(): void {
    this.#network.heal();
  }

  /** Sets loss and delay for the link between two nodes (both directions). */
  setLink(a: number, b: number, link: LinkSettings): void {
    this.#network.setLink(a, b, link);
  }

  /** Cuts (`blocked` true) or restores one direction only: nothing `from` sends reaches `to`. */
  setBlocked(from: number, to: number, blocked: boolean): void {
    this.#network.setBlocked(from, to, blocked);
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
        const stream = this.#network.pendingStream(event.stream);
        if (!stream) return;
        this.#deliver(event.node, event, { kind: 'stream', from: stream.from, stream: event.stream, message: stream.message });
        return;
      }
      case 'streamReply':
      case 'streamEnd': {
        const stream = this.#network.pendingStream(event.stream);
        if (!stream) return;
        if (this.isLive(stream.initiator) && this.isPaused(stream.initiator)) {
          this.#deliver(stream.initiator, event, { kind: 'tick' }); // kept in the backlog
          return;
        }
        this.#network.closeStream(event.stream, stream);
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
    // As the runtime's streams do: Serf reads a peer's push/pull before the core merges it.
    if (input.kind === 'stream' || input.kind === 'streamReply') this.#serf.receiveState(index, input.message);
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
          lastTableTo = this.#network.sendPacket(index, output.to, output.messages, output.crc, lastTableTo);
          break;
        case 'openStream':
          this.#network.openStream(index, this.#generation[index]!, output.stream, output.to, output.message, output.timeoutMs, output.expectReply);
          break;
        case 'reply':
          this.#network.reply(index, output.stream, output.message);
          break;
        case 'event': {
          const member = this.#network.indexOfHost(output.event.member.host);
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
        case 'degraded':
          for (const listener of this.degradedListeners) listener(index, output.member, output.degraded, this.now);
          break;
        default:
          // message, joined, conflict, notice, rtt: the Serf layer's below, or nobody's.
          break;
      }
      this.#serf.consume(index, output);
    }
  }
}
