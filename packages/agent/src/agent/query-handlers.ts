import type { Logger } from 'pino';
import { countDrop } from 'hearsay/core';
import { OptionError, type IncomingQuery, type Member } from 'hearsay';
import { throttledWarn, type AgentStats } from './agent-stats.js';
import { envSafe, handlerEnvironment, handlerStdin } from './event-handler-invocation.js';
import type { HandlerProcesses } from './event-handler-process.js';
import { checkCommand, type EventHandlerSpec } from './event-handler-spec.js';

export { envSafe } from './event-handler-invocation.js';

/** Handler processes running at once unless --query-handler-concurrency says otherwise. */
export const DEFAULT_HANDLER_CONCURRENCY = 8;
/** Queries waiting for a free handler slot; any peer can send queries, so the wait list is bounded. */
const MAX_QUEUED = 64;
/** A query's timeout is the asker's to choose: however long, a handler process is killed after this. */
const MAX_RUN_MS = 60_000;

/**
 * `--query-handler NAME=COMMAND`, e.g. `uptime=uptime`: the event handler `query:NAME=COMMAND`.
 * `*=COMMAND` answers the queries that no other handler takes.
 */
export function parseQueryHandler(text: string): EventHandlerSpec {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new OptionError(`"${text}" is not a query handler: use NAME=COMMAND, like load=uptime (NAME * for any query)`);
  const name = text.slice(0, eq);
  const command = text.slice(eq + 1);
  checkCommand(command, text);
  return name === '*'
    ? { filters: [{ event: 'query', name: '' }], command, source: text, fallback: true }
    : { filters: [{ event: 'query', name }], command, source: text };
}

export interface QueryHandlerOptions {
  readonly log: Logger;
  readonly stats: AgentStats;
  /** Handler processes running at once; queries beyond wait in a bounded queue. */
  readonly concurrency: number;
  readonly processes: HandlerProcesses;
  /** This node as handlers are told of it (SERF_SELF_*), when each runs: its tags may have changed. */
  readonly self: () => Member;
}

interface Job {
  readonly handler: EventHandlerSpec;
  readonly query: IncomingQuery;
}

/**
 * Runs the handlers of queries, as Serf agents' `query` event handlers do: the payload on stdin,
 * Serf's environment, and what the command prints on stdout is the answer if it exits 0 before
 * the query's deadline (no output, no answer: Serf's rule). A command still running at the
 * deadline is killed. Unlike member and user events, queries are answered concurrently (each has
 * its own deadline): at most `concurrency` commands at once, the others waiting in a bounded
 * queue, dropped (counted) when it is full or their deadline passes first.
 */
export class QueryHandlerPool {
  readonly #options: QueryHandlerOptions;
  readonly #warn: ReturnType<typeof throttledWarn>;
  #active = 0;
  #queue: Job[] = [];
  #stopped = false;

  constructor(options: QueryHandlerOptions) {
    this.#options = options;
    this.#warn = throttledWarn(options.log);
  }

  submit(handler: EventHandlerSpec, query: IncomingQuery): void {
    if (this.#stopped) return;
    if (this.#active < this.#options.concurrency) {
      void this.#run({ handler, query });
      return;
    }
    if (this.#queue.length >= MAX_QUEUED) this.#dropExpired();
    if (this.#queue.length >= MAX_QUEUED) this.#drop('query-handler-queue-full', query, 'query handlers busy and their queue full: query dropped');
    else this.#queue.push({ handler, query });
  }

  stop(): void {
    this.#stopped = true;
    this.#queue = [];
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
      else void this.#run(job);
    }
  }

  #drop(reason: string, query: IncomingQuery, message: string): void {
    countDrop(this.#options.stats, reason);
    this.#warn(reason, { query: envSafe(query.name), from: envSafe(query.from) }, message);
  }

  /** Runs one command; whatever goes wrong is counted and logged, never thrown at the node's event loop. */
  async #run({ handler, query }: Job): Promise<void> {
    this.#active++;
    this.#options.stats.queryHandlerRuns++;
    const event = { kind: 'query', query } as const;
    const fields = { handler: handler.source, query: envSafe(query.name) };
    try {
      const outcome = await this.#options.processes.run({
        command: handler.command,
        env: handlerEnvironment(this.#options.self(), event),
        stdin: handlerStdin(event),
        timeoutMs: Math.min(MAX_RUN_MS, Math.max(0, query.deadline - Date.now())),
        captureStdout: true,
        logFields: fields,
      });
      if (outcome.error) return this.#drop('query-handler-error', query, `query handler could not run: ${outcome.error.message}`);
      if (outcome.timedOut) return this.#drop('query-handler-overran', query, 'query handler still running at the deadline: killed, no answer sent');
      if (outcome.code !== 0) {
        countDrop(this.#options.stats, 'query-handler-failed');
        return this.#warn(
          'query-handler-failed',
          { ...fields, code: outcome.code, signal: outcome.signal, stderr: outcome.stderrTail },
          'query handler failed: no answer sent',
        );
      }
      if (outcome.stdout.length === 0) return;
      try {
        query.respond(outcome.stdout);
        this.#options.log.debug({ query: envSafe(query.name), from: envSafe(query.from) }, 'query answered');
      } catch (error) {
        countDrop(this.#options.stats, 'query-answer-refused');
        this.#warn('query-answer-refused', { ...fields, err: (error as Error).message }, 'query answer not sent');
      }
    } finally {
      this.#active--;
      this.#next();
    }
  }
}
