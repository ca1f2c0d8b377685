/**
 * The figures of a ResultRow (types.ts defines them), computed from observations and up
 * intervals alone, so that the simulator's runs and the lab's real agents are measured by the
 * very same code. Times in, ms; durations out, s, as the row's columns.
 */
import type { PlannedEvent } from '../scenarios/plan.js';
import type { ResultRow } from '../types.js';
import { isUp, pausedWithin, upThroughout, type Observation, type PauseInterval, type UpIntervals } from './observations.js';
import { isConverged, isListedAlive, replayViews, viewsAt } from './views.js';

/** How `falseFailures` tells a false alarm from a late verdict about a real outage. */
export interface FalseFailureRules {
  /**
   * The longest a failed verdict can take after the member stopped answering (SWIM: the longest
   * suspicion timeout plus a probe period at the worst health, `longestVerdictMs` of hearsay/sim).
   * A verdict within this long of a member's crash, restart or pause may be about that outage.
   */
  readonly graceMs: number;
  /** Members whose verdicts are counted elsewhere (the paused member, the flapping one). */
  readonly exclude?: readonly string[];
}

/**
 * `failed` observations about a member, by another member up at the time, while the member had
 * been up and unpaused, in one run, for the whole `graceMs` before (the window is cut at 0, the
 * formed cluster). So a verdict about a member that is down, paused, or back from either for less
 * than `graceMs` is not counted: it may still be the cluster's judgement of the outage (a
 * suspicion raised while it was down running out before its new run refutes it). A restart counts
 * as an outage even when the member is started again at the same instant, as a churn batch does.
 */
export function falseFailures(observations: readonly Observation[], up: UpIntervals, pauses: readonly PauseInterval[], rules: FalseFailureRules): number {
  const excluded = new Set(rules.exclude ?? []);
  let count = 0;
  for (const { atMs, observer, type, member } of observations) {
    if (type !== 'failed' || member === undefined || member === observer || excluded.has(member) || !isUp(up, observer, atMs)) continue;
    const since = Math.max(0, atMs - rules.graceMs);
    if (upThroughout(up, member, since, atMs) && !pausedWithin(pauses, member, since, atMs)) count++;
  }
  return count;
}

/** `failed` observations about `member` by others, summed over observers (flapsSeen). */
export function failuresAbout(observations: readonly Observation[], member: string): number {
  return observations.filter((o) => o.type === 'failed' && o.member === member && o.observer !== member).length;
}

/** How many distinct members reported `member` failed at least once (pausedDeclared). */
export function declarers(observations: readonly Observation[], member: string): number {
  return new Set(observations.filter((o) => o.type === 'failed' && o.member === member && o.observer !== member).map((o) => o.observer)).size;
}

/**
 * After `member` crashed at `crashAtMs`: seconds until the first, and until the last, of the
 * members up from the crash through `endMs` no longer listed it alive or suspect (failed, left or
 * dropped; one that already did at the crash counts 0). Null when nobody did, or for the last
 * when someone never did.
 */
export function detection(
  observations: readonly Observation[],
  up: UpIntervals,
  member: string,
  crashAtMs: number,
  endMs: number,
): Pick<ResultRow, 'detectionFirstS' | 'detectionAllS'> {
  const watchers = [...up.keys()].filter((name) => name !== member && upThroughout(up, name, crashAtMs, endMs));
  const detectedAt = new Map<string, number>();
  for (const { atMs, views } of replayViews(observations, up, endMs)) {
    if (atMs < crashAtMs) continue;
    for (const watcher of watchers) {
      if (!detectedAt.has(watcher) && !isListedAlive(views.get(watcher)?.get(member))) detectedAt.set(watcher, atMs);
    }
  }
  const times = [...detectedAt.values()].map((atMs) => (atMs - crashAtMs) / 1000);
  return {
    detectionFirstS: times.length > 0 ? Math.min(...times) : null,
    detectionAllS: times.length > 0 && times.length === watchers.length ? Math.max(...times) : null,
  };
}

/**
 * Seconds from `fromMs` (the heal, the resume, the last restart) until the cluster converged
 * (`isConverged`: every member up lists exactly the other members up alive) for good: the start
 * of the stretch of convergence that lasts through `endMs`, 0 if it began before `fromMs`; null
 * if the cluster is not converged at `endMs`. A convergence that breaks again does not count.
 */
export function convergenceS(observations: readonly Observation[], up: UpIntervals, fromMs: number, endMs: number): number | null {
  let convergedSince: number | null = null;
  for (const { atMs, views } of replayViews(observations, up, endMs)) {
    if (!isConverged(views)) convergedSince = null;
    else convergedSince ??= atMs;
  }
  return convergedSince === null ? null : Math.max(0, convergedSince - fromMs) / 1000;
}

/**
 * At `atMs`: the (observer, member) pairs, over the members up, where the observer lists a member
 * that is up as failed or left, or lists one that is down as alive (or suspect).
 */
export function ghosts(observations: readonly Observation[], up: UpIntervals, atMs: number): number {
  const views = viewsAt(observations, up, atMs);
  let count = 0;
  for (const [observer, view] of views) {
    for (const [member, status] of view) {
      if (member === observer) continue;
      if (views.has(member) ? status === 'failed' || status === 'left' : isListedAlive(status)) count++;
    }
  }
  return count;
}

/** The most members any member up listed (alive, suspect or failed; itself included) at once, up to `untilMs`. */
export function peakMembers(observations: readonly Observation[], up: UpIntervals, untilMs = Infinity): number {
  let peak = 0;
  for (const { views } of replayViews(observations, up, untilMs)) {
    for (const view of views.values()) {
      let listed = 0;
      for (const status of view.values()) if (status !== 'left') listed++;
      peak = Math.max(peak, listed);
    }
  }
  return peak;
}

/**
 * The user events `sent` and their deliveries up to `endMs`. Each event is expected at every
 * member up, in one run, from its sending through `endMs`; the sender is expected only if it
 * reported its own event (Serf hands its own events to its handlers; the simulator's members do
 * not), so that it counts neither way otherwise. A delivery is a `user` observation of the event's
 * name by an expected member, at or after the sending. The ratio is null when nobody was expected.
 */
export function deliveries(
  observations: readonly Observation[],
  up: UpIntervals,
  sent: readonly PlannedEvent[],
  endMs: number,
): Pick<ResultRow, 'eventsSent' | 'eventsDelivered' | 'eventDeliveryRatio'> {
  let expected = 0;
  let delivered = 0;
  for (const event of sent) {
    const recipients = new Set(
      observations.filter((o) => o.type === 'user' && o.event === event.name && o.atMs >= event.atMs && o.atMs <= endMs).map((o) => o.observer),
    );
    for (const member of up.keys()) {
      if (!upThroughout(up, member, event.atMs, endMs) || (member === event.from && !recipients.has(member))) continue;
      expected++;
      if (recipients.has(member)) delivered++;
    }
  }
  return { eventsSent: sent.length, eventsDelivered: delivered, eventDeliveryRatio: expected > 0 ? delivered / expected : null };
}
