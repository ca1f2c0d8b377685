import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { countDrop } from 'hearsay/core';
import { throttledWarn, type AgentStats } from './agent-stats.js';
import { ApiError } from './api-error.js';
import type { EventLog } from './event-log.js';
import type { EventRecord } from './event-records.js';

export interface EventStreamLimits {
  /** Clients streaming at once; more are refused with 429. */
  readonly maxClients: number;
  /** Bytes queued for one client (beyond what its socket took); a client further behind is dropped. */
  readonly maxBufferedBytes: number;
}

/** A live view per tab and `cluster watch` per agent fit many times over. */
export const DEFAULT_STREAM_LIMITS: EventStreamLimits = { maxClients: 64, maxBufferedBytes: 256 * 1024 };
const KEEP_ALIVE_MS = 15_000;

/**
 * GET /v1/events: the node's membership, protocol, user-event and query events as Server-Sent
 * Events to every client, each with the id the event log gave it (so that a client that also read
 * GET /v1/events/recent can skip what it has). Each event is encoded once and written to all; a client that does not
 * read keeps at most `maxBufferedBytes` queued in the agent before it is dropped (a forged burst
 * of members would otherwise pile up in memory for each), and `maxClients` stream at once.
 */
export class EventStreams {
  readonly #events: EventLog;
  readonly #stats: AgentStats;
  readonly #limits: EventStreamLimits;
  readonly #warn: ReturnType<typeof throttledWarn>;
  readonly #clients = new Set<ServerResponse>();
  #detach: (() => void) | undefined;

  constructor(events: EventLog, stats: AgentStats, log: Logger, limits: EventStreamLimits = DEFAULT_STREAM_LIMITS) {
    this.#events = events;
    this.#stats = stats;
    this.#limits = limits;
    this.#warn = throttledWarn(log);
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Bytes written to clients that their sockets have not taken yet. */
  get bufferedBytes(): number {
    let total = 0;
    for (const client of this.#clients) total += client.writableLength;
    return total;
  }

  /** Streams to this request's client until it goes away or `close()`. */
  open(request: FastifyRequest, reply: FastifyReply): void {
    if (this.#clients.size >= this.#limits.maxClients) {
      countDrop(this.#stats, 'event-stream-clients-full');
      throw new ApiError(429, `${this.#limits.maxClients} clients are already following the event stream: close one and retry`);
    }
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    this.#clients.add(out);
    if (this.#clients.size === 1) this.#detach = this.#attach();
    request.raw.on('close', () => this.#remove(out));
    this.#write(out, ': membership and protocol events of this node\n\n');
  }

  /** Ends every stream: they never end by themselves, and the server's close would wait for them. */
  close(): void {
    for (const client of this.#clients) client.end();
  }

  #attach(): () => void {
    const send = (record: EventRecord) => this.#broadcast(`id: ${record.id}\nevent: ${record.type}\ndata: ${record.dataJson}\n\n`);
    const unfollow = this.#events.follow(send);
    const keepAlive = setInterval(() => this.#broadcast(': keep-alive\n\n'), KEEP_ALIVE_MS);
    return () => {
      clearInterval(keepAlive);
      unfollow();
    };
  }

  #remove(client: ServerResponse): void {
    if (!this.#clients.delete(client) || this.#clients.size > 0) return;
    this.#detach?.();
    this.#detach = undefined;
  }

  #broadcast(frame: string): void {
    for (const client of this.#clients) this.#write(client, frame);
  }

  #write(client: ServerResponse, frame: string): void {
    client.write(frame);
    if (client.writableLength <= this.#limits.maxBufferedBytes) return;
    // Its socket is full and the backlog past the bound: this client is not reading.
    countDrop(this.#stats, 'event-stream-slow-client');
    this.#warn('event-stream-slow-client', { bufferedBytes: client.writableLength }, 'event stream client not reading: dropped');
    this.#remove(client);
    client.destroy();
  }
}
