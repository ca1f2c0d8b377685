/**
 * A fake-clock harness for the sans-I/O core. A `Harness` owns one `MemberNode`, feeds it
 * inputs at chosen times, advances time by stepping `tick` exactly at `nextDeadline()`, and
 * records every output with the time it was produced. Responders (small functions called on
 * each output) play the part of the rest of the cluster: ack pings, answer indirect pings, and
 * so on. A `Network` wires several harnesses together on one clock for end-to-end scenarios.
 *
 * Everything is deterministic: the node's randomness comes from `createRandom(seed)` and there
 * are no real timers.
 */
import {
  createRandom,
  DEFAULT_VSN,
  MemberNode,
  type Registry,
  resolveConfig,
  type Address,
  type Input,
  type MemberEvent,
  type MemberEventType,
  type MemberProfile,
  type Message,
  type Output,
  type ProfileName,
  type Protocol,
  type StreamId,
  type StreamMessage,
  type ProtocolConfig,
} from '../../packages/hearsay/src/core/index.js';
import { inspectContext } from '../../packages/hearsay/src/core/node.js';

/** Serf's "no tags" meta: 0xFF + an empty msgpack map. */
export const SERF_EMPTY_TAGS: Uint8Array = Uint8Array.of(0xff, 0x80);

export const PORT = 7946;

export function profileOf(name: string, host: string, extra: Partial<MemberProfile> = {}): MemberProfile {
  return { name, host, port: PORT, meta: SERF_EMPTY_TAGS, vsn: DEFAULT_VSN, ...extra };
}

