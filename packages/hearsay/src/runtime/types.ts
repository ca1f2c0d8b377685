import type { CoreStats, ProfileName, Protocol, Status, ProtocolConfig } from '../core/index.js';
import type { IncomingQuery, SerfStats } from '../serf/index.js';
import type { TrafficStats } from './traffic.js';

/** A member as the library reports it: a snapshot, taken when it was asked for or the event fired. */
export interface Member {
  /** The member's name, unique in the cluster. */
  name: string;
  /** The IP address it advertises (where others reach it). */
  address: string;
  /** Its gossip port (UDP and TCP). */
  port: number;
  /** `alive`, `suspect`, `failed` or `left`, as this node sees it. */
  status: Status;
  /** The member's incarnation: it raises it to refute a suspicion, and a newer one wins. */
  incarnation: number;
  /** Serf-compatible tags decoded from the meta bytes (none when the meta is not Serf's tag map). */
  tags: Record<string, string>;
  /** The meta bytes the member gossips (Serf's encoded tags, up to 512 bytes). */
  meta: Uint8Array;
  /** Wall-clock time (ms since the epoch) of the last status change, as this node saw it. */
  since: number;
  /** Smoothed round-trip time (ms) this node measured to the member; absent until measured. */
  rttMs?: number;
  /** The versions it announces: memberlist's protocol and the delegate's (Serf's), each the range it speaks and the one in use. */
  versions: MemberVersions;
}

/** A range of versions a member speaks, and the one it uses (memberlist's version bytes). */
export interface VersionRange {
  /** The oldest version it speaks. */
  min: number;
  /** The newest version it speaks. */
  max: number;
  /** The version it uses. */
  current: number;
}

/** What `serf members -detailed` shows: memberlist's protocol versions and the delegate's. */
export interface MemberVersions {
  /** memberlist's protocol (hearsay speaks 1 … 5, uses 2, as Serf 0.9.4's memberlist). */
  protocol: VersionRange;
  /** The delegate's: Serf's protocol (hearsay speaks 2 … 5, uses 4, as Serf 0.9.4). */
  delegate: VersionRange;
}

/**
 * What `createNode` takes; every field is optional. Unknown fields and values of the wrong type
 * are refused with an OptionError, for callers that TypeScript does not check.
 */
export interface NodeOptions {
  /** Unique in the cluster, 1 to 255 characters; default: this machine's hostname. */
  name?: string;
  /**
   * `host:port` to listen on (UDP and TCP), the host an IP (`[::1]:7946` for IPv6) or a DNS name
   * (its first address); port 0 picks a free one, no port means 7946. Default `0.0.0.0:7946`.
   */
  bind?: string;
  /**
   * `host:port` others should use to reach this node (an IP or a DNS name, its first address);
   * default: the bound address, or for a wildcard bind the first non-internal IPv4 address
   * (`0.0.0.0`) or routable IPv6 address, else IPv4 (`::`).
   */
  advertise?: string;
  /**
   * Seeds to join through at start: `host:port` (an IP or a DNS name, every address of which is
   * tried; no port means 7946) or `dns+srv:name` (SRV records give targets and ports).
   * `createNode` rejects with a JoinError if none answers (unless they name only this node).
   */
  join?: string[];
  /**
   * DNS servers (`ip` or `ip:port`, IPv4 or IPv6) to resolve names with, instead of the system
   * resolver (getaddrinfo, /etc/hosts); default: the system's.
   */
  dnsServers?: string[];
  /**
   * While no other member is alive, resolve the seeds of past joins again and join them every
   * this many milliseconds (a node isolated by a network failure finds its way back); default
   * 30 000, 0 never.
   */
  seedRetryIntervalMs?: number;
  /** memberlist's timing profile: `lan` (the default), `local` (faster, for one machine) or `wan` (slower). */
  profile?: ProfileName;
  /** Protocol settings over the profile's, each `…Ms` in milliseconds (see the configuration docs); checked by the core. */
  config?: Partial<ProtocolConfig>;
  /** Serf-compatible tags carried in the node's meta (at most 512 bytes encoded); default none. */
  tags?: Record<string, string>;
  /** AES keys (16, 24 or 32 bytes, or their base64 as `serf keygen` prints it); the first encrypts, all decrypt. Default: no encryption. */
  keys?: (Uint8Array | string)[];
  /** Drop this fraction (0 … 1) of incoming packets on purpose, for experiments; default 0. */
  dropRate?: number;
  /**
   * The failure detector to start with (default 'swim'). Heartbeat and hybrid need every member
   * to run hearsay: Serf and memberlist nodes send no heartbeats and would be judged failed.
   */
  protocol?: Protocol;
  /** Members this node monitors by direct heartbeats in heartbeat and hybrid modes, whatever the cluster size. */
  pinned?: string[];
  /**
   * A file to keep membership and the Lamport clocks in across restarts, in Serf's snapshot
   * format (created mode 0600): the saved clocks are restored at start, so that events and
   * queries handled before a restart are not handled again. See docs/persistence.md.
   */
  snapshotPath?: string;
  /**
   * With `snapshotPath`: join through the members the snapshot last saw alive. If none answers the
   * node starts alone (no JoinError, unlike `join`); a graceful `leave()` clears it. Default false.
   */
  rejoin?: boolean;
  /** Rejoin (as `rejoin`) even after a graceful leave: Serf's rejoin_after_leave, its agent's `-rejoin`; default false. */
  rejoinAfterLeave?: boolean;
}

