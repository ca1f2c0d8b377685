import type net from 'node:net';
import { connect } from 'node:net';
import type { Address, Input, MemberEvent, StreamId, StreamMessage } from '../core/index.js';
import { encodeStream, MAX_STREAM_BYTES, StreamDecoder, WireError, type Keyring, type WireStreamMessage } from '../wire/index.js';
import { socketHost } from './address.js';
import { countDrop, type TrafficStats } from './traffic.js';

/** A stream's end after the peer accepted the connection but sent no answer in time: it is there, and busy. */
export const UNANSWERED = 'accepted the connection but did not answer in time';
/** The peer accepted the connection, then closed it unanswered: a limit it enforces, or it is going away. */
export const CLOSED_UNANSWERED = 'accepted the connection, then closed it without an answer';

/**
 * What peers' TCP streams may take from this node. Each bound, when hit, drops and counts by
 * reason: 'connection-limit', 'source-connection-limit', 'idle-connection-evicted', 'header-timeout', 'stream-timeout',
 * 'stream-memory', 'too-many-push-pulls', 'outbound-stream-limit'.
 */

export interface StreamLimits {
  /** Bytes all streams in flight may hold together: input buffered, records decoded, answers unsent. */
  readonly memoryBytes: number;
  /** Bytes one stream message may take (memberlist's maxPushStateBytes). */
  readonly messageBytes: number;
  /** Inbound connections open at once; well under the usual 1,024 file descriptors of a process. */
  readonly connections: number;
  /** Of `connections`, how many only hosts of known members may take. */
  readonly memberReserve: number;
  /** Inbound connections open at once from one host that no known member has. */
  readonly perSource: number;
  /** Time a connection has to send its first HEADER_BYTES (capped by the core's tcpTimeoutMs). */
  readonly headerTimeoutMs: number;
  /** Push/pulls being received at once (memberlist's maxPushPullRequests), counted from their type byte. */
  readonly pushPulls: number;
  /** Streams this node opens at once. */
  readonly outbound: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  memoryBytes: 64 * 1024 * 1024,
  messageBytes: MAX_STREAM_BYTES,
  connections: 256,
  memberReserve: 64,
  perSource: 16,
  headerTimeoutMs: 3000,
  pushPulls: 128,
  outbound: 256,
};

/** Enough for any stream's header: the encryption header, a type byte and a msgpack head. */
const HEADER_BYTES = 5;

/** What the streams need from the driver that owns them. */
export interface StreamsOptions {
  readonly limits: StreamLimits;
  readonly keyring: Keyring | undefined;
  /** The driver's counters, which the streams share. */
  readonly traffic: TrafficStats;
  /** The core's tcpTimeoutMs: how long an inbound stream may stay open. */
  readonly tcpTimeoutMs: number;
  /** This node's host, whose connections are always a member's. */
  readonly selfHost: string;
  /** Steps the core with a stream's input (a request, an answer, a failure). */
  readonly step: (input: Input) => void;
  /** Runs a handler, counting and containing what it throws (see Driver). */
  readonly contain: (run: () => void, recover?: () => void) => void;
  /** A user payload that arrived on a stream rather than in a packet. */
  readonly onStreamUser: (payload: Uint8Array, from: Address) => void;
  /** A peer's push/pull state, before the core merges it. */
  readonly onRemoteState: (message: StreamMessage, from: Address) => void;
}

/** One TCP connection, inbound or outbound, and what it holds of the streams' memory budget. */
interface Stream {
  readonly socket: net.Socket;
  readonly inbound: boolean;
  /** Until a message is in: a stream that lingers (its peer not reading the answer) holds no buffer. */
  decoder: StreamDecoder | null;
  held: number;
  /** Counted among the push/pulls being received. */
  pushPull: boolean;
}

/**
 * The TCP side of the driver: streams this node opens and connections peers open to it,
 * within the limits: one memory budget for every stream in flight, connection caps with a
 * reserve for members' hosts, per-source caps, header and stream timeouts, push/pulls counted.
 */
