import type { Logger } from 'pino';
import { countDrop } from 'hearsay/core';
import { OptionError, type HearsayNode, type IncomingQuery, type Member } from 'hearsay';
import { throttledWarn, type AgentStats } from './agent-stats.js';
import { MemberCoalescer, UserEventCoalescer } from './event-handler-coalescer.js';
import { envSafe, eventKey, handlerEnvironment, handlerStdin, type HandlerEvent } from './event-handler-invocation.js';
import { HandlerProcesses } from './event-handler-process.js';
import { handlerMatches, type EventHandlerSpec } from './event-handler-spec.js';
import { QueryHandlerPool } from './query-handlers.js';

/** A member or user event handler is killed after this unless --event-handler-timeout says otherwise. */
export const DEFAULT_EVENT_HANDLER_TIMEOUT_MS = 60_000;
/** Member and coalesced user events are gathered this long before handlers run (Serf's agent: 1 s). */
export const DEFAULT_EVENT_COALESCE_MS = 200;
/** Events waiting for one handler to finish its previous run; a hung handler must not hold memory without bound. */
const MAX_QUEUED_EVENTS = 256;

export interface EventHandlerOptions {
  readonly log: Logger;
  readonly stats: AgentStats;
  /** A member or user event handler still running after this is killed, with everything it started. */
  readonly timeoutMs: number;
  /** The coalescing period for member events and coalesced user events; 0 coalesces nothing. */
  readonly coalesceMs: number;
  /** Query handler processes running at once. */
  readonly queryConcurrency: number;
}

/** The time options checked, as a config file gives them too. */
export function checkEventHandlerTiming(timeoutMs: number, coalesceMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new OptionError(`the event handler timeout must be more than 0, got ${timeoutMs} ms`);
  if (!Number.isFinite(coalesceMs) || coalesceMs < 0 || coalesceMs > 60_000)
    throw new OptionError(`the event handler coalescing period must be within 0 … 60 s, got ${coalesceMs} ms`);
}

/**
 * Serf's event handlers (docs/event-handlers.md): each handler runs for the events its filter
 * takes, through /bin/sh with Serf's environment and stdin. Member events (join, leave, failed,
 * update, reap; hearsay's `alive` after failed or left is Serf's member-join) and user events
 * are coalesced, then queued per handler, which runs one event at a time, in order, within the
 * time limit; queries go to the concurrent query pool, whose answer is what the handler prints.
 * Nothing here waits on a handler: the node's listeners only queue. `replace` swaps the handlers
 * (a config reload); `stop` stops everything and kills what still runs (at shutdown).
 */
export function attachEventHandlers(node: HearsayNode, initial: readonly EventHandlerSpec[], options: EventHandlerOptions): AttachedEventHandlers {
  let handlers = initial;
  const processes = new HandlerProcesses(options.log, options.stats);
  const self = () => node.self;
  const queue = new HandlerQueues(handlers, processes, options, self);
  const members = new MemberCoalescer(options.coalesceMs, (event) => queue.submit(event));
  const users = new UserEventCoalescer(options.coalesceMs, (event) => queue.submit(event));
  const pool = new QueryHandlerPool({ log: options.log, stats: options.stats, concurrency: options.queryConcurrency, processes, self });

  // Serf's agent runs handlers for its own member-join: it happened before these listeners, so it is passed on here.
  members.push('member-join', node.self);
  /** Members last seen failed or left: coming back is a member-join to Serf (memberlist reports a dead node's return as a join). */
  const down = new Set<string>();
  const listeners = {
    join: (member: Member) => {
      down.delete(member.name);
      members.push('member-join', member);
    },
    alive: (member: Member) => {
      if (down.delete(member.name)) members.push('member-join', member);
    },
    left: (member: Member) => {
      down.add(member.name);
      members.push('member-leave', member);
    },
    failed: (member: Member) => {
      down.add(member.name);
      members.push('member-failed', member);
    },
    update: (member: Member) => members.push('member-update', member),
    reap: (member: Member) => {
      down.delete(member.name);
      members.push('member-reap', member);
    },
  };
  for (const [type, listener] of Object.entries(listeners)) node.on(type as keyof typeof listeners, listener);
  const onMessage = (payload: Uint8Array, name: string, info: { ltime: bigint; coalesce: boolean }) =>
    users.push({ kind: 'user', name, payload, ltime: info.ltime }, info.coalesce);
  const onQuery = (query: IncomingQuery) => {
    const key = eventKey({ kind: 'query', query });
    const own = handlers.filter((handler) => !handler.fallback && handlerMatches(handler, key));
    for (const handler of own.length > 0 ? own : handlers.filter((h) => h.fallback)) pool.submit(handler, query);
  };
  node.on('message', onMessage);
  node.on('query', onQuery);

  const stop = () => {
    for (const [type, listener] of Object.entries(listeners)) node.off(type as keyof typeof listeners, listener);
    node.off('message', onMessage);
    node.off('query', onQuery);
    members.stop();
    users.stop();
    pool.stop();
    queue.stop();
    processes.stopAll();
  };
  const replace = (next: readonly EventHandlerSpec[]) => {
    handlers = next;
    queue.replace(next);
  };
  return { stop, replace };
}

