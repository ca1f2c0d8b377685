/**
 * What the metrics are computed from, the same for every system: what each member reported
 * (the simulator's membership events; the lab's agents' logs), and when each member was up.
 */

/**
 * Membership events as Serf names them (`suspect` and `alive` after a suspicion are hearsay's
 * only: Serf shows a suspect member alive), `reap` when a member is dropped from the list, and
 * `user` when a user event is delivered.
 */
export type ObservationType = 'join' | 'alive' | 'suspect' | 'failed' | 'left' | 'update' | 'reap' | 'user';

/** One thing one member reported about the cluster at one moment. */
export interface Observation {
  /** When (ms, on the run's clock: 0 is the formed cluster). */
  readonly atMs: number;
  /** The member that reported it. */
  readonly observer: string;
  readonly type: ObservationType;
  /** Whom a membership event is about (the observer itself included: both systems report their own join). */
  readonly member?: string;
  /** A `user` observation's event name; events are told apart by name. */
  readonly event?: string;
}

/** A stretch of time [fromMs, toMs): toMs is Infinity while it lasts. */
export interface Interval {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * When each member's process ran, by name, in order: one interval per run, so a restart ends one
 * and starts the next, even at the same instant. A paused process is up (see `PauseInterval`).
 * A member missing from the map was never up.
 */
export type UpIntervals = ReadonlyMap<string, readonly Interval[]>;

/** A member stopped (SIGSTOP) for a while: up, but deaf and mute. */
export interface PauseInterval extends Interval {
  readonly member: string;
}

/**
 * The formed cluster at `atMs`: every member lists every member, itself included, alive, as
 * after the joins that precede time 0. Put these first when the observations start at 0.
 */
export function formedCluster(members: readonly string[], atMs = 0): Observation[] {
  return members.flatMap((observer) => members.map((member) => ({ atMs, observer, type: 'join' as const, member })));
}

/** Whether `member` is up at `atMs`. */
export function isUp(up: UpIntervals, member: string, atMs: number): boolean {
  return (up.get(member) ?? []).some((run) => run.fromMs <= atMs && atMs < run.toMs);
}

/** Whether `member` is up, in one and the same run, from `fromMs` through `toMs`. */
export function upThroughout(up: UpIntervals, member: string, fromMs: number, toMs: number): boolean {
  return (up.get(member) ?? []).some((run) => run.fromMs <= fromMs && toMs < run.toMs);
}

/** Whether `member` is paused at any moment of [fromMs, toMs]. */
export function pausedWithin(pauses: readonly PauseInterval[], member: string, fromMs: number, toMs: number): boolean {
  return pauses.some((pause) => pause.member === member && pause.fromMs <= toMs && fromMs < pause.toMs);
}
