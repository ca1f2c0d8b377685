import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import { countDrop } from 'hearsay/core';
import type { AgentStats } from './agent-stats.js';
import { ApiError } from './api-error.js';
import { MONITOR_LEVELS, type MonitorLevel } from './monitor-levels.js';

export interface LogMonitorLimits {
  /** Monitors attached at once; more are refused with 429. */
  readonly maxClients: number;
  /** Bytes queued for one monitor (beyond what its socket took); one further behind is dropped. */
  readonly maxBufferedBytes: number;
  /** Recent lines (and their bytes) replayed to a monitor as it attaches, as Serf's monitor shows them. */
  readonly recentLines: number;
  readonly recentBytes: number;
}

/** A few operators at once; a debug burst of a few thousand lines fits the buffer. */
export const DEFAULT_MONITOR_LIMITS: LogMonitorLimits = { maxClients: 16, maxBufferedBytes: 1024 * 1024, recentLines: 256, recentBytes: 256 * 1024 };

interface Client {
  readonly out: ServerResponse;
  /** pino's number for the least severe level this monitor wants. */
  readonly level: number;
}

/** A log line framed as one SSE event, with pino's number for its level. */
interface Frame {
  readonly level: number;
  readonly text: string;
  readonly bytes: number;
}

/**
 * The agent's logger and GET /v1/monitor (Serf's `serf monitor -log-level`). The logger writes
 * every line it produces here: to `destination` (stderr) at the agent's own level, and to each
 * monitor at or above the level it asked for. While a monitor wants lines below the agent's
 * level, the logger's level is lowered to produce them (stderr still gets its own level only),
 * and raised back when no monitor wants them. Each line is framed once and written to all; the
 * last lines the agent logged are replayed to a monitor as it attaches; a monitor that does not
 * read is dropped past `maxBufferedBytes`, and at most `maxClients` attach.
 */
export class LogMonitor {
  /** The agent's root logger: no pid and hostname, the agent's lines name its node instead. */
  readonly logger: Logger;
  readonly #destination: DestinationStream;
  readonly #limits: LogMonitorLimits;
  readonly #clients = new Set<Client>();
  readonly #recent: Frame[] = [];
  #recentBytes = 0;
  /** The agent's own level (`silent` included): stderr's, and the logger's whenever no monitor wants more. */
  #level: string;
  #stats: AgentStats | undefined;

  constructor(level: string, destination: DestinationStream, limits: LogMonitorLimits = DEFAULT_MONITOR_LIMITS) {
    this.#level = level;
    this.#destination = destination;
    this.#limits = limits;
    // With pino's metadata flag, the logger tells the stream each line's level: no line is parsed to route it.
    // Its flush is stderr's, so that the agent's last lines are out before it exits.
    const flushable = destination as DestinationStream & { flush?: (done: (error?: Error) => void) => void };
    const tap = {
      [Symbol.for('pino.metadata')]: true,
      lastLevel: 0,
      write: (line: string) => this.#write(line, tap.lastLevel),
      flush: (done: (error?: Error) => void) => (flushable.flush ? flushable.flush(done) : done()),
    };
    this.logger = pino({ level, base: null }, tap);
  }

  /** Where refused and dropped monitors are counted (the agent's stats, made once the node runs). */
  countDropsIn(stats: AgentStats): void {
    this.#stats = stats;
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** The agent's own level changed (a config reload): stderr follows it at once, and so does the logger unless a monitor wants more. */
  setLevel(level: string): void {
    this.#level = level;
    this.#adjustLevel();
  }

  /** Streams log lines at or above `level` to this request's client, the recent ones first, until it goes away or `close()`. */
  open(request: FastifyRequest, reply: FastifyReply, level: unknown): void {
    if (level !== undefined && !(MONITOR_LEVELS as readonly unknown[]).includes(level)) {
      throw new ApiError(400, `level must be one of ${MONITOR_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
    }
    if (this.#clients.size >= this.#limits.maxClients) {
      if (this.#stats) countDrop(this.#stats, 'monitor-clients-full');
      throw new ApiError(429, `${this.#limits.maxClients} monitors are already attached: close one and retry`);
    }
    const name = (level as MonitorLevel | undefined) ?? 'info';
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const client = { out, level: this.logger.levels.values[name]! };
    out.write(`: log lines of this agent at ${name} and above, the recent ones first\n\n`);
    for (const frame of this.#recent) if (frame.level >= client.level) out.write(frame.text);
    this.#clients.add(client);
    request.raw.on('close', () => this.#remove(client));
    this.#adjustLevel();
  }

  /** Ends every monitor: the server's close would wait for them. */
  close(): void {
    for (const { out } of this.#clients) out.end();
  }

  /** The logger produces what the most verbose monitor wants, and never less than the agent's own level. */
  #adjustLevel(): void {
    const wanted = Math.min(this.#ownLevel(), ...[...this.#clients].map((client) => client.level));
    const level = Number.isFinite(wanted) ? this.logger.levels.labels[wanted]! : this.#level;
    if (this.logger.level !== level) this.logger.level = level;
  }

  /** pino's number for the agent's own level; infinite when silent. */
  #ownLevel(): number {
    return this.logger.levels.values[this.#level] ?? Number.POSITIVE_INFINITY;
  }

  #remove(client: Client): void {
    if (!this.#clients.delete(client)) return;
    this.#adjustLevel();
  }

  #write(line: string, level: number): void {
    const own = level >= this.#ownLevel();
    if (own) this.#destination.write(line);
    if (!own && this.#clients.size === 0) return;
    const text = `event: log\ndata: ${line.trimEnd()}\n\n`;
    const frame = { level, text, bytes: Buffer.byteLength(text) };
    if (own) this.#remember(frame);
    for (const client of this.#clients) {
      if (level < client.level) continue;
      client.out.write(frame.text);
      if (client.out.writableLength <= this.#limits.maxBufferedBytes) continue;
      // Its socket is full and the backlog past the bound: this monitor is not reading. Counted, not logged: a line logged here would come back here.
      if (this.#stats) countDrop(this.#stats, 'monitor-slow-client');
      this.#clients.delete(client);
      client.out.destroy();
      queueMicrotask(() => this.#adjustLevel());
    }
  }

  /** Keeps the agent's last lines (as its stderr got them), bounded in number and bytes. */
  #remember(frame: Frame): void {
    if (frame.bytes > this.#limits.recentBytes) return;
    this.#recent.push(frame);
    this.#recentBytes += frame.bytes;
    while (this.#recent.length > this.#limits.recentLines || this.#recentBytes > this.#limits.recentBytes) {
      this.#recentBytes -= this.#recent.shift()!.bytes;
    }
  }
}

/** GET /v1/monitor?level=L: the agent's log stream (503 from an agent started without a monitor, as one embedded in a program). */
export function registerMonitorRoutes(app: FastifyInstance, monitor: LogMonitor | undefined): void {
  if (monitor) app.addHook('preClose', async () => monitor.close());
  app.get('/v1/monitor', (request, reply) => {
    if (!monitor) throw new ApiError(503, 'this agent was started without a log monitor');
    monitor.open(request, reply, (request.query as { level?: unknown }).level);
  });
}
