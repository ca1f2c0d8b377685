/**
 * One compliance suite for every driver of the core (as js-libp2p runs one suite over every
 * transport): the same scenarios, the same assertions and the same bounds, derived from the
 * configuration, whether the nodes run on the simulator's virtual clock or on real sockets. A
 * driver passes by implementing `DriverUnderTest`; a behaviour that differs between drivers
 * fails here.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig, type Status, type ProtocolConfig } from '../../packages/hearsay/src/core/index.js';
import { longestVerdictMs } from '../../packages/hearsay/src/sim/index.js';
import { FAST } from '../helpers/timings.js';
import { COMPLIANCE_SUITE_PREFIX } from './suite-name.js';

/** Every driver runs its nodes with these timings, so that the bounds below are the same for all. */
export const COMPLIANCE_CONFIG: ProtocolConfig = resolveConfig('lan', FAST);

/** A member as one node sees it. */
export interface Seen {
  readonly status: Status;
  readonly incarnation: number;
}

/** What a driver offers the suite. Nodes are numbered from 0 and named `n0`, `n1`, …. */
export interface DriverUnderTest {
  /** Starts `count` nodes with `COMPLIANCE_CONFIG`: n0 first, the others joining through it. */
  start(count: number): Promise<void>;
  /** What node `observer` believes: member name → status and incarnation. */
  view(observer: number): ReadonlyMap<string, Seen>;
  /** The membership events node `observer` emitted, in order. */
  events(observer: number): readonly { readonly type: string; readonly member: string }[];
  /** Stops node `index` at once, without a word to its peers. */
  crash(index: number): Promise<void>;
  /** Node `index` leaves gracefully, then stops. */
  leave(index: number): Promise<void>;
  /** Hands `observer` a suspect rumour about `target`, at the incarnation `observer` holds, as a peer would send it. */
  suspect(observer: number, target: number): Promise<void>;
  /** Node `index` broadcasts a user event. */
  broadcast(index: number, name: string, payload: Uint8Array): void;
  /** The user events node `index` received, in order. */
  received(index: number): readonly { readonly name: string; readonly payload: Uint8Array }[];
  /** Node `index` asks a query that every node answers with its own name; what it collected by `timeoutMs`. */
  ask(index: number, name: string, timeoutMs: number): Promise<{ acks: string[]; responses: { from: string; answer: string }[] }>;
  /** Lets time pass (virtual or real) until `check` holds; resolves with the ms it took, rejects past `boundMs`. */
  until(description: string, check: () => boolean, boundMs: number): Promise<number>;
  /** Lets `ms` pass. */
  idle(ms: number): Promise<void>;
  /** Stops every node still running. */
  close(): Promise<void>;
}

/** How far a driver that advances its own clock (virtual or fake) moves it between two checks, in ms. */
export const CLOCK_TICK_MS = 10;

/** `until` and `idle` for a driver whose clock (virtual or fake) it advances itself, checking every `CLOCK_TICK_MS` of it. */
export function steppedClockWaits(now: () => number, advance: (ms: number) => void, clockName: string): Pick<DriverUnderTest, 'until' | 'idle'> {
  return {
    async until(description, check, boundMs) {
      const started = now();
      while (!check()) {
        if (now() - started > boundMs) throw new Error(`not within ${boundMs} ${clockName} ms: ${description}`);
        advance(CLOCK_TICK_MS);
      }
      return now() - started;
    },
    async idle(ms) {
      advance(ms);
    },
  };
}

const N = 5;
const names = Array.from({ length: N }, (_, i) => `n${i}`);
const config = COMPLIANCE_CONFIG;
/** Gossip rounds for an update to reach every node of a small cluster several times over. */
const SPREAD_MS = 20 * config.gossipIntervalMs;
/** Joins: the joiner's push/pull with n0, then gossip of each joiner to the rest. */
const CONVERGE_BOUND_MS = config.pushPullIntervalMs + SPREAD_MS;
/** A crash: a round-robin pass until someone probes it, the longest verdict, then its spread. */
const CRASH_BOUND_MS = N * config.probeIntervalMs + longestVerdictMs(config, 'swim', N) + SPREAD_MS;

