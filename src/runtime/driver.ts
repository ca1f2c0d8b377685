import type net from 'node:net';
import { connect } from 'node:net';
import type { Address, Input, MemberNode, Message, Output, StreamId, StreamMessage } from '../core/index.js';
import {
  decodePacket,
  encodePacket,
  encodeStream,
  StreamDecoder,
  WireError,
  type Keyring,
  type WireStreamMessage,
} from '../wire/index.js';
import { socketHost } from './address.js';
import { countDrop, countMessages, createTrafficStats, type TrafficStats } from './traffic.js';
import type { Listeners } from './transport.js';

/** memberlist's limit on concurrent inbound streams (maxPushPullRequests). */
const MAX_INBOUND_STREAMS = 128;

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
}

/**
 * The real-network driver of the core: UDP datagrams and TCP streams in, decoded and stepped
 * through the core on the wall clock; the core's outputs encoded and sent. One timer follows
 * the core's next deadline. Nothing that arrives can throw out of here: undecodable input is
 * counted by reason and dropped.
 */
export class Driver {
  readonly traffic: TrafficStats = createTrafficStats();
  readonly #options: DriverOptions;
  readonly #core: MemberNode;
  readonly #clock: () => number;
  readonly #inbound = new Map<StreamId, net.Socket>();
  readonly #outbound = new Map<StreamId, net.Socket>();
  readonly #sockets = new Set<net.Socket>();
  #nextInbound = 1;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #closed = false;

