import { ConfigError, compoundOverhead, memberlistSize, streamSize, type Address, type Message, type Random, type StreamMessage } from '../core/index.js';
import { encodePacket, encodeStream } from '../wire/index.js';
import type { EventQueue } from './event-queue.js';
import { countPacket, emptyTraffic, type SimTraffic } from './load.js';

/** The port every simulated node listens on (they differ by host). */
export const SIM_PORT = 7946;

/** The host of the i-th simulated node: 10.x.y.z, unique up to 16 million nodes. */
export function simHost(index: number): string {
  return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

/** What the event heap holds: the network's deliveries, and the simulation's own ticks and actions. */
export type SimEvent =
  | { at: number; kind: 'tick'; node: number; generation: number }
  | { at: number; kind: 'packet'; node: number; from: Address; messages: readonly Message[] }
  | { at: number; kind: 'streamOpen'; node: number; stream: number }
  | { at: number; kind: 'streamReply'; stream: number; message: StreamMessage }
  | { at: number; kind: 'streamEnd'; stream: number; reason: string }
  | { at: number; kind: 'action'; run: () => void };

/** A stream exchange in flight between two simulated nodes. */
export interface SimStream {
  readonly initiator: number;
  readonly generation: number;
  /** The initiator's own id for it. */
  readonly localId: number;
  readonly target: number;
  readonly message: StreamMessage;
  readonly from: Address;
  done: boolean;
}

/** Loss and delay of one link, each overriding the network-wide setting. */
export interface LinkSettings {
  loss?: number;
  delayMs?: number;
  jitterMs?: number;
}

/** What the network needs to know of the simulation that owns it. */
export interface NetworkHost {
  /** Virtual time (ms). */
  readonly now: number;
  isLive(index: number): boolean;
}

/** The network-wide settings. */
export interface NetworkOptions {
  nodes: number;
  loss: number;
  delayMs: number;
  jitterMs: number;
  /** Count memberlist's encoded bytes (true) or summed message sizes (false). */
  wireBytes: boolean;
  /** Whether loss hits stream segments too (see `SimOptions.streamLoss`). */
  streamLoss: boolean;
}

/** Linux's first retransmission timeouts: a lost SYN or SYN-ACK is sent again after 1 s, a lost data segment after RTO_min, 200 ms. */
const SYN_RTO_MS = 1000;
const DATA_RTO_MS = 200;
/** Retransmissions before TCP gives up: Linux's tcp_syn_retries (data segments would try longer, but past every stream timeout). */
const TCP_RETRIES = 6;

/**
 * The modelled network between the simulated nodes: addresses, per-link loss and delay,
 * partitions, stream exchanges and the traffic count. It schedules deliveries on the
 * simulation's event heap and draws from the simulation's randomness, in the order it is asked.
 */
export class Network {
  /** Everything sent so far. */
  readonly traffic: SimTraffic = emptyTraffic();
  readonly #options: NetworkOptions;
  readonly #host: NetworkHost;
  readonly #events: EventQueue<SimEvent>;
  readonly #rng: Random;
  /** Each node's address, shared by every packet it sends (addresses are immutable). */
  readonly #addresses: Address[] = [];
  readonly #byHost = new Map<string, number>();
  /** Each node's partition group: nodes reach each other only within one. */
  readonly #group: Int32Array;
  readonly #links = new Map<number, LinkSettings>();
  /** Directions cut one way (`from * nodes + to`): one-way firewall rules. */
  readonly #blocked = new Set<number>();
  readonly #streams = new Map<number, SimStream>();
  #nextStream = 1;

  constructor(options: NetworkOptions, host: NetworkHost, events: EventQueue<SimEvent>, rng: Random) {
    this.#options = options;
    this.#host = host;
    this.#events = events;
    this.#rng = rng;
    for (let i = 0; i < options.nodes; i++) {
      const address = { host: simHost(i), port: SIM_PORT };
      this.#addresses.push(address);
      this.#byHost.set(address.host, i);
    }
    this.#group = new Int32Array(options.nodes);
  }

  /** The index of the node at `host`, if any. */
  indexOfHost(host: string): number | undefined {
    return this.#byHost.get(host);
  }

  // ——— partitions and links ———

  /** Whether packets from `a` can reach `b`: the same partition group, and that direction not blocked. */
  reachable(a: number, b: number): boolean {
    return this.#group[a] === this.#group[b] && (this.#blocked.size === 0 || !this.#blocked.has(a * this.#options.nodes + b));
  }

  /** Cuts (`blocked` true) or restores the direction from `from` to `to` only. */
  setBlocked(from: number, to: number, blocked: boolean): void {
    const key = from * this.#options.nodes + to;
    if (blocked) this.#blocked.add(key);
    else this.#blocked.delete(key);
  }

  /** Cuts the network into groups (node indices per group; the unlisted form one more group). */
  partition(groups: number[][]): void {
    this.#group.fill(groups.length);
    groups.forEach((members, g) => {
      for (const index of members) this.#group[index] = g;
    });
  }

  /** Ends every partition. */
  heal(): void {
    this.#group.fill(0);
  }

  /** Sets loss and delay for the link between two nodes (both directions). */
  setLink(a: number, b: number, link: LinkSettings): void {
    if (link.loss !== undefined && !(link.loss >= 0 && link.loss <= 1)) {
      throw new ConfigError(`link loss must be within 0 … 1, got ${link.loss}`);
    }
    this.#links.set(this.#linkKey(a, b), link);
  }

  #linkKey(a: number, b: number): number {
    return Math.min(a, b) * this.#options.nodes + Math.max(a, b);
  }

  #link(a: number, b: number): LinkSettings | undefined {
    return this.#links.size === 0 ? undefined : this.#links.get(this.#linkKey(a, b));
  }

  /**
   * Time TCP loses retransmitting one segment from `a` to `b` when the link loses packets (0
   * unless `streamLoss`): each loss costs the current timeout, which doubles; Infinity once TCP
   * gives up.
   */
  #retransmissionMs(a: number, b: number, firstTimeoutMs: number): number {
    const loss = this.#options.streamLoss ? (this.#link(a, b)?.loss ?? this.#options.loss) : 0;
    if (loss === 0) return 0;
    let lostMs = 0;
    for (let tries = 0, timeoutMs = firstTimeoutMs; this.#rng.float() < loss; tries++, timeoutMs *= 2) {
      if (tries === TCP_RETRIES) return Infinity;
      lostMs += timeoutMs;
    }
    return lostMs;
  }

  #delay(a: number, b: number): number {
    const link = this.#link(a, b);
    return (link?.delayMs ?? this.#options.delayMs) + this.#rng.float() * (link?.jitterMs ?? this.#options.jitterMs);
  }

  // ——— sending ———

  /**
   * Counts and sends a packet. `lastTableTo` is as for `countPacket` (the host of the previous
   * table packet of the same step, or ''); returns the one to pass with the next packet.
   */
  sendPacket(from: number, to: Address, messages: readonly Message[], crc: boolean, lastTableTo: string): string {
    const traffic = this.traffic;
    const tableTo = countPacket(traffic, messages, to.host, lastTableTo);
    traffic.packets++;
    if (this.#options.wireBytes) {
      traffic.bytes += encodePacket(messages, { crc, compress: true }).length;
    } else {
      let size = compoundOverhead(messages.length) + (crc ? 5 : 0);
      for (const message of messages) size += memberlistSize(message);
      traffic.bytes += size;
    }
    const target = this.#byHost.get(to.host);
    if (target === undefined || !this.reachable(from, target)) return tableTo;
    const loss = this.#link(from, target)?.loss ?? this.#options.loss;
    if (loss > 0 && this.#rng.float() < loss) return tableTo;
    const now = this.#host.now;
    this.#events.push({ at: now + this.#delay(from, target), kind: 'packet', node: target, from: this.#addresses[from]!, messages });
    return tableTo;
  }

  /** Opens a stream from node `from` (in its run `generation`) for the initiator's stream `localId`. */
  openStream(from: number, generation: number, localId: number, to: Address, message: StreamMessage, timeoutMs: number, expectReply: boolean): void {
    this.traffic.packets++;
    this.traffic.bytes += this.#streamBytes(message);
    const now = this.#host.now;
    const target = this.#byHost.get(to.host);
    const id = this.#nextStream++;
    const stream: SimStream = {
      initiator: from,
      generation,
      localId,
      target: target ?? -1,
      message,
      from: this.#addresses[from]!,
      done: false,
    };
    this.#streams.set(id, stream);
    // TCP needs both directions: a connection across a one-way block times out too.
    if (target === undefined || !this.reachable(from, target) || !this.reachable(target, from)) {
      // No route: the connection attempt times out.
      this.#events.push({ at: now + timeoutMs, kind: 'streamEnd', stream: id, reason: 'timed out' });
      return;
    }
    if (!this.#host.isLive(target)) {
      // The host is up but nothing listens: refused after a round trip.
      this.#events.push({ at: now + 2 * this.#delay(from, target), kind: 'streamEnd', stream: id, reason: 'connection refused' });
      return;
    }
    // The SYN, the SYN-ACK and the request's segment, each retransmitted until it gets through.
    const lostMs =
      this.#retransmissionMs(from, target, SYN_RTO_MS) + this.#retransmissionMs(target, from, SYN_RTO_MS) + this.#retransmissionMs(from, target, DATA_RTO_MS);
    if (lostMs < Infinity) this.#events.push({ at: now + this.#delay(from, target) + lostMs, kind: 'streamOpen', node: target, stream: id });
    if (expectReply) {
      this.#events.push({ at: now + timeoutMs, kind: 'streamEnd', stream: id, reason: 'timed out' });
    } else {
      stream.done = true;
    }
  }

  /** Node `from` answers stream `id`. */
  reply(from: number, id: number, message: StreamMessage): void {
    this.traffic.packets++;
    this.traffic.bytes += this.#streamBytes(message);
    const stream = this.#streams.get(id);
    if (!stream || stream.done || !this.reachable(from, stream.initiator)) return;
    const lostMs = this.#retransmissionMs(from, stream.initiator, DATA_RTO_MS);
    if (lostMs === Infinity) return;
    this.#events.push({ at: this.#host.now + this.#delay(from, stream.initiator) + lostMs, kind: 'streamReply', stream: id, message });
  }

  #streamBytes(message: StreamMessage): number {
    return this.#options.wireBytes ? encodeStream(message, { compress: true }).length : streamSize(message);
  }

  // ——— streams in flight ———

  /** Stream `id` while it is still open, or undefined once it is done. */
  pendingStream(id: number): SimStream | undefined {
    const stream = this.#streams.get(id);
    return stream && !stream.done ? stream : undefined;
  }

  /** Marks stream `id` done and forgets it. */
  closeStream(id: number, stream: SimStream): void {
    stream.done = true;
    this.#streams.delete(id);
  }
}
