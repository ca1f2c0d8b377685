import type net from 'node:net';
import { isIP } from 'node:net';
import type { Address, Input, MemberNode, Message, Output, StreamMessage } from '../core/index.js';
import { decodePacket, encodePacket, WireError, type Keyring } from '../wire/index.js';
import { udpSendHost } from './address.js';
import { loopDelay } from './loop-delay.js';
import { DEFAULT_STREAM_LIMITS, type StreamLimits, Streams } from './streams.js';
import { countDrop, countMessages, createTrafficStats, type TrafficStats } from './traffic.js';
import type { Listeners } from './transport.js';

export { DEFAULT_STREAM_LIMITS, type StreamLimits } from './streams.js';

export interface DriverOptions {
  readonly core: MemberNode;
  readonly listeners: Listeners;
  readonly keyring: Keyring | undefined;
  /** Fraction of incoming packets to drop on purpose (experiments). */
  readonly dropRate: number;
  /** Everything the core asks for that is not network I/O: events, join and leave results. */
  readonly onOutput: (output: Output) => void;
  /** A user payload that arrived on a stream rather than in a packet. */
  readonly onStreamUser: (payload: Uint8Array, from: Address) => void;
  /** A peer's push/pull state, before the core merges it (the Serf layer reads its clocks and events). */
  readonly onRemoteState: (message: StreamMessage, from: Address) => void;
  readonly clock?: () => number;
  /** Overrides of DEFAULT_STREAM_LIMITS. */
  readonly limits?: Partial<StreamLimits>;
}

/**
 * The real-network driver of the core: UDP datagrams and TCP streams in, decoded and stepped
 * through the core on the wall clock; the core's outputs encoded and sent. One timer follows
 * the core's next deadline. Nothing that arrives can throw out of here: undecodable input is
 * counted by reason and dropped, and an exception in a handler is counted and contained.
 */
export class Driver {
  readonly traffic: TrafficStats = createTrafficStats();
  readonly limits: StreamLimits;
  readonly #options: DriverOptions;
  readonly #core: MemberNode;
  readonly #clock: () => number;
  readonly #streams: Streams;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #closed = false;
  #handlerErrorShown = false;
  #stopLoopDelay: (() => void) | undefined;

