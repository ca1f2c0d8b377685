/**
 * Each member's view of the cluster over time, rebuilt from what it reported: the member list
 * `serf members` would have shown at any moment.
 */
import type { Observation, UpIntervals } from './observations.js';

/** How an observer lists a member. */
export type ListedStatus = 'alive' | 'suspect' | 'failed' | 'left';

/** One observer's member list: member → status. */
export type View = ReadonlyMap<string, ListedStatus>;

/** Observer → view, for the members up at that moment only: up ⇔ has a view. */
export type Views = ReadonlyMap<string, View>;

/** The views right after everything that happened at `atMs`. */
export interface Moment {
  readonly atMs: number;
  /** Valid until the replay moves on: copy what must be kept. */
  readonly views: Views;
}

/**
 * Whether a status counts as listed alive: suspicion is the detector's own business, not a
 * verdict (Serf lists suspect members alive), so both systems are judged alike.
 */
export function isListedAlive(status: ListedStatus | undefined): boolean {
  return status === 'alive' || status === 'suspect';
}

const STATUS_AFTER: Readonly<Record<Exclude<Observation['type'], 'reap' | 'user'>, ListedStatus>> = {
  join: 'alive',
  alive: 'alive',
  // A member whose tags or address changed is reported as it is: running.
  update: 'alive',
  suspect: 'suspect',
  failed: 'failed',
  left: 'left',
};

interface Boundary {
  readonly atMs: number;
  readonly member: string;
  readonly starts: boolean;
}

/**
 * Replays the observations up to `untilMs` (inclusive), yielding the views after each moment at
 * which anything happened, in time order. A member's view starts empty when a run of it starts
 * (a restarted process remembers nothing) and is gone while it is down; observations of a member
 * that is not up are ignored. At one instant runs end first, then start, then observations apply
 * in their order.
 */
export function* replayViews(observations: readonly Observation[], up: UpIntervals, untilMs = Infinity): Generator<Moment> {
  const boundaries: Boundary[] = [];
  for (const [member, runs] of up) {
    for (const run of runs) {
      boundaries.push({ atMs: run.fromMs, member, starts: true });
      if (run.toMs < Infinity) boundaries.push({ atMs: run.toMs, member, starts: false });
    }
  }
  boundaries.sort((a, b) => a.atMs - b.atMs || Number(a.starts) - Number(b.starts));
  const sorted = [...observations].sort((a, b) => a.atMs - b.atMs);
  const views = new Map<string, Map<string, ListedStatus>>();
  let b = 0;
  let o = 0;
  for (;;) {
    const atMs = Math.min(boundaries[b]?.atMs ?? Infinity, sorted[o]?.atMs ?? Infinity);
    if (atMs > untilMs || atMs === Infinity) return;
    for (; boundaries[b]?.atMs === atMs; b++) {
      const { member, starts } = boundaries[b]!;
      if (starts) views.set(member, new Map());
      else views.delete(member);
    }
    for (; sorted[o]?.atMs === atMs; o++) {
      const { observer, type, member } = sorted[o]!;
      const view = views.get(observer);
      if (!view || member === undefined || type === 'user') continue;
      if (type === 'reap') view.delete(member);
      else view.set(member, STATUS_AFTER[type]);
    }
    yield { atMs, views };
  }
}

/** The views at `atMs`, after everything that happened then: a copy. */
export function viewsAt(observations: readonly Observation[], up: UpIntervals, atMs: number): Views {
  let last: Views = new Map();
  for (const moment of replayViews(observations, up, atMs)) last = moment.views;
  return new Map([...last].map(([observer, view]) => [observer, new Map(view)]));
}

/**
 * Whether the cluster has converged: every member up lists every other member up alive, and no
 * member that is down as alive (the observer itself aside).
 */
export function isConverged(views: Views): boolean {
  for (const [observer, view] of views) {
    for (const member of views.keys()) if (member !== observer && !isListedAlive(view.get(member))) return false;
    for (const [member, status] of view) if (member !== observer && isListedAlive(status) && !views.has(member)) return false;
  }
  return true;
}