/** `count` distinct members named `${prefix}1` … with distinct IPv4 addresses. */
export function members(count: number, prefix = 'm', extra: Partial<MemberProfile> = {}): MemberProfile[] {
  const result: MemberProfile[] = [];
  for (let i = 1; i <= count; i++) {
    result.push(profileOf(`${prefix}${i}`, `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, extra));
  }
  return result;
}

/** Heartbeat detector timings for the fake clock, with push/pull and reconnects out of the way. */
export const HEARTBEAT_CONFIG: Partial<ProtocolConfig> = {
  pushPullIntervalMs: 0,
  reconnectIntervalMs: 0,
  heartbeatIntervalMs: 1000,
  heartbeatFanout: 3,
  suspectAfterMs: 5000,
  failAfterMs: 10_000,
  cleanupAfterMs: 60_000,
};

export function addressOf(p: { host: string; port: number }): Address {
  return { host: p.host, port: p.port };
}

export function sameAddress(a: { host: string; port: number }, b: { host: string; port: number }): boolean {
  return a.host === b.host && a.port === b.port;
}

/** The member a gossip message is about (alive/suspect/dead), else undefined. */
export function about(message: Message): string | undefined {
  switch (message.type) {
    case 'alive':
      return message.profile.name;
    case 'suspect':
    case 'dead':
      return message.node;
    default:
      return undefined;
  }
}

export type MessageOf<K extends Message['type']> = Extract<Message, { type: K }>;

export interface Recorded {
  readonly at: number;
  readonly output: Output;
}

export interface SentPacket {
  readonly at: number;
  readonly to: Address;
  readonly messages: readonly Message[];
  readonly crc: boolean;
}

export interface SentMessage<M extends Message = Message> {
  readonly at: number;
  readonly to: Address;
  readonly message: M;
  /** Position in its packet: 0 is the primary message, later ones are piggybacked. */
  readonly index: number;
}

export type OpenedStream = Extract<Output, { kind: 'openStream' }> & { readonly at: number };
export type StreamReply = Extract<Output, { kind: 'reply' }> & { readonly at: number };

/** Called for every output the node produces; may schedule inputs back with `h.deliver`. */
export type Responder = (h: Harness, at: number, output: Output) => void;

export interface HarnessOptions {
  name?: string;
  host?: string;
  port?: number;
  meta?: Uint8Array;
  vsn?: Uint8Array;
  seed?: number;
  profile?: ProfileName;
  config?: Partial<ProtocolConfig>;
  incarnation?: number;
  /** The clock reading at which the node starts. */
  start?: number;
  /** Members preloaded as alive (silently, as a converged snapshot). */
  preload?: readonly MemberProfile[];
  /** Incarnation of the preloaded members (1 by default). */
  preloadIncarnation?: number;
  /** The failure detector ('swim' by default). */
  protocol?: Protocol;
  /** Members monitored by direct heartbeats (heartbeat and hybrid modes). */
  pinned?: readonly string[];
  /** The registry of names and profiles, shared with other nodes (a fresh one by default). */
  registry?: Registry;
}

interface Scheduled {
  readonly at: number;
  readonly order: number;
  readonly input: Input;
}

export class Harness {
  readonly node: MemberNode;
  readonly self: MemberProfile;
  readonly config: ProtocolConfig;
  readonly log: Recorded[] = [];
  readonly responders: Responder[] = [];
  /** Called with every input just before the node steps it (a Serf layer reads push/pull state there). */
  readonly beforeStep: ((input: Input) => void)[] = [];
  now: number;
  #scheduled: Scheduled[] = [];
  #order = 0;

  constructor(options: HarnessOptions = {}) {
    this.now = options.start ?? 0;
    this.config = resolveConfig(options.profile ?? 'lan', options.config ?? {});
    this.self = profileOf(options.name ?? 'self', options.host ?? '10.0.0.1', {
      port: options.port ?? PORT,
      meta: options.meta ?? SERF_EMPTY_TAGS,
      vsn: options.vsn ?? DEFAULT_VSN,
    });
    this.node = new MemberNode({
      profile: this.self,
      config: this.config,
      random: createRandom(options.seed ?? 1),
      now: this.now,
      ...(options.incarnation !== undefined ? { incarnation: options.incarnation } : {}),
      ...(options.protocol ? { protocol: options.protocol } : {}),
      ...(options.pinned ? { pinned: options.pinned } : {}),
      ...(options.registry ? { registry: options.registry } : {}),
    });
    this.#guardAgainstRunawayTimers();
    if (options.preload) {
      const incarnation = options.preloadIncarnation ?? 1;
      this.node.preload(options.preload.map((profile) => ({ profile, incarnation })));
    }
    this.#record(this.now, this.node.drain());
  }

  /**
   * A timer that keeps re-arming itself at the current instant would spin forever inside one
   * `step`; fail loudly instead of hanging the test run.
   */
  #guardAgainstRunawayTimers(): void {
    const ctx = inspectContext(this.node);
    const { timers } = ctx;
    const schedule = timers.schedule.bind(timers);
    let scheduledThisStep = 0;
    let stepNow = NaN;
    timers.schedule = (at, fire) => {
      if (ctx.now !== stepNow) {
        stepNow = ctx.now;
        scheduledThisStep = 0;
      }
      if (++scheduledThisStep > 100_000) throw new Error(`runaway timers: 100000 scheduled at t=${stepNow} (next at ${at})`);
      return schedule(at, fire);
    };
  }

  get address(): Address {
    return addressOf(this.self);
  }

  get name(): string {
    return this.self.name;
  }

  respond(...responders: Responder[]): this {
    this.responders.push(...responders);
    return this;
  }

  // ——— driving ———

  /** Advances the clock to `at` (firing due deadlines), then feeds `input` at `at`. */
  input(input: Input, at: number = this.now): Output[] {
    this.advanceTo(at);
    return this.#step(at, input);
  }

  /** A UDP packet from `from` carrying `messages`, now. */
  packet(from: { host: string; port: number }, ...messages: Message[]): Output[] {
    return this.input({ kind: 'packet', from: addressOf(from), messages });
  }

  /** A gossip packet from an anonymous peer. */
  gossip(...messages: Message[]): Output[] {
    return this.packet({ host: '10.9.9.9', port: PORT }, ...messages);
  }

  /** Schedules an input for time `at` (≥ now), as a network would. */
  deliver(at: number, input: Input): void {
    if (at < this.now) throw new Error(`cannot deliver in the past (${at} < ${this.now})`);
    this.#scheduled.push({ at, order: this.#order++, input });
    this.#scheduled.sort((a, b) => a.at - b.at || a.order - b.order);
  }

  /** The time of the next thing that will happen: a node deadline or a scheduled input. */
  nextEventAt(): number {
    return Math.min(this.node.nextDeadline(), this.#scheduled[0]?.at ?? Infinity);
  }

  /** Processes the single next event (scheduled inputs first when simultaneous). */
  processNext(): void {
    const input = this.#scheduled[0];
    const deadline = this.node.nextDeadline();
    if (input && input.at <= deadline) {
      this.#scheduled.shift();
      this.#step(input.at, input.input);
    } else if (deadline < Infinity) {
      this.#step(deadline, { kind: 'tick' });
    }
  }

  /** Processes every event due at or before `t`, then sets the clock to `t`. */
  advanceTo(t: number): void {
    if (t < this.now) throw new Error(`cannot go back in time (${t} < ${this.now})`);
    while (this.nextEventAt() <= t) this.processNext();
    this.now = t;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.now + ms);
  }

  /**
   * The node frozen until `t` (a busy loop, a GC pause): nothing of it runs on time, and at `t` its
   * overdue deadlines fire at once, before any input; the outputs reach the responders as usual.
   */
  wakeAt(t: number): Output[] {
    if (this.#scheduled.some((item) => item.at < t)) throw new Error('inputs are scheduled before the wake-up: deliver them after it');
    return this.#step(t, { kind: 'tick' });
  }

  /** Processes events one at a time until `done()` holds; fails after `limitMs` of clock. */
  runUntil(done: () => boolean, limitMs = 120_000): void {
    const limit = this.now + limitMs;
    while (!done()) {
      const next = this.nextEventAt();
      if (next > limit) throw new Error(`condition not reached within ${limitMs} ms (now ${this.now})`);
      this.processNext();
    }
  }

  #step(at: number, input: Input): Output[] {
    this.now = Math.max(this.now, at);
    for (const observe of this.beforeStep) observe(input);
    const outputs = this.node.step(this.now, input);
    this.#record(this.now, outputs);
    return outputs;
  }

  #record(at: number, outputs: Output[]): void {
    for (const output of outputs) {
      this.log.push({ at, output });
      for (const responder of this.responders) responder(this, at, output);
    }
  }

  // ——— looking at what happened ———

  /** A position in the log, to look only at what comes after it. */
  mark(): number {
    return this.log.length;
  }

  outputs(since = 0): Recorded[] {
    return this.log.slice(since);
  }

  packets(since = 0, to?: { host: string; port: number }): SentPacket[] {
    const result: SentPacket[] = [];
    for (const { at, output } of this.outputs(since)) {
      if (output.kind !== 'packet') continue;
      if (to && !sameAddress(output.to, to)) continue;
      result.push({ at, to: output.to, messages: output.messages, crc: output.crc });
    }
    return result;
  }

  /** Every message of `type` sent in any packet (primary or piggybacked) since `since`. */
  sent<K extends Message['type']>(type: K, since = 0, to?: { host: string; port: number }): SentMessage<MessageOf<K>>[] {
    const result: SentMessage<MessageOf<K>>[] = [];
    for (const packet of this.packets(since, to)) {
      packet.messages.forEach((message, index) => {
        if (message.type === type) result.push({ at: packet.at, to: packet.to, message: message as MessageOf<K>, index });
      });
    }
    return result;
  }

  /** Gossip messages (alive/suspect/dead) about `name` sent since `since`. */
  sentAbout(name: string, since = 0): SentMessage[] {
    const result: SentMessage[] = [];
    for (const packet of this.packets(since)) {
      packet.messages.forEach((message, index) => {
        if (about(message) === name) result.push({ at: packet.at, to: packet.to, message, index });
      });
    }
    return result;
  }

  events(since = 0, type?: MemberEventType, name?: string): MemberEvent[] {
    const result: MemberEvent[] = [];
    for (const { output } of this.outputs(since)) {
      if (output.kind !== 'event') continue;
      if (type && output.event.type !== type) continue;
      if (name && output.event.member.name !== name) continue;
      result.push(output.event);
    }
    return result;
  }

  streams(since = 0): OpenedStream[] {
    const result: OpenedStream[] = [];
    for (const { at, output } of this.outputs(since)) if (output.kind === 'openStream') result.push({ ...output, at });
    return result;
  }

  replies(since = 0): StreamReply[] {
    const result: StreamReply[] = [];
    for (const { at, output } of this.outputs(since)) if (output.kind === 'reply') result.push({ ...output, at });
    return result;
  }

  ofKind<K extends Output['kind']>(kind: K, since = 0): (Extract<Output, { kind: K }> & { at: number })[] {
    const result: (Extract<Output, { kind: K }> & { at: number })[] = [];
    for (const { at, output } of this.outputs(since)) {
      if (output.kind === kind) result.push({ ...(output as Extract<Output, { kind: K }>), at });
    }
    return result;
  }

  /** Targets of this node's own probes (packets whose first message is a ping it originated). */
  probes(since = 0): { at: number; to: Address; node: string; seqNo: number }[] {
    const result: { at: number; to: Address; node: string; seqNo: number }[] = [];
    for (const packet of this.packets(since)) {
      const first = packet.messages[0];
      if (first?.type === 'ping' && first.source?.name === this.name) {
        result.push({ at: packet.at, to: packet.to, node: first.node, seqNo: first.seqNo });
      }
    }
    return result;
  }

  status(name: string): string | undefined {
    return this.node.member(name)?.status;
  }

  incarnationOf(name: string): number | undefined {
    return this.node.member(name)?.incarnation;
  }
}

// ——— responders: the rest of the cluster, as far as one node can tell ———

/**
 * Acks every ping this node sends (its probes and the pings it relays), from the address the
 * ping went to, `latency` ms later, unless the ping names a member in `silent`.
 */
export function ackPings(options: { latency?: number; silent?: Iterable<string> } = {}): Responder {
  const latency = options.latency ?? 5;
  const silent = new Set(options.silent ?? []);
  return (h, at, output) => {
    if (output.kind !== 'packet') return;
    for (const message of output.messages) {
      if (message.type !== 'ping' || silent.has(message.node)) continue;
      h.deliver(at + latency, { kind: 'packet', from: output.to, messages: [{ type: 'ack', seqNo: message.seqNo }] });
    }
  };
}

/**
 * Answers the indirect pings this node sends to helpers: with a relayed ack, a nack (when the
 * request asks for one), or nothing; `mode` may depend on the helper's address.
 */
export function answerIndirectPings(mode: 'ack' | 'nack' | 'silent' | ((helper: Address) => 'ack' | 'nack' | 'silent'), latency = 5): Responder {
  return (h, at, output) => {
    if (output.kind !== 'packet') return;
    for (const message of output.messages) {
      if (message.type !== 'indirectPing') continue;
      const how = typeof mode === 'function' ? mode(output.to) : mode;
      if (how === 'ack') {
        h.deliver(at + latency, { kind: 'packet', from: output.to, messages: [{ type: 'ack', seqNo: message.seqNo }] });
      } else if (how === 'nack' && message.nack) {
        h.deliver(at + latency, { kind: 'packet', from: output.to, messages: [{ type: 'nack', seqNo: message.seqNo }] });
      }
    }
  };
}

// ——— several nodes on one clock ———

interface Route {
  readonly origin: Harness;
  readonly stream: StreamId;
}

/**
 * Several harnesses on one shared clock. Packets are delivered to the harness listening on the
 * destination address after `latency` ms (unless `drop` says otherwise); streams are delivered as
 * `stream` inputs and their replies come back to the opener as `streamReply`.
 */
export class Network {
  readonly nodes: Harness[] = [];
  latency: number;
  drop: (from: Harness, to: Address, what: Message[] | StreamMessage) => boolean = () => false;
  now = 0;
  readonly #routes = new Map<StreamId, Route>();
  #nextStream = 1_000_000;

  constructor(latency = 2) {
    this.latency = latency;
  }

  add(h: Harness): Harness {
    this.nodes.push(h);
    h.respond((from, at, output) => this.#route(from, at, output));
    return h;
  }

  byAddress(address: Address): Harness | undefined {
    return this.nodes.find((h) => sameAddress(h.address, address));
  }

  remove(h: Harness): void {
    const i = this.nodes.indexOf(h);
    if (i >= 0) this.nodes.splice(i, 1);
  }

  advanceTo(t: number): void {
    for (;;) {
      let next: Harness | undefined;
      let nextAt = Infinity;
      for (const h of this.nodes) {
        const at = h.nextEventAt();
        if (at < nextAt) {
          nextAt = at;
          next = h;
        }
      }
      if (!next || nextAt > t) break;
      this.now = nextAt;
      next.processNext();
    }
    this.now = t;
    for (const h of this.nodes) h.advanceTo(t);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.now + ms);
  }

  #route(from: Harness, at: number, output: Output): void {
    switch (output.kind) {
      case 'packet': {
        const to = this.byAddress(output.to);
        if (!to || this.drop(from, output.to, [...output.messages])) return;
        to.deliver(at + this.latency, { kind: 'packet', from: from.address, messages: output.messages });
        return;
      }
      case 'openStream': {
        const to = this.byAddress(output.to);
        if (!to || this.drop(from, output.to, output.message)) {
          from.deliver(at + output.timeoutMs, { kind: 'streamFailed', stream: output.stream, reason: 'connection refused' });
          return;
        }
        const id = this.#nextStream++;
        this.#routes.set(id, { origin: from, stream: output.stream });
        to.deliver(at + this.latency, { kind: 'stream', from: from.address, stream: id, message: output.message });
        return;
      }
      case 'reply': {
        const route = this.#routes.get(output.stream);
        if (!route) return;
        this.#routes.delete(output.stream);
        route.origin.deliver(at + this.latency, { kind: 'streamReply', stream: route.stream, message: output.message });
        return;
      }
      default:
        return;
    }
  }
}

/** Lifeguard's suspicion timeout, written out from the spec (§8.3) independently of the core. */
export function lifeguardTimeout(
  n: number,
  confirmations: number,
  { suspicionMult = 4, maxMult = 6, probeIntervalMs = 1000 } = {},
): { min: number; max: number; k: number; timeout: number } {
  // log10 with millisecond precision, as memberlist computes it
  const scaleMillis = Math.floor(Math.max(1, Math.log10(Math.max(1, n))) * 1000);
  const min = (suspicionMult * scaleMillis * probeIntervalMs) / 1000;
  const max = maxMult * min;
  const k = n - 2 < suspicionMult - 2 ? 0 : suspicionMult - 2;
  if (k < 1) return { min, max, k, timeout: min };
  const c = Math.min(confirmations, k);
  const raw = Math.floor(max - ((max - min) * Math.log(c + 1)) / Math.log(k + 1));
  return { min, max, k, timeout: Math.max(min, raw) };
}

/** Bytes in a hex string written with spaces, as in the spec's examples. */
export function hexLength(hex: string): number {
  const digits = hex.replace(/\s+/g, '');
  if (!/^[0-9a-f]*$/i.test(digits) || digits.length % 2 !== 0) throw new Error(`bad hex: ${hex}`);
  return digits.length / 2;
}
