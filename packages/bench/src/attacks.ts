/**
 * The attacks of issue 11 as the bench runs them against a cluster's victim (its first agent):
 * each bounded in count and time, each saying what it achieved in a few words. Amplification is
 * counted where the victim's answers arrive: on a UDP socket of the attacker's (or of a reflector
 * the attacker named), the same way for Serf, which counts no bytes, as for hearsay.
 *
 * This file holds what an attack is and the catalogue; the attacks themselves are in
 * flood-attacks.ts and forged-attacks.ts, what they are made of in attack-tools.ts.
 */
import { FLOOD_ATTACKS } from './flood-attacks.js';
import { FORGED_ATTACKS } from './forged-attacks.js';
import type { AttackCluster } from './attack-systems.js';

/** How hard each attack hits; `small` keeps the smoke test quick. */
export interface AttackScale {
  readonly streams: number;
  readonly streamBytes: number;
  readonly bombs: number;
  readonly bombBytes: number;
  readonly idleConnections: number;
  readonly idleMs: number;
  readonly forgedMembers: number;
  readonly floodMs: number;
  readonly floodPerSecond: number;
  readonly sseClients: number;
  readonly sseBurst: number;
}

export const FULL_SCALE: AttackScale = {
  streams: 128,
  streamBytes: 19 * 2 ** 20,
  bombs: 128,
  bombBytes: 21 * 2 ** 20,
  idleConnections: 1_000,
  idleMs: 6_000,
  forgedMembers: 100_000,
  floodMs: 10_000,
  floodPerSecond: 20_000,
  sseClients: 100,
  sseBurst: 50_000,
};

export const SMALL_SCALE: AttackScale = {
  streams: 4,
  streamBytes: 2 ** 20,
  bombs: 4,
  bombBytes: 2 * 2 ** 20,
  idleConnections: 20,
  idleMs: 2_000,
  forgedMembers: 500,
  floodMs: 2_000,
  floodPerSecond: 200,
  sseClients: 4,
  sseBurst: 100,
};

export interface AttackOutcome {
  /** Bytes sent because of the attack over bytes the attacker sent (the UDP attacks). */
  readonly amplification?: number;
  /** What happened, in a few words. */
  readonly outcome: string;
  /** The figures behind it, for --json. */
  readonly figures?: Readonly<Record<string, number | string | boolean | null>>;
}

export interface AttackContext {
  readonly cluster: AttackCluster;
  readonly scale: AttackScale;
}

export interface Attack {
  readonly key: string;
  readonly title: string;
  /** Where it applies: Serf has no SSE stream, no HTTP API and no protocol switch. */
  readonly hearsayOnly: boolean;
  /** Its RSS is worth sampling a while after it ends (it makes the victim hold memory). */
  readonly memory: boolean;
  /**
   * Runs against one system at a time: it loads the victim (CPU, bandwidth, memory), so a victim
   * attacked at the same moment on the same cores would measure the other one too. The others
   * (a forged message, then checks) run against every system at once.
   */
  readonly alone: boolean;
  run(context: AttackContext): Promise<AttackOutcome>;
}

/** In the order the bench runs and reports them. */
export const ATTACKS: readonly Attack[] = [...FLOOD_ATTACKS, ...FORGED_ATTACKS];
