import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { countDrop } from 'hearsay/core';
import { OptionError, type HearsayNode, type IncomingQuery } from 'hearsay';
import { throttledWarn, type AgentStats } from './agent-stats.js';

/** A shell command that answers the queries of one name (`*`: every name without a handler of its own). */
export interface QueryHandler {
  readonly name: string;
  readonly command: string;
}

export interface QueryHandlerOptions {
  readonly log: Logger;
  readonly stats: AgentStats;
  /** Handler processes running at once; queries beyond wait in a bounded queue. */
  readonly concurrency: number;
}

/** Handler processes running at once unless --query-handler-concurrency says otherwise. */
export const DEFAULT_HANDLER_CONCURRENCY = 8;
/** Queries waiting for a free handler slot; any peer can send queries, so the wait list is bounded. */
const MAX_QUEUED = 64;
/** Output beyond this is not read: Serf's answers are limited to 1024 bytes anyway. */
const MAX_OUTPUT_BYTES = 4096;
/** A query's timeout is the asker's to choose: however long, a handler process is killed after this. */
const MAX_RUN_MS = 60_000;
/** Peer-chosen text put in a handler's environment is cut to this many characters. */
const MAX_ENV_CHARS = 512;

/** `NAME=COMMAND`, e.g. `uptime=uptime` or `*=./answer.sh`. */
export function parseQueryHandler(text: string): QueryHandler {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new OptionError(`"${text}" is not a query handler: use NAME=COMMAND, like load=uptime (NAME * for any query)`);
  return { name: text.slice(0, eq), command: text.slice(eq + 1) };
}

/**
 * Text from a peer made fit for an environment variable: a NUL cannot be passed to a process at
 * all (spawn throws), and other control characters (newlines, terminal escapes) would mislead
 * scripts that split, log or print it, so each becomes `\xNN`; the result is cut to 512 characters.
 */
export function envSafe(text: string): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length <= MAX_ENV_CHARS
    ? escaped
    : `${Array.from(escaped)
        .slice(0, MAX_ENV_CHARS - 1)
        .join('')}…`;
}

/**
 * Answers queries as Serf agents' `query:` event handlers do: the command runs in /bin/sh with
 * the payload on stdin and the query in its environment (HEARSAY_QUERY_* and Serf's SERF_EVENT,
 * SERF_QUERY_NAME, SERF_QUERY_LTIME, so Serf handler scripts work unchanged); what it prints
 * is the answer, if it exits 0 before the query's deadline. A command still running at the
 * deadline is killed. At most `concurrency` commands run at once; queries beyond wait in a
 * bounded queue, and are dropped (counted) when it is full or their deadline passes first.
 * Returns a function that kills every command still running (at shutdown).
 */
export function attachQueryHandlers(node: HearsayNode, handlers: readonly QueryHandler[], options: QueryHandlerOptions): () => void {
  const pool = new HandlerPool(node.name, options);
  if (handlers.length > 0) {
    node.on('query', (query) => {
      const handler = handlers.find((h) => h.name === query.name) ?? handlers.find((h) => h.name === '*');
      if (handler) pool.submit(handler, query);
    });
  }
  return () => pool.stop();
}

interface Job {
  readonly handler: QueryHandler;
  readonly query: IncomingQuery;
}

class HandlerPool {
  readonly #self: string;
  readonly #options: QueryHandlerOptions;
  readonly #warn: ReturnType<typeof throttledWarn>;
  /** Process groups of the commands running. */
  readonly #running = new Set<number>();
  #active = 0;
  #queue: Job[] = [];
  #stopped = false;

  constructor(self: string, options: QueryHandlerOptions) {
    this.#self = self;
    this.#options = options;
    this.#warn = throttledWarn(options.log);
  }

