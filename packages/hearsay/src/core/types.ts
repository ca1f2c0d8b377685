/**
 * The vocabulary of the sans-I/O core: addresses, member records, the typed messages that
 * memberlist's wire format carries, and the inputs and outputs of a node's state machine.
 * Nothing here knows about bytes on a wire; `wire/` maps these shapes to memberlist's codec.
 */

/** A member's status. memberlist's "dead" is `failed` here, as Serf shows it. */
export type Status = 'alive' | 'suspect' | 'failed' | 'left';

/** An IP address in text form plus a port. A v4-mapped IPv6 form is kept as received. */
export interface Address {
  readonly host: string;
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
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Opaque application bytes (Serf: 0xFF + msgpack tags), at most `MAX_META_BYTES`. */
  readonly meta: Uint8Array;
  /** memberlist's six version bytes: [PMin, PMax, PCur, DMin, DMax, DCur]. */
  readonly vsn: Uint8Array;
}

/** A member as one node sees it. */
export interface Member extends MemberProfile {
  readonly incarnation: number;
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

export const PROTOCOLS: readonly Protocol[] = ['swim', 'heartbeat', 'hybrid'];

/** Who sent a ping or indirect ping, so that the answer goes back to the right socket. */
export interface Source {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface PingMessage {
  readonly type: 'ping';
  readonly seqNo: number;
  /** The target's name; '' means "whoever you are". */
  readonly node: string;
  readonly source?: Source;
}

export interface IndirectPingMessage {
  readonly type: 'indirectPing';
  /** The requester's probe sequence number. */
  readonly seqNo: number;
  readonly node: string;
  readonly target: Address;
  /** Whether the requester wants a nack when the target does not answer in time. */
  readonly nack: boolean;
  readonly source?: Source;
}

export interface AckMessage {
  readonly type: 'ack';
  readonly seqNo: number;
  readonly payload?: Uint8Array;
}

export interface NackMessage {
  readonly type: 'nack';
  readonly seqNo: number;
}

export interface SuspectMessage {
  readonly type: 'suspect';
  readonly node: string;
  readonly incarnation: number;
  readonly from: string;
}

export interface AliveMessage {
  readonly type: 'alive';
  readonly incarnation: number;
  readonly profile: MemberProfile;
}

export interface DeadMessage {
  readonly type: 'dead';
  readonly node: string;
  readonly incarnation: number;
  /** `from === node` is a voluntary leave: the member becomes `left`. */
  readonly from: string;
}

/** Opaque application payload (Serf's layer rides here). */
export interface UserMessage {
  readonly type: 'user';
  readonly payload: Uint8Array;
}

/** One member's line in a heartbeat table. */
export interface HeartbeatEntry {
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
  readonly type: 'heartbeats';
  readonly entries: readonly HeartbeatEntry[];
}

/**
 * A cluster-wide switch of failure detector. The highest (epoch, origin) wins everywhere; epoch
 * 0 is the configured detector and never travels. Not a memberlist message either.
 */
export interface ProtocolSwitchMessage {
  readonly type: 'protocolSwitch';
  readonly protocol: Protocol;
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

export type MessageType = Message['type'];

/** One member record in a push/pull exchange. */
export interface PushNodeState {
  readonly profile: MemberProfile;
  readonly incarnation: number;
  readonly status: Status;
}

export interface PushPullMessage {
  readonly type: 'pushPull';
  readonly join: boolean;
  readonly states: readonly PushNodeState[];
  /** Application state copied verbatim (Serf's LocalState); empty when there is none. */
  readonly userState: Uint8Array;
}

export interface StreamErrorMessage {
  readonly type: 'error';
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

export interface MemberEvent {
  readonly type: MemberEventType;
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
  | { readonly kind: 'event'; readonly event: MemberEvent }
  /** A user payload arrived. */
  | { readonly kind: 'message'; readonly payload: Uint8Array; readonly from: Address }
  /** The outcome of a `join` input: how many seeds answered, and why the others did not. */
  | { readonly kind: 'joined'; readonly request: number; readonly contacted: number; readonly errors: readonly string[] }
  /** The leave announcement has gone out (`timedOut` false) or the timeout expired first. */
  | { readonly kind: 'left'; readonly timedOut: boolean }
  /**
   * A direct probe or direct heartbeat was answered: the round-trip time to that member, and the
   * ack's payload if it carried one (Serf's network coordinate of the member).
   */
  | { readonly kind: 'rtt'; readonly member: string; readonly ms: number; readonly payload?: Uint8Array }
  /** The failure detector changed, here or by a switch that reached this node. */
  | { readonly kind: 'protocol'; readonly protocol: Protocol; readonly epoch: number; readonly origin: string }
  /** Something a driver may log: a dropped or rejected message, a conflict. */
  | { readonly kind: 'notice'; readonly level: 'debug' | 'warn'; readonly text: string };

/** Seeded randomness passed into the core; the same seed gives the same run. */
export interface Random {
  /** Uniform in [0, 1). */
  float(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** The encoded size in bytes of a message, used for the UDP piggyback budget. */
export type MessageSizer = (message: Message) => number;
