/**
 * The chaos lab's vocabulary, shared by the lab (real agents in network namespaces), the
 * simulator's counterpart and the report: what a scenario is, which system runs it, and the one
 * row of figures each run of a scenario variant yields.
 */

/** The scenarios of issue 16, each run identically against every system. */
export const SCENARIO_NAMES = ['loss', 'oneway', 'partition', 'flap', 'pause', 'churn'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/**
 * Who runs the scenario: hearsay agents, Debian's `serf` agents, a mixed cluster (even hosts
 * hearsay, odd hosts serf), or the simulator driving hearsay's core on virtual time.
 */
export const SYSTEM_NAMES = ['hearsay', 'serf', 'mixed', 'sim'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

/** One variant of a scenario, as run: everything needed to run it again the same way. */
export interface ScenarioSpec {
  readonly scenario: ScenarioName;
  /** A short label naming the variant, e.g. `loss 10%`, `pause 5s`, `partition 50/50 60s`. */
  readonly variant: string;
  /** The variant's number for figures' x axes: loss in %, pause in s; 0 where there is none. */
  readonly param: number;
  /** Cluster size. Members are named n0 … n{N−1}; n0 is the seed everyone joins through. */
  readonly nodes: number;
  /** How long the fault lasts (ms): the loss window, the one-way loss, the partition, the flapping, the pause, the churn. */
  readonly faultMs: number;
  /** Seed of the scenario's own random choices (who is killed, paused, restarted, the split); the same for every system. */
  readonly seed: number;
  /** How long the run is watched after the fault (ms), when not the scenario's default (short smoke runs). */
  readonly watchMs?: number;
  /** Memberlist timing profile; the lab always runs `lan` so that Serf and hearsay share timings. */
  readonly profile: 'lan';
}

/**
 * The figures of one run of one variant by one system. Counts are summed over observers (every
 * member that is up), so one false failure seen by 15 members counts 15, as each is an alarm
 * an operator of that member would get. Columns that do not apply to a scenario are null.
 *
 * Definitions (docs/reliability/README.md repeats them):
 * - falseFailures: `failed` events about a member that was up and unpaused at that moment (for
 *   `pause`: a pause shorter than the suspicion timeout must not be declared, so declarations
 *   about the paused member are counted in `pausedDeclared` instead).
 * - failedProbes: probes that ended with no direct, indirect or TCP ack (memberlist's "Suspect X
 *   has failed, no acks received"; hearsay's `hearsay_probes_failed_total`), over the fault window.
 * - refutations: times a member refuted a suspicion about itself.
 * - packetsPerNodeS: packets the members sent (nftables counter on each host's link), per member per second, over the fault window.
 * - detectionFirstS / detectionAllS: after a SIGKILL, seconds until the first / the last member up lists it failed.
 * - convergenceS: seconds from the heal (partition), the last restart (churn) or the end of the fault
 *   until every member up lists exactly the members up as alive, and keeps doing so; null if never within the watch window.
 * - ghosts: at the end, (observer, member) pairs where the observer lists a member that is up as failed or left, or lists as alive one that is gone.
 * - eventsSent / eventsDelivered: user events sent during the fault, and (event, member) deliveries to the members that were up from the send until the end; eventDeliveryRatio = delivered / expected.
 * - flapsSeen: `failed` events about the flapping member, summed over observers.
 * - pausedDeclared: members that declared the paused member failed.
 * - peakMembers: the most members any observer listed (alive, suspect or failed) at once.
 * - degradedPairs: degraded pairs reported over the fault window (hearsay: a member whose probes
 *   were answered only through helpers or TCP twice in a row); null for Serf, which reports none.
 */
export interface ResultRow {
  readonly scenario: ScenarioName;
  readonly system: SystemName;
  readonly variant: string;
  readonly param: number;
  /** 1, 2, …: the repetition (each with seed `spec.seed + rep - 1`). */
  readonly rep: number;
  readonly seed: number;
  readonly nodes: number;
  readonly faultS: number;
  readonly falseFailures: number | null;
  readonly failedProbes: number | null;
  readonly refutations: number | null;
  readonly packetsPerNodeS: number | null;
  readonly detectionFirstS: number | null;
  readonly detectionAllS: number | null;
  readonly convergenceS: number | null;
  readonly ghosts: number | null;
  readonly eventsSent: number | null;
  readonly eventsDelivered: number | null;
  readonly eventDeliveryRatio: number | null;
  readonly flapsSeen: number | null;
  readonly pausedDeclared: number | null;
  readonly peakMembers: number | null;
  readonly degradedPairs: number | null;
}

/** The CSV's columns, in order: every field of ResultRow. */
export const RESULT_COLUMNS = [
  'scenario',
  'system',
  'variant',
  'param',
  'rep',
  'seed',
  'nodes',
  'faultS',
  'falseFailures',
  'failedProbes',
  'refutations',
  'packetsPerNodeS',
  'detectionFirstS',
  'detectionAllS',
  'convergenceS',
  'ghosts',
  'eventsSent',
  'eventsDelivered',
  'eventDeliveryRatio',
  'flapsSeen',
  'pausedDeclared',
  'peakMembers',
  'degradedPairs',
] as const satisfies readonly (keyof ResultRow)[];

/** A row with every figure null, to fill in what a scenario measures. */
export function emptyFigures(): Pick<ResultRow, Exclude<(typeof RESULT_COLUMNS)[number], keyof ScenarioSpec | 'system' | 'rep' | 'faultS'>> {
  return {
    falseFailures: null,
    failedProbes: null,
    refutations: null,
    packetsPerNodeS: null,
    detectionFirstS: null,
    detectionAllS: null,
    convergenceS: null,
    ghosts: null,
    eventsSent: null,
    eventsDelivered: null,
    eventDeliveryRatio: null,
    flapsSeen: null,
    pausedDeclared: null,
    peakMembers: null,
    degradedPairs: null,
  };
}

/** What the report says about how the run was made. */
export interface RunFacts {
  /** The exact command line that made the results, as a user types it (`npm run chaos -- …`). */
  readonly command: string;
  readonly startedAt: string;
  readonly durationMs: number;
  /** `serf version`'s first line, Node.js's version, the kernel, the CPU count. */
  readonly machine: Record<string, string>;
}
