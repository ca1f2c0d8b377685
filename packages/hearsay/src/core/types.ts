/**
 * The vocabulary of the sans-I/O core: addresses, member records, the typed messages that
 * memberlist's wire format carries, and the inputs and outputs of a node's state machine.
 * Nothing here knows about bytes on a wire; `wire/` maps these shapes to memberlist's codec.
 */

/**
 * The member statuses, in memberlist's `NodeStateType` order: a status's index is its code in
 * the member table and on the wire. The one list of them; the table's codes index it.
 */
export const STATUSES = ['alive', 'suspect', 'failed', 'left'] as const;

/** A member's status. memberlist's "dead" is `failed` here, as Serf shows it. */
export type Status = (typeof STATUSES)[number];

/** An IP address in text form plus a port. A v4-mapped IPv6 form is kept as received. */
export interface Address {
  /** The IP address in text form, IPv4 dotted or IPv6. */
  readonly host: string;
  /** The port (memberlist uses the same number for UDP and TCP). */
  readonly port: number;
}

/** memberlist's MetaMaxSize (Serf's tag limit): meta beyond it is refused, from peers and from the application. */
export const MAX_META_BYTES = 512;

/**
 * The longest member name taken from a peer (UTF-16 code units, as `createNode` checks its own):
 * memberlist has no limit, and a name is kept and re-sent for as long as its member is listed.
 */
export const MAX_NAME_LENGTH = 255;

/**
 * What a member announces about itself in an alive message: immutable, so that the same object
 * can be shared by every table that knows the member in this version.
 */
export interface MemberProfile {
  /** The member's name, unique in the cluster. */
  readonly name: string;
  /** The IP address it advertises, in text form. */
  readonly host: string;
  /** Its gossip port, UDP and TCP. */
  readonly port: number;
  /** Opaque application bytes (Serf: 0xFF + msgpack tags), at most `MAX_META_BYTES`. */
  readonly meta: Uint8Array;
  /** memberlist's six version bytes: [PMin, PMax, PCur, DMin, DMax, DCur]. */
  readonly vsn: Uint8Array;
}

/** A member as one node sees it. */
export interface Member extends MemberProfile {
  /** The member's incarnation number: only the member raises it, to refute a suspicion or announce a change. */
  readonly incarnation: number;
  /** Its status as this node sees it. */
  readonly status: Status;
  /** Local time (ms) of the last status change. */
  readonly since: number;
  /**
   * Smoothed round-trip time (ms) measured by this node's probes (SWIM) or direct heartbeats
   * (hybrid, pinned members); absent while none has been measured.
   */
  readonly rttMs?: number;
}

/**
 * The failure detectors: SWIM's probes; gossiped heartbeat tables; and the hybrid, which sends
 * direct heartbeats to every member while the cluster is small and gossips tables above that.
 */
export type Protocol = 'swim' | 'heartbeat' | 'hybrid';

/** Every failure detector name, to validate input against. */
export const PROTOCOLS: readonly Protocol[] = ['swim', 'heartbeat', 'hybrid'];

/** Who sent a ping or indirect ping, so that the answer goes back to the right socket. */
export interface Source {
  /** The sender's member name. */
  readonly name: string;
  /** The IP address to answer to, in text form. */
  readonly host: string;
  /** The port to answer to. */
  readonly port: number;
}

/** A direct probe (memberlist's ping), answered by an ack with the same `seqNo`. */
export interface PingMessage {
  /** Discriminant. */
  readonly type: 'ping';
  /** The prober's sequence number (uint32), echoed by the ack. */
  readonly seqNo: number;
  /** The target's name; '' means "whoever you are". */
  readonly node: string;
  /** Where to answer (memberlist's Source* fields); absent: to the packet's source address. */
  readonly source?: Source;
  /** The sender's view digest (hearsay's `Digest` field, which memberlist and Serf skip). */
  readonly digest?: number;
}

/** A request to ping `target` on the sender's behalf and relay its ack (memberlist's indirect ping). */
export interface IndirectPingMessage {
  /** Discriminant. */
  readonly type: 'indirectPing';
  /** The requester's probe sequence number. */
  readonly seqNo: number;
  /** The target's name. */
  readonly node: string;
  /** The target's address. */
  readonly target: Address;
  /** Whether the requester wants a nack when the target does not answer in time. */
  readonly nack: boolean;
  /** Where to send the relayed ack or the nack; absent: to the packet's source address. */
  readonly source?: Source;
}

