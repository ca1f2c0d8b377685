import type { ProfileName, Protocol, ProtocolConfig } from '../core/index.js';
import type { RoundLoad } from './load.js';
import type { CrashReport, LeaveReport } from './observer.js';
import type { SimQueryReport, UserEventReport } from './serf-reports.js';
import type { SwitchReport } from './switches.js';

/** A node stops processing at `atMs` for `forMs`, then resumes with its backlog (SIGSTOP/SIGCONT). */
export interface PauseSpec {
  /** The node (n0 … n{N−1}). */
  name: string;
  /** When the pause starts (virtual ms). */
  atMs: number;
  /** How long it lasts (ms). */
  forMs: number;
}

/** From `atMs` until `healAtMs` the nodes in different groups cannot reach each other. */
export interface PartitionSpec {
  /** When the network splits (virtual ms). */
  atMs: number;
  /** When every partition heals (virtual ms); absent: never. */
  healAtMs?: number;
  /** Names per group; nodes listed nowhere form one more group together. */
  groups: string[][];
}

/** The network between two nodes (both directions) differs from the default. */
export interface LinkSpec {
  /** The two nodes' names. */
  between: [string, string];
  /** Probability that a UDP packet on the link is lost (0 … 1); default: the run's `loss`. */
  loss?: number;
  /** Base one-way delay (ms); default: the run's `delayMs`. */
  delayMs?: number;
  /** Uniform random delay added to the base, up to this (ms); default: the run's `jitterMs`. */
  jitterMs?: number;
}

/**
 * From `atMs` until `untilMs` nothing `from` sends reaches `to` (a one-way firewall rule): its
 * UDP packets that way are lost, and streams between the two fail in either direction, as TCP
 * needs both.
 */
export interface BlockSpec {
  /** The node whose packets are dropped. */
  from: string;
  /** The node they no longer reach. */
  to: string;
  /** When the block starts (virtual ms). */
  atMs: number;
  /** When it is lifted (virtual ms); absent: never. */
  untilMs?: number;
}

/** A node announces a graceful leave at `atMs` and stops once the announcement has gone out. */
export interface LeaveSpec {
  /** The node that leaves. */
  name: string;
  /** When it announces the leave (virtual ms). */
  atMs: number;
  /** How long it waits for the announcement to go out; default 5 s. */
  timeoutMs?: number;
}

/** A crashed node starts again with the same name and address, and joins through a live node. */
export interface RestartSpec {
  /** The node to restart (crashed first if it is running). */
  name: string;
  /** When it restarts (virtual ms). */
  atMs: number;
}

/** At `atMs` node `via` (default: the first running node) switches the cluster's failure detector. */
export interface SwitchSpec {
  /** When the switch is asked for (virtual ms). */
  atMs: number;
  /** The detector to switch to. */
  protocol: Protocol;
  /** The node asked to switch the cluster; default: the first running node. */
  via?: string;
}

/** At `atMs` node `from` (default: the first running node) broadcasts a Serf user event. */
export interface UserEventSpec {
  /** When it is sent (virtual ms). */
  atMs: number;
  /** The node that sends it; default: the first running node. */
  from?: string;
  /** The event's name. */
  name: string;
  /** Size of its payload (random bytes); default 0. Name and payload must fit in one packet. */
  payloadBytes?: number;
}

/** At `atMs` node `from` (default: the first running node) asks a Serf query; every live node answers with its name. */
export interface QuerySpec {
  /** When it is asked (virtual ms). */
  atMs: number;
  /** The node that asks; default: the first running node. */
  from?: string;
  /** The query's name. */
  name: string;
  /** How long answers are collected (ms); default Serf's, gossip interval × 16 × ceil(log10(n + 1)). */
  timeoutMs?: number;
}

