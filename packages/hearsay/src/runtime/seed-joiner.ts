import { networkInterfaces } from 'node:os';
import type { Address } from '../core/index.js';
import { isOwnAddress } from './address.js';
import { JoinError } from './errors.js';
import { checkSeeds } from './options.js';
import { type NameResolver, parseSeeds, resolveSeeds } from './resolve.js';
import { SeedRetryPolicy } from './seeds.js';
import { CLOSED_UNANSWERED, UNANSWERED } from './streams.js';

/**
 * Joins that found a seed busy (it accepted the connection but did not answer, as a seed that
 * hundreds of nodes join at once does) are tried again this many times, after a backoff that
 * doubles from BUSY_BACKOFF_MS up to BUSY_BACKOFF_CAP_MS, with ±50% jitter, so that the joiners
 * of a storm spread out: about a minute of backoff in all. A seed that refuses the connection,
 * or does not accept it, is not busy: that join fails at once.
 */
const BUSY_RETRIES = 6;
const BUSY_BACKOFF_MS = 1000;
const BUSY_BACKOFF_CAP_MS = 16_000;

const seedWasBusy = (error: string) => error.endsWith(UNANSWERED) || error.endsWith(CLOSED_UNANSWERED);

/** What the seed joiner needs of its node. */
export interface SeedJoinerHost {
  readonly resolver: NameResolver;
  /** Between two tries of the seeds while alone; 0 never. */
  readonly seedRetryIntervalMs: number;
  /** A joining push/pull with each address: how many answered, and what went wrong with the others. */
  pushPull(addresses: Address[]): Promise<readonly [contacted: number, errors: readonly string[]]>;
  /** Where the node listens, and what it advertises. */
  own(): { bound: Address; advertised: Address };
  /** Whether no other member is alive or suspect. */
  alone(): boolean;
  /** Throws a ShutdownError once the node is shut down (lookups take time). */
  assertOpen(): void;
  notice(level: 'debug' | 'warn', text: string): void;
}

/**
 * Joins through seeds given by name (resolved each time, so a seed that moves is followed) and,
 * while the node is alone, tries the seeds of past joins again on an unref'd timer.
 */
export class SeedJoiner {
  readonly #host: SeedJoinerHost;
  readonly #policy: SeedRetryPolicy;
  readonly #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Tries of the seeds while alone, those that reached a member, and joins tried again because the seeds were busy. */
  readonly counts = { retries: 0, rejoins: 0, busyRetries: 0 };

  constructor(host: SeedJoinerHost) {
    this.#host = host;
    this.#policy = new SeedRetryPolicy(host.seedRetryIntervalMs);
    if (host.seedRetryIntervalMs > 0) {
      // Ticks a few times per interval, so that a try starts at most a quarter interval late.
      this.#timer = setInterval(() => this.#retry(), Math.max(host.seedRetryIntervalMs / 4, 10));
      this.#timer.unref();
    }
  }

  /**
   * Resolves the seeds and joins every address they give but the node's own; resolves with how
   * many answered, 0 when they name only this node (it is the first member). Rejects with an
   * OptionError for a seed it cannot read, a JoinError naming each seed's failure if none answered.
   * The seeds of a successful join are kept for later tries.
   */
  async join(entries: string[]): Promise<number> {
    checkSeeds(entries);
    for (let retry = 0; ; retry++) {
      try {
        const contacted = await this.#join(entries);
        this.#policy.remember(entries);
        return contacted;
      } catch (error) {
        if (!(error instanceof JoinError) || retry === BUSY_RETRIES || !error.errors.some(seedWasBusy)) throw error;
        const backoffMs = Math.min(BUSY_BACKOFF_MS * 2 ** retry, BUSY_BACKOFF_CAP_MS) * (0.5 + Math.random());
        this.counts.busyRetries++;
        this.#host.notice('debug', `seeds busy (${error.errors.join('; ')}): trying again in ${Math.round(backoffMs)} ms`);
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        this.#host.assertOpen();
      }
    }
  }

  /** No more tries: the node left or shut down. */
  stop(): void {
    this.#stopped = true;
    this.#policy.stop();
    clearInterval(this.#timer);
  }

  async #join(entries: readonly string[]): Promise<number> {
    const resolved = await resolveSeeds(parseSeeds(entries), this.#host.resolver);
    this.#host.assertOpen();
    const { bound, advertised } = this.#host.own();
    const interfaces = networkInterfaces();
    const others = resolved.addresses.filter((address) => !isOwnAddress(address, bound, advertised, interfaces));
    const namesSelf = others.length < resolved.addresses.length;
    const [contacted, errors] = others.length === 0 ? [0, []] : await this.#host.pushPull(others);
    if (contacted > 0 || namesSelf) return contacted;
    const all = [...resolved.errors, ...errors];
    throw new JoinError(`no seed could be reached: ${all.join('; ')}; check the addresses and that the seeds run`, all);
  }

  #retry(): void {
    if (!this.#policy.due(Date.now(), this.#host.alone())) return;
    this.counts.retries++;
    this.#join(this.#policy.seeds)
      .then(
        (contacted) => {
          if (contacted === 0) return;
          this.counts.rejoins++;
          this.#host.notice('debug', `rejoined through seeds (${contacted} answered) after finding this node alone`);
        },
        (error: unknown) => {
          // A try that a shutdown cut short is no news.
          if (!this.#stopped) this.#host.notice('warn', `alone, and the seeds did not answer: ${(error as Error).message}`);
        },
      )
      .finally(() => this.#policy.finished());
  }
}