  submit(handler: QueryHandler, query: IncomingQuery): void {
    if (this.#stopped) return;
    if (this.#active < this.#options.concurrency) {
      this.#run({ handler, query });
      return;
    }
    if (this.#queue.length >= MAX_QUEUED) this.#dropExpired();
    if (this.#queue.length >= MAX_QUEUED) this.#drop('query-handler-queue-full', query, 'query handlers busy and their queue full: query dropped');
    else this.#queue.push({ handler, query });
  }

  stop(): void {
    this.#stopped = true;
    this.#queue = [];
    for (const group of this.#running) killGroup(group);
  }

  #dropExpired(): void {
    const now = Date.now();
    const waiting = this.#queue;
    this.#queue = waiting.filter((job) => job.query.deadline > now);
    for (const job of waiting) if (job.query.deadline <= now) this.#drop('query-handler-expired', job.query, 'query expired while waiting for a handler');
  }

  #next(): void {
    while (!this.#stopped && this.#active < this.#options.concurrency && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      if (job.query.deadline <= Date.now()) this.#drop('query-handler-expired', job.query, 'query expired while waiting for a handler');
      else this.#run(job);
    }
  }

  #drop(reason: string, query: IncomingQuery, message: string): void {
    countDrop(this.#options.stats, reason);
    this.#warn(reason, { query: envSafe(query.name), from: envSafe(query.from) }, message);
  }

  /** Runs one command; whatever goes wrong is counted and logged, never thrown at the node's event loop. */
  #run({ handler, query }: Job): void {
    this.#active++;
    this.#options.stats.queryHandlerRuns++;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      this.#active--;
      this.#next();
    };
    try {
      this.#spawn(handler, query, finish);
    } catch (error) {
      this.#drop('query-handler-error', query, `query handler could not run: ${(error as Error).message}`);
      finish();
    }
  }

  #spawn(handler: QueryHandler, query: IncomingQuery, finish: () => void): void {
    const name = envSafe(query.name);
    const ltime = String(query.ltime);
    const self = envSafe(this.#self);
    // A process group of its own: at the deadline the shell and whatever it started are killed together.
    const child = spawn('/bin/sh', ['-c', handler.command], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HEARSAY_NODE: self,
        HEARSAY_QUERY_NAME: name,
        HEARSAY_QUERY_FROM: envSafe(query.from),
        HEARSAY_QUERY_LTIME: ltime,
        SERF_EVENT: 'query',
        SERF_SELF_NAME: self,
        SERF_QUERY_NAME: name,
        SERF_QUERY_LTIME: ltime,
      },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      if (size < MAX_OUTPUT_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-500)));
    child.stdin.on('error', () => {}); // a command that does not read its stdin closes it early
    child.stdin.end(query.payload);
    const group = child.pid;
    if (group !== undefined) this.#running.add(group);
    let overran = false;
    const timer = setTimeout(
      () => {
        overran = true;
        if (group !== undefined) killGroup(group);
      },
      Math.min(MAX_RUN_MS, Math.max(0, query.deadline - Date.now())),
    );
    const log = { query: name, command: handler.command };
    let failed = false;
    child.on('error', (error) => {
      failed = true;
      clearTimeout(timer);
      this.#drop('query-handler-error', query, `query handler could not run: ${error.message}`);
      finish();
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (group !== undefined) this.#running.delete(group);
      finish();
      if (failed) return; // counted once, as an error
      if (overran) return this.#drop('query-handler-overran', query, 'query handler still running at the deadline: killed, no answer sent');
      if (code !== 0) {
        countDrop(this.#options.stats, 'query-handler-failed');
        return this.#warn('query-handler-failed', { ...log, code, signal, stderr }, 'query handler failed: no answer sent');
      }
      try {
        query.respond(Buffer.concat(chunks).subarray(0, MAX_OUTPUT_BYTES));
        this.#options.log.debug({ query: name, from: envSafe(query.from) }, 'query answered');
      } catch (error) {
        countDrop(this.#options.stats, 'query-answer-refused');
        this.#warn('query-answer-refused', { ...log, err: (error as Error).message }, 'query answer not sent');
      }
    });
  }
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
