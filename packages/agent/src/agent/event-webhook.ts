import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { countDrop, OptionError } from 'hearsay/core';
import { throttledWarn, type AgentStats } from './agent-stats.js';
import type { EventLog } from './event-log.js';
import type { EventRecord } from './event-records.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
export const WEBHOOK_USER_AGENT = `hearsay/${version}`;

export interface WebhookPolicy {
  /** Events waiting for one webhook; beyond, the oldest waiting is dropped. */
  readonly maxQueued: number;
  /** Tries of one event before it is given up. */
  readonly maxAttempts: number;
  /** The wait before the first retry; it doubles up to `maxBackoffMs`. */
  readonly firstBackoffMs: number;
  readonly maxBackoffMs: number;
  /** One request's bound, answer included. */
  readonly timeoutMs: number;
}

/** Eight tries, seven waits of 0.5 s doubling to 30 s (a minute in all, besides the requests' own time); a webhook down longer loses what it missed. */
export const DEFAULT_WEBHOOK_POLICY: WebhookPolicy = { maxQueued: 1000, maxAttempts: 8, firstBackoffMs: 500, maxBackoffMs: 30_000, timeoutMs: 10_000 };

/** An --event-webhook URL, checked at start: http or https, nothing else. */
export function parseWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OptionError(`event webhook "${text}" is not a URL: give one like http://127.0.0.1:8080/hearsay`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new OptionError(`event webhook "${text}" must be an http:// or https:// URL, not ${url.protocol.slice(0, -1)}`);
  return url;
}

/** Where the URL is logged: without the credentials it may carry. */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

type Outcome = 'delivered' | 'retry' | 'refused';

/**
 * POSTs each event record, as JSON, to one URL: in order, one request at a time, each bounded
 * by a timeout, retried with exponential backoff while the server is unreachable or answers 5xx
 * or 429. Events wait in a bounded queue, so that a slow or dead webhook costs the agent a fixed
 * amount of memory and never holds up gossip: the oldest waiting event is dropped (and counted)
 * to make room. A 4xx answer other than 429 says the server will not take the event: it is not retried.
 */
export class EventWebhook {
  /** Where the events go, without the credentials it was given with (fetch refuses a URL that has them). */
  readonly url: URL;
  readonly #headers: Record<string, string>;
  readonly #policy: WebhookPolicy;
  readonly #log: Logger;
  readonly #stats: AgentStats;
  readonly #warn: ReturnType<typeof throttledWarn>;
  readonly #queue: EventRecord[] = [];
  #sending = false;
  #closed = false;
  /** The request in flight and the backoff wait, for close() to cut short. */
  #inFlight: AbortController | undefined;
  #wake: (() => void) | undefined;

  constructor(url: URL, context: { log: Logger; stats: AgentStats }, policy: WebhookPolicy = DEFAULT_WEBHOOK_POLICY) {
    this.url = new URL(url);
    this.#headers = { 'content-type': 'application/json', 'user-agent': WEBHOOK_USER_AGENT };
    if (url.username || url.password) {
      const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      this.#headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
      this.url.username = '';
      this.url.password = '';
    }
    this.#policy = policy;
    this.#log = context.log.child({ webhook: shown(url) });
    this.#stats = context.stats;
    this.#warn = throttledWarn(this.#log);
  }

  /** Events waiting, besides the one being sent. */
  get queued(): number {
    return this.#queue.length;
  }

  push(record: EventRecord): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#policy.maxQueued) {
      const dropped = this.#queue.shift() as EventRecord;
      countDrop(this.#stats, 'event-webhook-queue-full');
      this.#warn(
        'event-webhook-queue-full',
        { maxQueued: this.#policy.maxQueued, droppedId: dropped.id },
        'event webhook behind: oldest waiting event dropped',
      );
    }
    this.#queue.push(record);
    if (!this.#sending) void this.#drain();
  }

  /** Stops at once: the request in flight is aborted and the events waiting are dropped. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#inFlight?.abort();
    this.#wake?.();
  }

  async #drain(): Promise<void> {
    this.#sending = true;
    for (let record = this.#queue.shift(); record && !this.#closed; record = this.#queue.shift()) await this.#deliver(record);
    this.#sending = false;
  }

  async #deliver(record: EventRecord): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt++) {
      const outcome = await this.#post(record, attempt);
      if (outcome === 'delivered' || this.#closed) return;
      if (outcome === 'refused') {
        countDrop(this.#stats, 'event-webhook-refused');
        return;
      }
      if (attempt >= this.#policy.maxAttempts) {
        countDrop(this.#stats, 'event-webhook-gave-up');
        this.#log.error({ id: record.id, type: record.type, attempts: attempt }, 'event webhook: event given up after its last retry');
        return;
      }
      await this.#pause(Math.min(this.#policy.firstBackoffMs * 2 ** (attempt - 1), this.#policy.maxBackoffMs));
    }
  }

  async #post(record: EventRecord, attempt: number): Promise<Outcome> {
    const fields = { id: record.id, type: record.type, attempt };
    const request = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      request.abort();
    }, this.#policy.timeoutMs);
    this.#inFlight = request;
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: this.#headers,
        body: record.json,
        // A redirect would turn the POST into a GET, or send the events elsewhere: the operator gives the final URL.
        redirect: 'manual',
        signal: request.signal,
      });
      // Only the status matters; the body is let go so that the connection can serve the next event.
      await response.body?.cancel();
      if (response.ok) return 'delivered';
      if (response.status >= 300 && response.status < 400) {
        this.#log.error({ ...fields, status: response.status }, 'event webhook answered a redirect: give its final URL; not retried');
        return 'refused';
      }
      if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        this.#log.error({ ...fields, status: response.status }, 'event webhook refused the event (4xx): not retried');
        return 'refused';
      }
      this.#log.warn({ ...fields, status: response.status }, 'event webhook answered an error: retrying');
    } catch (error) {
      if (this.#closed) return 'retry';
      const reason = timedOut ? `no answer within ${this.#policy.timeoutMs} ms` : describe(error);
      this.#log.warn({ ...fields, err: reason }, 'event webhook unreachable: retrying');
    } finally {
      clearTimeout(timer);
      this.#inFlight = undefined;
    }
    return 'retry';
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#wake?.(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

/** fetch() says only "fetch failed"; the cause says what (ECONNREFUSED, …). */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** One EventWebhook per URL, each fed every event of the log until the returned function stops them. */
export function startEventWebhooks(urls: readonly URL[], events: EventLog, context: { log: Logger; stats: AgentStats }, policy?: WebhookPolicy): () => void {
  if (urls.length === 0) return () => {};
  const hooks = urls.map((url) => new EventWebhook(url, context, policy));
  const unfollow = events.follow((record) => {
    for (const hook of hooks) hook.push(record);
  });
  return () => {
    unfollow();
    for (const hook of hooks) hook.close();
  };
}