export class Streams {
  readonly #options: StreamsOptions;
  readonly #limits: StreamLimits;
  readonly #traffic: TrafficStats;
  /** Inbound streams the core may still answer. */
  readonly #inbound = new Map<StreamId, Stream>();
  readonly #streams = new Set<Stream>();
  readonly #sockets = new Set<net.Socket>();
  /** Open inbound connections per source host. */
  readonly #perSource = new Map<string, number>();
  /** Inbound connections that have not sent a stream header yet, oldest first. */
  readonly #awaitingHeader = new Set<net.Socket>();
  /** Hosts of members the core reported alive or suspect (and this node's), with how many members each. */
  readonly #knownHosts = new Map<string, number>();
  readonly #memberHosts = new Map<string, string>();
  #connections = 0;
  #outbound = 0;
  #pushPulls = 0;
  /** Bytes held by every stream together (the sum of their `held`). */
  #memory = 0;
  #nextInbound = 1;
  #closed = false;

  constructor(options: StreamsOptions) {
    this.#options = options;
    this.#limits = options.limits;
    this.#traffic = options.traffic;
    this.#knownHosts.set(socketHost(options.selfHost), 1);
  }

  /** Every open stream's socket. */
  get sockets(): Iterable<net.Socket> {
    return this.#sockets;
  }

