import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { countDrop } from 'hearsay/core';
import type { HearsayNode, IncomingQuery, Member, Protocol } from 'hearsay';
import { throttledWarn, type AgentStats } from './agent-stats.js';
import { ApiError } from './api-error.js';
import { memberJson, protocolJson } from './http-api.js';

export interface EventStreamLimits {
  /** Clients streaming at once; more are refused with 429. */
  readonly maxClients: number;
  /** Bytes queued for one client (beyond what its socket took); a client further behind is dropped. */
  readonly maxBufferedBytes: number;
}

/** A live view per tab and `cluster watch` per agent fit many times over. */
export const DEFAULT_STREAM_LIMITS: EventStreamLimits = { maxClients: 64, maxBufferedBytes: 256 * 1024 };
const KEEP_ALIVE_MS = 15_000;
/** The node's membership events, each an SSE event of the same name. */
export const MEMBER_EVENTS = ['join', 'update', 'suspect', 'alive', 'failed', 'left', 'reap'] as const;

/** Serf's clocks are uint64: numbers while a JSON reader keeps them exact, decimal strings beyond. */
function exactClocks(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

/**
 * GET /v1/events: the node's membership, protocol, user-event and query events as Server-Sent
 * Events to every client. Each event is encoded once and written to all; a client that does not
 * read keeps at most `maxBufferedBytes` queued in the agent before it is dropped (a forged burst
 * of members would otherwise pile up in memory for each), and `maxClients` stream at once.
 */
export class EventStreams {
  readonly #node: HearsayNode;
  readonly #stats: AgentStats;
  readonly #limits: EventStreamLimits;
  readonly #warn: ReturnType<typeof throttledWarn>;
  readonly #clients = new Set<ServerResponse>();
  #detach: (() => void) | undefined;

  constructor(node: HearsayNode, stats: AgentStats, log: Logger, limits: EventStreamLimits = DEFAULT_STREAM_LIMITS) {
    this.#node = node;
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
    const node = this.#node;
    const send = (type: string, data: object) => this.#broadcast(`event: ${type}\ndata: ${JSON.stringify(data, exactClocks)}\n\n`);
    const members = MEMBER_EVENTS.map((type) => [type, (member: Member) => send(type, memberJson(member))] as const);
    for (const [type, listener] of members) node.on(type, listener);
    const onProtocol = (protocol: Protocol, epoch: number, origin: string) => send('protocol', protocolJson(protocol, epoch, origin));
    // A user event names no sender (Serf's has no field for it), and the member that relayed it is nobody's concern: none is shown.
    const onMessage = (payload: Uint8Array, name: string) =>
      send('user', { name, payload: Buffer.from(payload).toString('utf8'), payloadBase64: Buffer.from(payload).toString('base64') });
    const onQuery = (query: IncomingQuery) =>
      send('query', { name: query.name, from: query.from, ltime: query.ltime, payload: Buffer.from(query.payload).toString('utf8') });
    node.on('protocol', onProtocol);
    node.on('message', onMessage);
    node.on('query', onQuery);
    const keepAlive = setInterval(() => this.#broadcast(': keep-alive\n\n'), KEEP_ALIVE_MS);
    return () => {
      clearInterval(keepAlive);
      for (const [type, listener] of members) node.off(type, listener);
      node.off('protocol', onProtocol);
      node.off('message', onMessage);
      node.off('query', onQuery);
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