  constructor(options: DriverOptions) {
    this.#options = options;
    this.#core = options.core;
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...options.limits };
    // Wall time with sub-millisecond resolution: loopback round trips are well under 1 ms.
    this.#clock = options.clock ?? (() => performance.timeOrigin + performance.now());
    this.#streams = new Streams({
      limits: this.limits,
      keyring: options.keyring,
      traffic: this.traffic,
      tcpTimeoutMs: options.core.config.tcpTimeoutMs,
      selfHost: options.core.profile.host,
      step: (input) => this.step(input),
      contain: (run, recover) => this.#contain(run, recover),
      onStreamUser: options.onStreamUser,
      onRemoteState: options.onRemoteState,
    });
    const { udp, tcp } = options.listeners;
    udp.on('message', (data, remote) => this.#onPacket(data, { host: remote.address, port: remote.port }));
    udp.on('error', () => countDrop(this.traffic, 'socket-error'));
    tcp.on('connection', (socket) =>
      this.#contain(
        () => this.#streams.accept(socket),
        () => socket.destroy(),
      ),
    );
    tcp.on('error', () => countDrop(this.traffic, 'socket-error'));
  }

  get sockets(): Iterable<net.Socket> {
    return this.#streams.sockets;
  }

  /** Hands the outputs the core produced at construction to the network, and tells the core of the event loop's delay from now on. */
  start(): void {
    this.#handle(this.#core.drain());
    this.#arm();
    this.#stopLoopDelay = loopDelay.subscribe((maxMs, windowMs) => this.step({ kind: 'loopDelay', maxMs, windowMs }));
  }

  step(input: Input): void {
    if (this.#closed) return;
    let outputs: Output[];
    try {
      outputs = this.#core.step(this.#clock(), input);
    } catch (error) {
      // A bug in the core must not take the process down with it; it is counted and visible.
      countDrop(this.traffic, 'internal-error');
      this.#notice(`core error: ${(error as Error).stack ?? String(error)}`);
      outputs = [];
    }
    this.#handle(outputs);
    this.#arm();
  }

  close(): void {
    this.#closed = true;
    this.#stopLoopDelay?.();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#streams.close();
  }

  #arm(): void {
    if (this.#closed) return;
    const deadline = this.#core.nextDeadline();
    if (deadline === this.#timerAt && this.#timer) return;
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    if (deadline === Infinity) {
      this.#timer = undefined;
      return;
    }
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        this.step({ kind: 'tick' });
      },
      Math.max(0, deadline - this.#clock()),
    );
  }

  #handle(outputs: Output[]): void {
    for (const output of outputs) {
      switch (output.kind) {
        case 'packet':
          this.#sendPacket(output.to, output.messages, output.crc);
          break;
        case 'openStream':
          this.#streams.open(output.stream, output.to, output.message, output.timeoutMs, output.expectReply);
          break;
        case 'reply':
          this.#streams.reply(output.stream, output.message);
          break;
        case 'event':
          this.#streams.observeMember(output.event);
          this.#contain(() => this.#options.onOutput(output));
          break;
        default:
          this.#contain(() => this.#options.onOutput(output));
      }
    }
  }

  /**
   * Runs an application's or the node's handler: whatever it throws is counted and shown once,
   * never let through to a socket's event handler, where it would end the process.
   */
  #contain(run: () => void, recover?: () => void): void {
    try {
      run();
    } catch (error) {
      countDrop(this.traffic, 'handler-error');
      recover?.();
      if (this.#handlerErrorShown) return;
      this.#handlerErrorShown = true;
      this.#notice(`a handler threw (counted as handler-error; later ones are only counted): ${(error as Error)?.stack ?? String(error)}`);
    }
  }

  #notice(text: string): void {
    try {
      this.#options.onOutput({ kind: 'notice', level: 'warn', text });
    } catch {
      countDrop(this.traffic, 'handler-error');
    }
  }

  #sendPacket(to: Address, messages: readonly Message[], crc: boolean): void {
    let bytes: Uint8Array;
    try {
      bytes = encodePacket(messages, { crc, compress: true, keyring: this.#options.keyring });
    } catch (error) {
      countDrop(this.traffic, 'encode-error');
      this.#notice(`cannot encode packet: ${(error as Error).message}`);
      return;
    }
    this.traffic.packetsOut++;
    this.traffic.bytesOut += bytes.length;
    countMessages(this.traffic.messagesOut, messages);
    try {
      this.#options.listeners.udp.send(bytes, to.port, udpSendHost(to.host, isIP(this.#options.listeners.host) === 6), (error) => {
        if (error) this.traffic.sendErrors++;
      });
    } catch {
      // An address learned from a peer can be unusable (port 0, wrong family): count, go on.
      this.traffic.sendErrors++;
    }
  }

  #onPacket(data: Buffer, from: Address): void {
    if (this.#closed) return;
    this.traffic.packetsIn++;
    this.traffic.bytesIn += data.length;
    if (this.#options.dropRate > 0 && Math.random() < this.#options.dropRate) {
      countDrop(this.traffic, 'drop-rate');
      return;
    }
    let messages: Message[];
    try {
      messages = decodePacket(data, { keyring: this.#options.keyring, onDrop: (error) => countDrop(this.traffic, error.reason) });
    } catch (error) {
      countDrop(this.traffic, error instanceof WireError ? error.reason : 'malformed');
      return;
    }
    if (messages.length === 0) {
      countDrop(this.traffic, 'empty');
      return;
    }
    countMessages(this.traffic.messagesIn, messages);
    this.#contain(() => this.step({ kind: 'packet', from, messages }));
  }
}