  /** Refuses new connections and destroys every open one. */
  close(): void {
    this.#closed = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Tracks the hosts of live members: their connections may use the reserve, and no per-source cap. */
  observeMember(event: MemberEvent): void {
    const { name } = event.member;
    const before = this.#memberHosts.get(name);
    const after = event.type === 'failed' || event.type === 'left' ? undefined : socketHost(event.member.host);
    if (before === after) return;
    if (before !== undefined) {
      const count = this.#knownHosts.get(before)! - 1;
      if (count > 0) this.#knownHosts.set(before, count);
      else this.#knownHosts.delete(before);
      this.#memberHosts.delete(name);
    }
    if (after !== undefined) {
      this.#knownHosts.set(after, (this.#knownHosts.get(after) ?? 0) + 1);
      this.#memberHosts.set(name, after);
    }
  }

  /** Opens a stream the core asked for and feeds the answer, or the failure, back to it. */
  open(id: StreamId, to: Address, message: StreamMessage, timeoutMs: number, expectReply: boolean): void {
    const fail = (reason: string) =>
      queueMicrotask(() => {
        if (expectReply) this.#options.step({ kind: 'streamFailed', stream: id, reason });
      });
    if (this.#outbound >= this.#limits.outbound) {
      countDrop(this.#traffic, 'outbound-stream-limit');
      fail(`${this.#outbound} streams already open`);
      return;
    }
    let request: Uint8Array;
    try {
      request = encodeStream(message, { compress: true, keyring: this.#options.keyring });
    } catch (error) {
      countDrop(this.#traffic, 'encode-error');
      fail(`cannot encode: ${(error as Error).message}`);
      return;
    }
    this.#traffic.streamsOut++;
    let socket: net.Socket;
    try {
      socket = connect({ host: socketHost(to.host), port: to.port });
    } catch (error) {
      this.#traffic.sendErrors++;
      fail((error as Error).message);
      return;
    }
    const stream: Stream = { socket, inbound: false, decoder: null, held: 0, pushPull: false };
    this.#outbound++;
    this.#sockets.add(socket);
    this.#streams.add(stream);
    let done = false;
    const finish = (input: Input | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.#outbound--;
      this.#forget(stream);
      this.#sockets.delete(socket);
      socket.destroy();
      if (input && expectReply) this.#options.step(input);
    };
    let connected = false;
    const timer = setTimeout(() => finish({ kind: 'streamFailed', stream: id, reason: connected ? UNANSWERED : 'timed out connecting' }), timeoutMs);
    socket.on('error', (error) => finish({ kind: 'streamFailed', stream: id, reason: error.message }));
    socket.on('close', () => finish({ kind: 'streamFailed', stream: id, reason: connected ? CLOSED_UNANSWERED : 'closed before connecting' }));
    socket.on('connect', () => {
      connected = true;
      if (expectReply) socket.write(request);
      else socket.end(request, () => finish(null));
    });
    if (!expectReply) return;
    const decoder = this.#decoder(stream);
    stream.decoder = decoder;
    socket.on('data', (chunk) =>
      this.#options.contain(
        () => {
          if (done) return;
          let reply: WireStreamMessage | null;
          try {
            decoder.push(chunk);
            reply = decoder.next();
            this.#charge(stream, decoder.held);
          } catch (error) {
            countDrop(this.#traffic, error instanceof WireError ? error.reason : 'malformed');
            finish({ kind: 'streamFailed', stream: id, reason: `undecodable answer: ${(error as Error).message}` });
            return;
          }
          if (!reply) return;
          if (reply.type === 'user') {
            finish({ kind: 'streamFailed', stream: id, reason: 'unexpected user message in answer' });
            return;
          }
          if (reply.type === 'pushPull') this.#options.contain(() => this.#options.onRemoteState(reply, to));
          finish({ kind: 'streamReply', stream: id, message: reply });
        },
        () => finish({ kind: 'streamFailed', stream: id, reason: 'internal error' }),
      ),
    );
  }

  /**
   * Admits a connection unless its source already has too many open, or the connections left
   * are held in reserve for members' hosts: a flood of idle connections from elsewhere cannot
   * keep members from joining or exchanging state.
   */
  accept(socket: net.Socket): void {
    const host = socketHost(socket.remoteAddress ?? '');
    const known = this.#knownHosts.has(host);
    const fromSource = this.#perSource.get(host) ?? 0;
    let refusal: string | undefined;
    if (this.#closed) refusal = 'closed';
    else if (!known && fromSource >= this.#limits.perSource) refusal = 'source-connection-limit';
    else if (this.#connections >= this.#limits.connections - (known ? 0 : this.#limits.memberReserve)) refusal = 'connection-limit';
    // Full, but some connection has sent nothing yet: the oldest such one makes room (an honest
    // peer sends its header at once, so only idle connections are ever old and header-less;
    // where attackers share the members' address, as on one host, the cap alone would let idle
    // connections lock members out).
    if (refusal === 'connection-limit' && this.#evictIdle()) refusal = undefined;
    if (refusal) {
      if (refusal !== 'closed') countDrop(this.#traffic, refusal);
      socket.destroy();
      return;
    }
    this.#traffic.streamsIn++;
    this.#connections++;
    this.#perSource.set(host, fromSource + 1);
    const id = this.#nextInbound++;
    const from: Address = { host: socket.remoteAddress ?? '0.0.0.0', port: socket.remotePort ?? 0 };
    const stream: Stream = { socket, inbound: true, decoder: null, held: 0, pushPull: false };
    this.#sockets.add(socket);
    this.#streams.add(stream);
    this.#inbound.set(id, stream);
    const headerTimer = setTimeout(
      () => {
        countDrop(this.#traffic, 'header-timeout');
        socket.destroy();
      },
      Math.min(this.#limits.headerTimeoutMs, this.#options.tcpTimeoutMs),
    );
    const timer = setTimeout(() => {
      countDrop(this.#traffic, 'stream-timeout');
      socket.destroy();
    }, this.#options.tcpTimeoutMs);
    this.#awaitingHeader.add(socket);
    socket.on('close', () => {
      clearTimeout(headerTimer);
      clearTimeout(timer);
      this.#awaitingHeader.delete(socket);
      this.#connections--;
      const left = this.#perSource.get(host)! - 1;
      if (left > 0) this.#perSource.set(host, left);
      else this.#perSource.delete(host);
      this.#inbound.delete(id);
      this.#forget(stream);
      this.#sockets.delete(socket);
    });
    socket.on('error', () => socket.destroy());
    stream.decoder = this.#decoder(stream);
    let received = 0;
    const refuse = (reason: string, text: string) => {
      countDrop(this.#traffic, reason);
      this.#inbound.delete(id);
      this.#release(stream);
      this.#answer(stream, { type: 'error', error: text }, false);
    };
    socket.on('data', (chunk) =>
      this.#options.contain(
        () => {
          const decoder = stream.decoder;
          if (!decoder) return;
          received += chunk.length;
          if (received >= HEADER_BYTES) {
            clearTimeout(headerTimer);
            this.#awaitingHeader.delete(socket);
          }
          if (!this.#makeRoom(stream, chunk.length)) {
            refuse('stream-memory', 'streams in flight hold all the memory they may: try again later');
            return;
          }
          let message: WireStreamMessage | null;
          try {
            decoder.push(chunk);
            message = decoder.next();
            this.#charge(stream, decoder.held);
          } catch (error) {
            refuse(error instanceof WireError ? error.reason : 'malformed', (error as Error).message);
            return;
          }
          if (!message) {
            if (!stream.pushPull && decoder.receiving === 'pushPull') {
              if (this.#pushPulls >= this.#limits.pushPulls) {
                refuse('too-many-push-pulls', 'Too many pending push/pull requests');
                return;
              }
              stream.pushPull = true;
              this.#pushPulls++;
            }
            return;
          }
          clearTimeout(headerTimer);
          this.#release(stream);
          this.#dispatch(id, stream, message, from);
        },
        () => socket.destroy(),
      ),
    );
  }

  /** Closes the oldest inbound connection that has not sent its header yet; false if there is none. */
  #evictIdle(): boolean {
    for (const socket of this.#awaitingHeader) {
      this.#awaitingHeader.delete(socket);
      countDrop(this.#traffic, 'idle-connection-evicted');
      socket.destroy();
      return true;
    }
    return false;
  }

  #dispatch(id: StreamId, stream: Stream, message: WireStreamMessage, from: Address): void {
    if (message.type === 'user') {
      this.#options.contain(() => this.#options.onStreamUser(message.payload, from));
      stream.socket.end();
      return;
    }
    if (message.type === 'pushPull') this.#options.contain(() => this.#options.onRemoteState(message, from));
    this.#options.step({ kind: 'stream', from, stream: id, message });
    // The core answers pushes and pings at once; anything else gets no answer.
    if (this.#inbound.get(id) === stream && !stream.socket.writableEnded) stream.socket.end();
  }

  /** Sends the core's answer on the inbound stream it is for, if still open. */
  reply(id: StreamId, message: StreamMessage): void {
    const stream = this.#inbound.get(id);
    if (!stream) return;
    this.#inbound.delete(id);
    this.#answer(stream, message);
  }

  /**
   * Writes the answer and closes. An answer is held against the budget until its socket closes
   * (a peer that never reads keeps it in memory); a short refusal (`charged` false) is not.
   */
  #answer(stream: Stream, message: StreamMessage, charged = true): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeStream(message, { compress: true, keyring: this.#options.keyring });
    } catch {
      countDrop(this.#traffic, 'encode-error');
      stream.socket.destroy();
      return;
    }
    if (charged) {
      if (!this.#makeRoom(stream, bytes.length)) {
        countDrop(this.#traffic, 'stream-memory');
        stream.socket.destroy();
        return;
      }
      this.#charge(stream, stream.held + bytes.length);
    }
    stream.socket.end(bytes);
  }

  #decoder(stream: Stream): StreamDecoder {
    return new StreamDecoder({
      keyring: this.#options.keyring,
      maxBytes: this.#limits.messageBytes,
      // What the stream may hold in all: what it holds now and what no other stream holds.
      room: () => this.#limits.memoryBytes - this.#memory + stream.held,
    });
  }

  #charge(stream: Stream, held: number): void {
    this.#memory += held - stream.held;
    stream.held = held;
    this.#traffic.streamMemory = this.#memory;
    if (this.#memory > this.#traffic.streamMemoryPeak) this.#traffic.streamMemoryPeak = this.#memory;
  }

  /**
   * Makes `extra` more bytes fit for `stream` by closing the inbound streams that hold the most,
   * as long as they hold more than it would; false when `stream` itself is the one to go.
   */
  #makeRoom(stream: Stream, extra: number): boolean {
    while (this.#memory + extra > this.#limits.memoryBytes) {
      let largest: Stream | undefined;
      for (const other of this.#streams) if (other.inbound && other !== stream && (!largest || other.held > largest.held)) largest = other;
      if (!largest || largest.held <= stream.held + extra) return false;
      countDrop(this.#traffic, 'stream-memory');
      this.#forget(largest);
      largest.socket.destroy();
    }
    return true;
  }

  /** Gives back what a stream holds, and its push/pull slot. */
  #release(stream: Stream): void {
    stream.decoder?.dispose();
    stream.decoder = null;
    this.#charge(stream, 0);
    if (stream.pushPull) this.#pushPulls--;
    stream.pushPull = false;
  }

  /** Takes a stream out of the accounting; its socket may still be closing. */
  #forget(stream: Stream): void {
    if (this.#streams.delete(stream)) this.#release(stream);
  }
}