/** The answer to a ping, direct or relayed by a helper. */
export interface AckMessage {
  /** Discriminant. */
  readonly type: 'ack';
  /** The sequence number of the ping it answers. */
  readonly seqNo: number;
  /** Bytes the acking node attaches (Serf: its network coordinate); absent when none. */
  readonly payload?: Uint8Array;
  /** The sender's view digest (hearsay's `Digest` field, which memberlist and Serf skip). */
  readonly digest?: number;
}

/**
 * A helper's answer to an indirect ping that asked for one, when the target did not answer in
 * time (Lifeguard): it tells the requester that its own path to the helper works.
 */
export interface NackMessage {
  /** Discriminant. */
  readonly type: 'nack';
  /** The requester's sequence number, from the indirect ping. */
  readonly seqNo: number;
}

/** Gossip that `from` suspects `node` at `incarnation`. */
export interface SuspectMessage {
  /** Discriminant. */
  readonly type: 'suspect';
  /** The suspected member. */
  readonly node: string;
  /** The incarnation suspected: the member refutes with a larger one. */
  readonly incarnation: number;
  /** The member that raised the suspicion (Lifeguard counts independent confirmations). */
  readonly from: string;
}

/** A member announcing itself: a join, a refutation or a change of meta. */
export interface AliveMessage {
  /** Discriminant. */
  readonly type: 'alive';
  /** The member's incarnation (uint32, compared in serial-number order: see `isNewer`). */
  readonly incarnation: number;
  /** Who: name, address, meta and version bytes. */
  readonly profile: MemberProfile;
}

/** Gossip that `node` has failed, or has left when it says so itself. */
export interface DeadMessage {
  /** Discriminant. */
  readonly type: 'dead';
  /** The member declared dead. */
  readonly node: string;
  /** The incarnation the declaration is about. */
  readonly incarnation: number;
  /** `from === node` is a voluntary leave: the member becomes `left`. */
  readonly from: string;
}

/** Opaque application payload (Serf's layer rides here). */
export interface UserMessage {
  /** Discriminant. */
  readonly type: 'user';
  /** The application's bytes, carried verbatim. */
  readonly payload: Uint8Array;
}

/** One member's line in a heartbeat table. */
export interface HeartbeatEntry {
  /** Who the line is about. */
  readonly profile: MemberProfile;
  /** The member's generation (its incarnation in the table): a restart starts a larger one. */
  readonly generation: number;
  /** The highest heartbeat counter the sender has seen for that generation. */
  readonly heartbeat: number;
  /** The sender's local verdict; receivers use it only to not add or revive a failed member. */
  readonly status: Status;
}

/**
 * The heartbeat detector's gossip (van Renesse et al. 1998): the sender's whole table, or one
 * part of it when it does not fit in one packet. Not a memberlist message: memberlist and Serf
 * drop it as an unknown type.
 */
export interface HeartbeatsMessage {
  /** Discriminant. */
  readonly type: 'heartbeats';
  /** The lines of the sender's table (all of them, or one part). */
  readonly entries: readonly HeartbeatEntry[];
}

/**
 * A cluster-wide switch of failure detector. The highest (epoch, origin) wins everywhere; epoch
 * 0 is the configured detector and never travels. Not a memberlist message either.
 */
export interface ProtocolSwitchMessage {
  /** Discriminant. */
  readonly type: 'protocolSwitch';
  /** The detector to switch to. */
  readonly protocol: Protocol;
  /** The switch's number: a higher epoch wins. */
  readonly epoch: number;
  /** The node that asked for the switch (breaks ties between concurrent switches). */
  readonly origin: string;
}

/** Messages that travel in UDP packets (several of them make a compound packet). */
export type Message =
  | PingMessage
  | IndirectPingMessage
  | AckMessage
  | NackMessage
  | SuspectMessage
  | AliveMessage
  | DeadMessage
  | UserMessage
  | HeartbeatsMessage
  | ProtocolSwitchMessage;

