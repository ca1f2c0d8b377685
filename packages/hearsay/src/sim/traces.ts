import type { VerdictRecord } from '../core/index.js';
import type { Simulation } from './simulator.js';

/** One node's episode about a traced member: a suspicion and how it ended, or a verdict heard of. */
export interface VerdictEpisode {
  /** The node whose record it is. */
  readonly observer: string;
  /** The episode as the observer recorded it (`MemberNode.history`), times in virtual ms. */
  readonly record: VerdictRecord;
}

/** What the other nodes concluded about one member, and how (`hearsay sim --trace`). */
export interface VerdictTrace {
  /** The traced member (n0 …). */
  readonly member: string;
  /**
   * Every episode on record at the nodes live at the end (a crashed node's records went with
   * it), in the order they began (a suspicion's start, else its verdict), then by node index.
   * At most `RECORDS_PER_MEMBER` (16) per observer, the latest.
   */
  readonly episodes: VerdictEpisode[];
  /** Nodes whose probes of the member were answered only through helpers or TCP at the end, since when. */
  readonly degraded: { readonly observer: string; readonly since: number }[];
}

/** When an episode began: its suspicion, or the verdict heard of without one. */
export function episodeStart(record: VerdictRecord): number {
  return record.suspectedAt ?? record.outcome?.at ?? Number.POSITIVE_INFINITY;
}

/**
 * The verdict records every other live node holds about each of `names` (n0 …; a ConfigError
 * for any other name), with the degraded pairs toward it. Times are the virtual clock's: ms since
 * the run's start.
 */
export function verdictTraces(sim: Simulation, names: readonly string[]): VerdictTrace[] {
  const indices = names.map((name) => sim.indexOf(name));
  return indices.map((target, k) => {
    const member = names[k]!;
    const episodes: (VerdictEpisode & { index: number })[] = [];
    const degraded: { observer: string; since: number }[] = [];
    for (let i = 0; i < sim.options.nodes; i++) {
      const node = sim.node(i);
      if (!node || i === target) continue;
      for (const record of node.history(member)) episodes.push({ observer: node.name, record, index: i });
      for (const pair of node.degradedPeers()) if (pair.member === member) degraded.push({ observer: node.name, since: pair.since });
    }
    episodes.sort((a, b) => episodeStart(a.record) - episodeStart(b.record) || a.index - b.index);
    return { member, episodes: episodes.map(({ observer, record }) => ({ observer, record })), degraded };
  });
}