/** A simulated scenario: the cluster, its network, and the faults to inject. */
export interface SimOptions {
  /** Cluster size; nodes are named n0 … n{N−1}. */
  nodes: number;
  /** Seed of every random choice of the run (network, nodes, scenario); default 1. */
  seed?: number;
  /** Virtual time to simulate (ms); default 60 s. */
  durationMs?: number;
  /** The memberlist profile whose defaults the nodes run with; default `lan`. */
  profile?: ProfileName;
  /** Overrides of the profile's timing. */
  config?: Partial<ProtocolConfig>;
  /** Probability that a UDP packet is lost, per packet (0 … 1); default 0. */
  loss?: number;
  /** Base one-way delay of every message (ms); default 1. */
  delayMs?: number;
  /** Uniform random delay added to the base, up to this (ms); default 1. */
  jitterMs?: number;
  /**
   * `join`: n0 starts, the others join through it at random times within `joinWindowMs`.
   * `converged`: every node starts knowing every node alive (large clusters).
   */
  start?: 'join' | 'converged';
  /** The `join` start's window (ms); default 1000. */
  joinWindowMs?: number;
  /** How many random nodes crash (or which, by name), at `crashAtMs`. */
  crash?: number | string[];
  /** When the crashes happen (virtual ms); default a quarter of `durationMs`. */
  crashAtMs?: number;
  /** Spread the crashes: the i-th crash happens at crashAtMs + i × crashEveryMs. */
  crashEveryMs?: number;
  /** Nodes that stop processing for a while (a GC pause, SIGSTOP). */
  pauses?: PauseSpec[];
  /** Network splits. */
  partitions?: PartitionSpec[];
  /** Nodes that crash and start again. */
  restarts?: RestartSpec[];
  /** Graceful leaves. */
  leaves?: LeaveSpec[];
  /**
   * `wire` (default): count bytes by encoding every packet and stream with the real memberlist
   * encoder (compression included, no encryption). `estimate`: add up message sizes without
   * encoding, much faster for very large runs.
   */
  byteCounting?: 'wire' | 'estimate';
  /** Per-link loss and delay, overriding the defaults above for those pairs. */
  links?: LinkSpec[];
  /**
   * Whether `loss` (and links' loss) hits the segments of streams too, as on a real lossy link:
   * TCP retransmits each lost one (a SYN or SYN-ACK after 1 s, a data segment after 200 ms,
   * doubling each time, up to 6 times, as Linux does), so a stream message arrives that much
   * later, and its exchange fails if that is past its timeout. Default false: streams lose nothing.
   */
  streamLoss?: boolean;
  /** One-way cuts between two nodes. */
  blocks?: BlockSpec[];
  /** The failure detector every node starts with: SWIM (default), gossiped heartbeats, or the hybrid. */
  protocol?: Protocol;
  /** Run-time switches of the whole cluster's failure detector. */
  switches?: SwitchSpec[];
  /**
   * Members each node monitors by direct heartbeats under the heartbeat detectors, whatever the
   * cluster size (`{ n0: ['n5', 'n7'] }`): the seed design's sensors of a node's choosing.
   */
  pinned?: Readonly<Record<string, readonly string[]>>;
  /** Serf user events broadcast during the run (each node then runs Serf's layer, as the runtime does). */
  userEvents?: UserEventSpec[];
  /** Serf queries asked during the run. */
  queries?: QuerySpec[];
}

/** What happened in a simulation, measured against the ground truth (`hearsay sim --json` prints it). */
export interface SimResult {
  /** Cluster size. */
  nodes: number;
  /** The seed of the run. */
  seed: number;
  /** The detector every node started with (see `switches` for changes at run time). */
  protocol: Protocol;
  /** The profile the nodes ran with. */
  profile: ProfileName;
  /** Virtual time simulated (ms). */
  duration_ms: number;
  /** The packet loss probability of the run. */
  loss: number;
  /** How the cluster started (see `SimOptions.start`). */
  start: 'join' | 'converged';
  /** First time every live node listed every live node alive; null if never. */
  converged_at_ms: number | null;
  /** Whether every live node listed every live node alive at the end of the run. */
  converged_at_end: boolean;
  /** When the convergence that held at the end began (after the last fault healed); else null. */
  settled_at_ms: number | null;
  /** One report per crash (a restart crashes first), in order. */
  crashes: CrashReport[];
  /** Graceful leaves: when every live node had marked the node left (null if never). */
  leaves: LeaveReport[];
  /** Mean over crashes of the time to the first suspicion. */
  mean_first_suspect_ms: number | null;
  /**
   * SWIM's expectation (mean over crashes): 1/(1 − e^(−q)) probe periods to the first probe of
   * the dead node (e/(e−1) as the live fraction q → 1), plus one probe interval for it to fail.
   */
  expected_first_suspect_ms: number | null;
  /**
   * The same expectation in continuous time, with every node probing at its own phase in
   * randomised round-robin: the first of L live observers reaches the dead node after
   * (N − 1)/(L + 1) periods on average, plus one probe interval.
   */
  expected_first_suspect_continuous_ms: number | null;
  /** Mean over crashes of the time until every live node had marked the node failed. */
  mean_all_failed_ms: number | null;
  /**
   * Times any node marked a live, unpaused, reachable node failed (verdicts about a node that
   * restarted within the longest possible suspicion are about its previous run: not counted).
   */
  false_positives: number;
  /** Times a live node listed a crashed (or departed) member alive again, or anew: what tombstones prevent. */
  resurrections: number;
  /** Suspicions raised, summed over the nodes live at the end (their `CoreStats.suspicionsRaised`). */
  suspicions: number;
  /** Refutations, summed over the nodes live at the end (their `CoreStats.refutations`). */
  refutations: number;
  /** Run-time switches of failure detector, and when every live node had adopted each. */
  switches: SwitchReport[];
  /** The scenario's user events, in order, and how each spread (empty without `userEvents`). */
  user_events: UserEventReport[];
  /** The scenario's queries, in order, and the acks and answers each got in time (empty without `queries`). */
  queries: SimQueryReport[];
  /** Packets and stream messages sent, per node and per second of virtual time. */
  msgs_per_node_per_s: number;
  /** Bytes sent, per node and per second of virtual time. */
  bytes_per_node_per_s: number;
  /** False when bytes were counted by the real encoder; true for summed message sizes. */
  bytes_are_estimates: boolean;
  /** The round of the starting detector: the heartbeat period, or SWIM's probe interval. */
  round_ms: number;
  /** Cluster-wide traffic per round, averaged over the whole run (see `RoundLoad`). */
  load_per_round: RoundLoad;
  /** Simulator events handled. */
  events_processed: number;
  /** Real time the run took (ms). */
  wall_ms: number;
}