/** The `type` of each packet message. */
export type MessageType = Message['type'];

/** One member record in a push/pull exchange. */
export interface PushNodeState {
  /** Who: name, address, meta and version bytes. */
  readonly profile: MemberProfile;
  /** The member's incarnation as the sender knows it. */
  readonly incarnation: number;
  /** The member's status as the sender sees it. */
  readonly status: Status;
}

/**
 * memberlist's push/pull (anti-entropy over TCP): one side's whole member list and application
 * state; the side that accepted the stream answers with its own.
 */
export interface PushPullMessage {
  /** Discriminant. */
  readonly type: 'pushPull';
  /** Whether the exchange is part of a join rather than a periodic sync. */
  readonly join: boolean;
  /** Every member the sender lists. */
  readonly states: readonly PushNodeState[];
  /** Application state copied verbatim (Serf's LocalState); empty when there is none. */
  readonly userState: Uint8Array;
}

/** memberlist's error answer on a stream: the peer refused or could not handle the exchange. */
export interface StreamErrorMessage {
  /** Discriminant. */
  readonly type: 'error';
  /** The peer's error text. */
  readonly error: string;
}

/** Messages that travel on a TCP stream (one exchange per connection). */
export type StreamMessage = PushPullMessage | PingMessage | AckMessage | StreamErrorMessage;

/** Identifies one stream exchange between the core and its driver. */
export type StreamId = number;

/** Everything that can happen to a node, as the core sees it. */
export type Input =
  /** A UDP packet, already decoded (a compound packet yields several messages). */
  | { readonly kind: 'packet'; readonly from: Address; readonly messages: readonly Message[] }
  /** A peer opened a stream and sent this; answer with a `reply` output on the same stream. */
  | { readonly kind: 'stream'; readonly from: Address; readonly stream: StreamId; readonly message: StreamMessage }
  /** The answer on a stream this node opened. */
  | { readonly kind: 'streamReply'; readonly stream: StreamId; readonly message: StreamMessage }
  /** A stream this node opened could not be completed (refused, timed out, reset). */
  | { readonly kind: 'streamFailed'; readonly stream: StreamId; readonly reason: string }
  /** The deadline given by `nextDeadline()` has been reached. */
  | { readonly kind: 'tick' }
  /**
   * The driver's event loop was blocked for up to `maxMs` at a time over the last `windowMs`
   * (Node.js: perf_hooks' monitorEventLoopDelay): this node's own delay, whatever it was doing.
   */
  | { readonly kind: 'loopDelay'; readonly maxMs: number; readonly windowMs: number }
  /** Join through these seeds; a `joined` output with the same `request` reports the result. */
  | { readonly kind: 'join'; readonly request: number; readonly seeds: readonly Address[] }
  /**
   * Announce a graceful leave; a `left` output reports when it has been sent its full transmit
   * count, or that `timeoutMs` ran out first (0: do not wait).
   */
  | { readonly kind: 'leave'; readonly timeoutMs: number }
  /** Replace this node's meta bytes and announce them. */
  | { readonly kind: 'setMeta'; readonly meta: Uint8Array }
  /**
   * A leave forced on another member (Serf's leave intent, which the Serf layer gossips): a
   * failed member becomes `left`; with `prune`, a failed or left one is forgotten at once. A live
   * member is memberlist's to judge, and stays as it is.
   */
  | { readonly kind: 'forceLeave'; readonly node: string; readonly prune: boolean }
  /**
   * Disseminate an application payload (a `user` message) like a membership update: piggybacked
   * and gossiped up to the retransmit limit. A later broadcast with the same key replaces it.
   */
  | { readonly kind: 'broadcast'; readonly key: string; readonly payload: Uint8Array }
  /** Switch the failure detector of the whole cluster (spread by gossip; see `Protocol`). */
  | { readonly kind: 'setProtocol'; readonly protocol: Protocol }
  /** Replace the members this node monitors directly in heartbeat and hybrid modes. */
  | { readonly kind: 'pin'; readonly names: readonly string[] }
  /** Replace the payload of every ack this node sends to a UDP ping (Serf's network coordinate; empty: none). */
  | { readonly kind: 'setAckPayload'; readonly payload: Uint8Array }
  /** Replace the application state sent with every push/pull (empty: none). */
  | { readonly kind: 'setUserState'; readonly state: Uint8Array }
  /** Send an application payload straight to an address, as one `user` message in a packet of its own. */
  | { readonly kind: 'send'; readonly to: Address; readonly payload: Uint8Array };