  constructor(options: DriverOptions) {
    this.#options = options;
    this.#core = options.core;
    // Wall time with sub-millisecond resolution: loopback round trips are well under 1 ms.
    this.#clock = options.clock ?? (() => performance.timeOrigin + performance.now());
    const { udp, tcp } = options.listeners;
    udp.on('message', (data, remote) => this.#onPacket(data, { host: remote.address, port: remote.port }));
    udp.on('error', () => countDrop(this.traffic, 'socket-error'));
    tcp.on('connection', (socket) => this.#onConnection(socket));
    tcp.on('error', () => countDrop(this.traffic, 'socket-error'));
  }

  get sockets(): Iterable<net.Socket> {
    return this.#sockets;
  }

  /** Hands the outputs the core produced at construction to the network. */
  start(): void {
    this.#handle(this.#core.drain());
    this.#arm();
  }

  step(input: Input): void {
    if (this.#closed) return;
    let outputs: Output[];
    try {
      outputs = this.#core.step(this.#clock(), input);
    } catch (error) {
      // A bug in the core must not take the process down with it; it is counted and visible.
      countDrop(this.traffic, 'internal-error');
      this.#options.onOutput({ kind: 'notice', level: 'warn', text: `core error: ${(error as Error).stack ?? String(error)}` });
      outputs = [];
    }
    this.#handle(outputs);
    this.#arm();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const socket of this.#sockets) socket.destroy();
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
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.step({ kind: 'tick' });
    }, Math.max(0, deadline - this.#clock()));
  }

  #handle(outputs: Output[]): void {
    for (const output of outputs) {
      switch (output.kind) {
        case 'packet':
          this.#sendPacket(output.to, output.messages, output.crc);
          break;
        case 'openStream':
          this.#openStream(output.stream, output.to, output.message, output.timeoutMs, output.expectReply);
          break;
        case 'reply':
          this.#reply(output.stream, output.message);
          break;
        default:
          this.#options.onOutput(output);
      }
    }
  }

  #sendPacket(to: Address, messages: readonly Message[], crc: boolean): void {
    let bytes: Uint8Array;
    try {
      bytes = encodePacket(messages, { crc, compress: true, keyring: this.#options.keyring });
    } catch (error) {
      countDrop(this.traffic, 'encode-error');
      this.#options.onOutput({ kind: 'notice', level: 'warn', text: `cannot encode packet: ${(error as Error).message}` });
      return;
    }
    this.traffic.packetsOut++;
    this.traffic.bytesOut += bytes.length;
    countMessages(this.traffic.messagesOut, messages);
    try {
      this.#options.listeners.udp.send(bytes, to.port, socketHost(to.host), (error) => {
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
      messages = decodePacket(data, { keyring: this.#options.keyring });
    } catch (error) {
      countDrop(this.traffic, error instanceof WireError ? error.reason : 'malformed');
      return;
    }
    if (messages.length === 0) {
      countDrop(this.traffic, 'empty');
      return;
    }
    countMessages(this.traffic.messagesIn, messages);
    this.step({ kind: 'packet', from, messages });
  }

  #openStream(id: StreamId, to: Address, message: StreamMessage, timeoutMs: number, expectReply: boolean): void {
    this.traffic.streamsOut++;
    let done = false;
    let socket: net.Socket;
    try {
      socket = connect({ host: socketHost(to.host), port: to.port });
    } catch (error) {
      this.traffic.sendErrors++;
      queueMicrotask(() => {
        if (expectReply) this.step({ kind: 'streamFailed', stream: id, reason: (error as Error).message });
      });
      return;
    }
    this.#sockets.add(socket);
    this.#outbound.set(id, socket);
    const finish = (input: Input | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.#outbound.delete(id);
      this.#sockets.delete(socket);
      socket.destroy();
      if (input && expectReply) this.step(input);
    };
    const timer = setTimeout(() => finish({ kind: 'streamFailed', stream: id, reason: 'timed out' }), timeoutMs);
    socket.on('error', (error) => finish({ kind: 'streamFailed', stream: id, reason: error.message }));
    socket.on('close', () => finish({ kind: 'streamFailed', stream: id, reason: 'closed before an answer' }));
    socket.on('connect', () => {
      try {
        socket.write(encodeStream(message, { compress: true, keyring: this.#options.keyring }));
      } catch (error) {
        finish({ kind: 'streamFailed', stream: id, reason: `cannot encode: ${(error as Error).message}` });
        return;
      }
      if (!expectReply) socket.end(() => finish(null));
    });
    if (!expectReply) return;
    const decoder = new StreamDecoder({ keyring: this.#options.keyring });
    socket.on('data', (chunk) => {
      let reply: WireStreamMessage | null;
      try {
        decoder.push(chunk);
        reply = decoder.next();
      } catch (error) {
        countDrop(this.traffic, error instanceof WireError ? error.reason : 'malformed');
        finish({ kind: 'streamFailed', stream: id, reason: `undecodable answer: ${(error as Error).message}` });
        return;
      }
      if (!reply) return;
      if (reply.type === 'user') {
        finish({ kind: 'streamFailed', stream: id, reason: 'unexpected user message in answer' });
        return;
      }
      if (reply.type === 'pushPull') this.#options.onRemoteState(reply, to);
      finish({ kind: 'streamReply', stream: id, message: reply });
    });
  }

  #onConnection(socket: net.Socket): void {
    if (this.#closed || this.#inbound.size >= MAX_INBOUND_STREAMS) {
      countDrop(this.traffic, 'too-many-streams');
      socket.destroy();
      return;
    }
    this.traffic.streamsIn++;
    const id = this.#nextInbound++;
    const from: Address = { host: socket.remoteAddress ?? '0.0.0.0', port: socket.remotePort ?? 0 };
    this.#sockets.add(socket);
    this.#inbound.set(id, socket);
    const forget = () => {
      clearTimeout(timer);
      this.#inbound.delete(id);
      this.#sockets.delete(socket);
    };
    const timer = setTimeout(() => {
      countDrop(this.traffic, 'stream-timeout');
      socket.destroy();
    }, this.#core.config.tcpTimeoutMs);
    socket.on('close', forget);
    socket.on('error', () => socket.destroy());
    const decoder = new StreamDecoder({ keyring: this.#options.keyring });
    let answered = false;
    socket.on('data', (chunk) => {
      if (answered) return;
      let message: WireStreamMessage | null;
      try {
        decoder.push(chunk);
        message = decoder.next();
      } catch (error) {
        answered = true;
        countDrop(this.traffic, error instanceof WireError ? error.reason : 'malformed');
        this.#answer(socket, { type: 'error', error: (error as Error).message });
        return;
      }
      if (!message) return;
      answered = true;
      if (message.type === 'user') {
        this.#options.onStreamUser(message.payload, from);
        socket.end();
        return;
      }
      if (message.type === 'pushPull') this.#options.onRemoteState(message, from);
      this.step({ kind: 'stream', from, stream: id, message });
      // The core answers pushes and pings at once; anything else gets no answer.
      if (this.#inbound.get(id) === socket && !socket.writableEnded) socket.end();
    });
  }

  #reply(id: StreamId, message: StreamMessage): void {
    const socket = this.#inbound.get(id);
    if (!socket) return;
    this.#inbound.delete(id);
    this.#answer(socket, message);
  }

  #answer(socket: net.Socket, message: StreamMessage): void {
    try {
      socket.end(encodeStream(message, { compress: true, keyring: this.#options.keyring }));
    } catch {
      countDrop(this.traffic, 'encode-error');
      socket.destroy();
    }
  }
}