/** The suite's scenarios over the driver `make` builds (a fresh one per test), under the name `driverName`. */
export function describeDriverCompliance(driverName: string, make: () => DriverUnderTest, testTimeoutMs: number): void {
  describe(`${COMPLIANCE_SUITE_PREFIX}${driverName}`, () => {
    let driver: DriverUnderTest;
    const others = (index: number) => [...Array(N).keys()].filter((i) => i !== index);
    const statusOf = (observer: number, member: number) => driver.view(observer).get(names[member]!)?.status;
    const converged = () => [...Array(N).keys()].every((i) => names.every((name) => driver.view(i).get(name)?.status === 'alive'));

    beforeEach(async () => {
      driver = make();
      await driver.start(N);
      await driver.until(`${N} nodes alive in every view`, converged, CONVERGE_BOUND_MS);
    }, testTimeoutMs);
    afterEach(() => driver.close());

    it('joins and converges: every node lists every node alive', () => {
      for (let i = 0; i < N; i++) expect([...driver.view(i).keys()].sort()).toEqual(names);
    });

    it(
      'a crashed member is marked failed by every other node within the derived bound',
      async () => {
        await driver.crash(4);
        const took = await driver.until('n4 failed in every other view', () => others(4).every((i) => statusOf(i, 4) === 'failed'), CRASH_BOUND_MS);
        expect(took).toBeLessThanOrEqual(CRASH_BOUND_MS);
        for (const i of others(4)) {
          for (const member of [0, 1, 2, 3]) expect(statusOf(i, member)).toBe('alive');
        }
      },
      testTimeoutMs,
    );

    it(
      'a suspicion is refuted: the member outbids it and no one fails it',
      async () => {
        const before = driver.view(0).get('n2')!.incarnation;
        await driver.suspect(0, 2);
        await driver.until(
          'n2 alive at a higher incarnation in every view',
          () => [...Array(N).keys()].every((i) => statusOf(i, 2) === 'alive' && driver.view(i).get('n2')!.incarnation !== before),
          SPREAD_MS + config.probeIntervalMs,
        );
        expect(driver.events(0).some((e) => e.type === 'suspect' && e.member === 'n2')).toBe(true);
        for (let i = 0; i < N; i++) expect(driver.events(i).filter((e) => e.type === 'failed')).toEqual([]);
      },
      testTimeoutMs,
    );

    it(
      'a graceful leave is shown left, never failed',
      async () => {
        await driver.leave(4);
        await driver.until('n4 left in every other view', () => others(4).every((i) => statusOf(i, 4) === 'left'), SPREAD_MS);
        await driver.idle(2 * config.probeIntervalMs);
        for (const i of others(4)) {
          expect(statusOf(i, 4)).toBe('left');
          expect(driver.events(i).filter((e) => e.member === 'n4' && e.type === 'failed')).toEqual([]);
        }
      },
      testTimeoutMs,
    );

    it(
      'a broadcast reaches every other node exactly once',
      async () => {
        const payload = new TextEncoder().encode('v2 is live');
        driver.broadcast(0, 'deploy', payload);
        await driver.until('the event at every other node', () => others(0).every((i) => driver.received(i).length > 0), SPREAD_MS);
        // Past every retransmission and relay: a second copy would have arrived by now.
        await driver.idle(SPREAD_MS);
        for (const i of others(0)) expect(driver.received(i)).toEqual([{ name: 'deploy', payload }]);
        expect(driver.received(0)).toEqual([]);
      },
      testTimeoutMs,
    );

    it(
      'a query is acknowledged and answered by every node',
      async () => {
        const { acks, responses } = await driver.ask(1, 'who-is-there', SPREAD_MS);
        expect(responses.map((r) => r.from).sort()).toEqual(names);
        for (const { from, answer } of responses) expect(answer).toBe(from);
        expect([...acks].sort()).toEqual(names);
      },
      testTimeoutMs,
    );
  });
}