/** A membership change, as the application sees it. */
export type MemberEventType = 'join' | 'update' | 'suspect' | 'alive' | 'failed' | 'left';

/** A membership change and the member's record after it. */
export interface MemberEvent {
  /** What changed. */
  readonly type: MemberEventType;
  /** The member as it is after the change. */
  readonly member: Member;
  /** Local time (ms) at which the event happened. */
  readonly at: number;
}

/** Everything a node asks its driver to do. */
export type Output =
  /** Send these messages in one UDP packet (a compound when there are several). */
  | {
      readonly kind: 'packet';
      readonly to: Address;
      readonly messages: readonly Message[];
      /** The receiver understands memberlist's CRC wrapper (its PMax ≥ 5). */
      readonly crc: boolean;
    }
  /** Open a stream, send `message`, and feed back the answer (or the failure) within `timeoutMs`. */
  | {
      readonly kind: 'openStream';
      readonly stream: StreamId;
      readonly to: Address;
      readonly message: StreamMessage;
      readonly timeoutMs: number;
      /** Whether an answer is expected (a push/pull or a ping); otherwise close after sending. */
      readonly expectReply: boolean;
    }
  /** Answer on a stream a peer opened, then close it. */
  | { readonly kind: 'reply'; readonly stream: StreamId; readonly message: StreamMessage }
  /** A membership change to tell the application about. */
  | { readonly kind: 'event'; readonly event: MemberEvent }
  /** A user payload arrived. */
  | { readonly kind: 'message'; readonly payload: Uint8Array; readonly from: Address }
  /**
   * The outcome of a `join` input: how many seeds answered, and why the others did not.
   * `conflict` is set when a seed lists this node's own name alive (or suspect) at another
   * address: another node holds the name, and this one should not start under it.
   */
  | {
      readonly kind: 'joined';
      readonly request: number;
      readonly contacted: number;
      readonly errors: readonly string[];
      readonly conflict?: NameClaim;
    }
  /** The leave announcement has gone out (`timedOut` false) or the timeout expired first. */
  | { readonly kind: 'left'; readonly timedOut: boolean }
  /**
   * A direct probe or direct heartbeat was answered: the round-trip time to that member, and the
   * ack's payload if it carried one (Serf's network coordinate of the member).
   */
  | { readonly kind: 'rtt'; readonly member: string; readonly ms: number; readonly payload?: Uint8Array }
  /** The failure detector changed, here or by a switch that reached this node. */
  | { readonly kind: 'protocol'; readonly protocol: Protocol; readonly epoch: number; readonly origin: string }
  /**
   * An alive claimed a listed member's name from another address while that member is alive or
   * suspect (or failed for less than `deadNodeReclaimTimeMs`): the update was ignored. At most one
   * per name every few seconds (see core/conflicts.ts). `name` equal to this node's own is Serf's
   * cue for its conflict resolution (`SerfMember.askConflict`).
   */
  | { readonly kind: 'conflict'; readonly name: string; readonly known: Address; readonly claimed: Address }
  /**
   * A degraded pair began or ended: this node's probes of `member` have been answered only through
   * helpers or TCP (direct pings fail while the member is up), or a direct ack came again.
   */
  | { readonly kind: 'degraded'; readonly member: string; readonly degraded: boolean }
  /** Something a driver may log: a dropped or rejected message. */
  | { readonly kind: 'notice'; readonly level: 'debug' | 'warn'; readonly text: string };

/** Another node's claim to a name: where it says it is, and at which incarnation. */
export interface NameClaim {
  /** The address the claim comes from. */
  readonly address: Address;
  /** The claimant's incarnation. */
  readonly incarnation: number;
}

/** Seeded randomness passed into the core; the same seed gives the same run. */
export interface Random {
  /** Uniform in [0, 1). */
  float(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** The encoded size in bytes of a message, used for the UDP piggyback budget. */
export type MessageSizer = (message: Message) => number;