/** A node's counters since it started (cumulative), as `node.stats` gives them: a copy, not live. */
export interface NodeStats {
  /** The protocol core's: probes, suspicions, refutations, failures declared, what it dropped and why. */
  core: CoreStats;
  /** What crossed the network: packets, bytes, messages by type, streams, drops by reason. */
  traffic: TrafficStats;
  /** Lifeguard's local health: 0 when this node is keeping up, higher when its probes go unanswered (it then probes more slowly). */
  healthScore: number;
  /** Updates waiting in the gossip queue. */
  broadcastQueue: number;
  /** Serf-layer activity: queries, answers, relays, key changes, events caught up by push/pull. */
  serf: SerfStats;
  /**
   * Seeds tried again while this node was alone (`retries`), how many of those tries rejoined a
   * cluster (`rejoins`), and joins tried again because every seed was busy (`busyRetries`).
   */
  seeds: { retries: number; rejoins: number; busyRetries: number };
}

/** What a user event carries besides its name and payload. */
export interface UserEventInfo {
  /** Its Lamport time (Serf's SERF_USER_LTIME). */
  ltime: bigint;
  /** Sent with Serf's `-coalesce` (its default): a handler may see only the newest event of this name. */
  coalesce: boolean;
}

/**
 * The events a node emits, with their listeners' arguments: `node.on('join', (member) => …)`.
 * A listener that throws (or whose promise rejects) is counted and reported once as a notice;
 * it never reaches the network code.
 */
export interface HearsayNodeEvents {
  /** A member joined, or this node learnt of it (once per member, itself included at start). */
  join: [member: Member];
  /** A member's meta (its tags) or address changed. */
  update: [member: Member];
  /** A member is suspected of having failed; it has the suspicion timeout to refute it. */
  suspect: [member: Member];
  /** A suspected or failed member is alive again (it refuted, or came back). */
  alive: [member: Member];
  /** A member was declared failed (its suspicion ran out, or another node said so). */
  failed: [member: Member];
  /** A member left gracefully. */
  left: [member: Member];
  /** A failed or left member is no longer listed: `reconnectTimeoutMs` or `tombstoneTimeoutMs` ran out (Serf's member-reap). */
  reap: [member: Member];
  /**
   * A node at another address claims a live member's name (the claim is ignored); at most once
   * per name every few seconds. About this node's own name, `node.resolveConflict()` asks the
   * cluster who holds it, as Serf's agent does.
   */
  conflict: [conflict: NameConflict];
  /**
   * A broadcast (a Serf user event of any name) reached this node, once per event. Serf's user
   * events name no sender, and they arrive from whichever member relayed them: put the sender in
   * the payload if it matters.
   */
  message: [payload: Uint8Array, name: string, event: UserEventInfo];
  /** Something worth logging: dropped or conflicting updates, internal errors (held back when they repeat). */
  notice: [level: 'debug' | 'warn', text: string];
  /** A probe or direct heartbeat of `member` was answered after `ms` milliseconds. */
  rtt: [member: string, ms: number];
  /**
   * A degraded pair began (`degraded` true: this node's direct pings of `member` have failed while
   * helpers or TCP reached it, twice in a row) or ended (a direct ack again).
   */
  degraded: [member: string, degraded: boolean];
  /** The failure detector changed: this node's own switch, or one that reached it by gossip; `origin` names the member that asked for it. */
  protocol: [protocol: Protocol, epoch: number, origin: string];
  /** A query (Serf's or a hearsay node's) this node passes the filters of; `query.respond()` answers it. */
  query: [query: IncomingQuery];
  /** A `serf keys` (or `installKey` …) query changed this node's keyring: the keys in base64, the primary first. */
  keys: [keys: string[]];
}

/** Two nodes claiming one name: the member as this node knows it, and the other claimant. */
export interface NameConflict {
  /** The name both claim. */
  name: string;
  /** Where the member this node lists under that name is. */
  known: { address: string; port: number };
  /** Where the other claim came from. */
  claimed: { address: string; port: number };
}

/** What a query collected by its deadline. */
export interface QueryResult {
  /** Members that acknowledged it (with `requestAck`). */
  acks: string[];
  /** Answers in arrival order. */
  responses: { from: string; payload: Uint8Array }[];
}