/** Event handlers attached to a node. */
export interface AttachedEventHandlers {
  /**
   * Runs these handlers from now on, as Serf's reload does: a handler kept (same text) keeps its
   * queue; one dropped finishes the event it runs and loses what it had queued.
   */
  replace(handlers: readonly EventHandlerSpec[]): void;
  stop(): void;
}

/** One handler's queue of member and user events, run in order, one at a time. */
interface HandlerQueue {
  readonly spec: EventHandlerSpec;
  readonly waiting: HandlerEvent[];
  running: boolean;
}

/** One bounded queue per handler of member and user events, each run in order, one at a time. */
class HandlerQueues {
  #handlers: readonly HandlerQueue[];
  readonly #processes: HandlerProcesses;
  readonly #options: EventHandlerOptions;
  readonly #self: () => Member;
  readonly #warn: ReturnType<typeof throttledWarn>;
  #stopped = false;

  constructor(handlers: readonly EventHandlerSpec[], processes: HandlerProcesses, options: EventHandlerOptions, self: () => Member) {
    this.#handlers = handlers.filter((spec) => !spec.fallback).map((spec) => ({ spec, waiting: [], running: false }));
    this.#processes = processes;
    this.#options = options;
    this.#self = self;
    this.#warn = throttledWarn(options.log);
  }

  submit(event: HandlerEvent): void {
    const key = eventKey(event);
    for (const handler of this.#handlers) {
      if (this.#stopped || !handlerMatches(handler.spec, key)) continue;
      if (handler.waiting.length >= MAX_QUEUED_EVENTS) {
        countDrop(this.#options.stats, 'event-handler-queue-full');
        this.#warn(
          `event-handler-queue-full:${handler.spec.source}`,
          { handler: handler.spec.source, event: key.type },
          'event handler busy and its queue full: event dropped',
        );
        continue;
      }
      handler.waiting.push(event);
      if (!handler.running) void this.#drain(handler);
    }
  }

  replace(specs: readonly EventHandlerSpec[]): void {
    const kept = new Map(this.#handlers.map((handler) => [handler.spec.source, handler]));
    this.#handlers = specs
      .filter((spec) => !spec.fallback)
      .map((spec) => {
        const handler = kept.get(spec.source);
        kept.delete(spec.source);
        return handler ?? { spec, waiting: [], running: false };
      });
    for (const dropped of kept.values()) dropped.waiting.length = 0;
  }

  stop(): void {
    this.#stopped = true;
    for (const handler of this.#handlers) handler.waiting.length = 0;
  }

  async #drain(handler: HandlerQueue): Promise<void> {
    handler.running = true;
    for (let event = handler.waiting.shift(); event && !this.#stopped; event = handler.waiting.shift()) await this.#run(handler.spec, event);
    handler.running = false;
  }

  async #run(spec: EventHandlerSpec, event: HandlerEvent): Promise<void> {
    const key = eventKey(event);
    const fields = { handler: spec.source, event: key.type, ...(key.name !== undefined ? { name: envSafe(key.name) } : {}) };
    const started = Date.now();
    const outcome = await this.#processes.run({
      command: spec.command,
      env: handlerEnvironment(this.#self(), event),
      stdin: handlerStdin(event),
      timeoutMs: this.#options.timeoutMs,
      captureStdout: false,
      logFields: fields,
    });
    if (outcome.error) {
      countDrop(this.#options.stats, 'event-handler-error');
      this.#warn(`event-handler-error:${spec.source}`, { ...fields, err: outcome.error.message }, 'event handler could not run');
    } else if (outcome.timedOut) {
      countDrop(this.#options.stats, 'event-handler-timeout');
      this.#warn(
        `event-handler-timeout:${spec.source}`,
        { ...fields, timeoutMs: this.#options.timeoutMs },
        'event handler still running at its time limit: killed',
      );
    } else if (outcome.code !== 0) {
      countDrop(this.#options.stats, 'event-handler-failed');
      this.#warn(`event-handler-failed:${spec.source}`, { ...fields, code: outcome.code, signal: outcome.signal }, 'event handler failed');
    } else {
      this.#options.log.debug({ ...fields, ms: Date.now() - started }, 'event handler ran');
    }
  }
}
