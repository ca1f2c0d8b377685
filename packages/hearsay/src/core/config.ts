import { ConfigError } from './errors.js';

/**
 * Timing and sizing of the protocol. Names and defaults follow hashicorp/memberlist
 * (`DefaultLANConfig`, `DefaultLocalConfig`, `DefaultWANConfig`), plus Serf's reconnect
 * settings; durations are in ms.
 */
export interface ProtocolConfig {
  /** Time between probes of successive members; a failing probe waits it × (local health + 1). Default 1 s (wan 5 s). */
  probeIntervalMs: number;
  /** How long to wait for a direct ack before asking helpers (not scaled by health). Default 500 ms (local 200 ms, wan 3 s). */
  probeTimeoutMs: number;
  /**
   * Per-peer probe timeouts from measured round trips: the wait for a direct ack becomes the
   * member's smoothed RTT + 4 × its deviation (TCP's rule), within probeTimeoutMs / 10 … half the
   * probe interval, once 3 direct acks are measured. Default false (memberlist has no such rule).
   */
  probeTimeoutFromRtt: boolean;
  /** Helpers asked to probe on our behalf when a direct probe fails (k). Default 3 (local 1). */
  indirectChecks: number;
  /** Broadcast transmit limit = retransmitMult × ceil(log10(n + 1)). Default 4 (local 2). */
  retransmitMult: number;
  /** Minimum suspicion timeout = suspicionMult × max(1, log10(n)) × probe interval. Default 4 (local 3, wan 6). */
  suspicionMult: number;
  /** Maximum suspicion timeout = suspicionMaxTimeoutMult × minimum. Default 6. */
  suspicionMaxTimeoutMult: number;
  /** Period of the full-state exchange with one random member (scaled with cluster size). Default 30 s (local 15 s, wan 60 s). */
  pushPullIntervalMs: number;
  /** Deadline of a stream exchange (push/pull, join). Default 10 s (local 1 s, wan 30 s). */
  tcpTimeoutMs: number;
  /** Do not fall back to a TCP ping when UDP probes fail. Default false. */
  disableTcpPings: boolean;
  /** Local health score ranges over 0 … awarenessMaxMultiplier − 1. Default 8. */
  awarenessMaxMultiplier: number;
  /** Members that receive gossip every gossip interval. Default 3 (wan 4). */
  gossipNodes: number;
  /** Time between gossip rounds; 0 switches gossip off. Default 200 ms (local 100 ms, wan 500 ms). */
  gossipIntervalMs: number;
  /** Failed members still receive gossip, and stay in the table, this long. Default 30 s (local 15 s, wan 60 s). */
  gossipToTheDeadTimeMs: number;
  /**
   * A failed member may come back at a new address (a restart with a new IP) once it has been
   * failed this long; before that, a claim from elsewhere is a conflict. 0: at once. Default 0.
   */
  deadNodeReclaimTimeMs: number;
  /** Byte budget of a UDP packet. Default 1400. */
  udpBufferSize: number;
  /** Bytes the packet pipeline adds after piggybacking (29 with encryption). Default 0. */
  packetOverheadBytes: number;
  /** How often to try to reach a failed member again (Serf's ReconnectInterval); 0 disables. Default 30 s. */
  reconnectIntervalMs: number;
  /** How long failed members are tried again, and listed by Serf's layer, before they are reaped (Serf's ReconnectTimeout). Default 24 h. */
  reconnectTimeoutMs: number;
  /** How long members that left stay listed by Serf's layer before they are reaped (Serf's TombstoneTimeout). Default 24 h. */
  tombstoneTimeoutMs: number;
  /** Heartbeat detector: period of the own-counter bump and the table send (van Renesse's X). Default 1 s. */
  heartbeatIntervalMs: number;
  /** Heartbeat detector: random live members that receive the table every period (M). Default 3. */
  heartbeatFanout: number;
  /** Heartbeat detector: silence (no rise of a member's heartbeat) before it is suspect. Default 5 s. */
  suspectAfterMs: number;
  /** Heartbeat detector: silence before a member is failed (T_fail). Default 10 s. */
  failAfterMs: number;
  /** Heartbeat detector: a failed member is kept as a tombstone this long, then forgotten. Default 60 s. */
  cleanupAfterMs: number;
  /**
   * Heartbeat detector: 0 judges by the fixed thresholds above; a positive value judges by phi
   * accrual, suspect when phi ≥ phiThreshold and failed when also silent for failAfterMs.
   * Default 0.
   */
  phiThreshold: number;
  /** Hybrid detector: direct heartbeats to every member while the live members are at most this many (H). Default 100. */
  hybridThreshold: number;
  /** Direct heartbeats (hybrid, pinned members): an ack counts as a sign of life only within this round trip. Default 500 ms. */
  rttBoundMs: number;
  /** Members the table holds at most, tombstones included; new ones beyond it are dropped. Default 50000. */
  maxMembers: number;
  /** New members one UDP packet may introduce (an honest one piggybacks a few alives). Default 64. */
  maxNewMembersPerPacket: number;
  /** New members one push/pull may introduce, except the answer to this node's own join (up to maxMembers). Default 4096. */
  maxNewMembersPerPushPull: number;
  /** Replies (acks, relayed pings and acks, protocol-switch answers) one incoming packet may cause. Default 4. */
  maxRepliesPerPacket: number;
  /** Indirect pings relayed for others per second, all requesters together (also the burst). Default 100. */
  relayRate: number;
  /** Indirect pings relayed per second for one requesting address (also the burst). Default 10. */
  relayRatePerSource: number;
  /** A protocol switch whose epoch is further ahead of the local clock than this is refused. Default 1 h. */
  maxEpochAheadMs: number;
  /** The broadcast queue holds at most max(this, 2 × members) updates (Serf's MinQueueDepth); the most sent go first. Default 4096. */
  broadcastQueueDepth: number;
  /** A member forgotten after it left is remembered this long: alives no newer than its last are replays (0: off). Default 1 h. */
  departedMemoryMs: number;
}

/** memberlist's default configurations: a LAN, one host (loopback), a WAN. */
export type ProfileName = 'lan' | 'local' | 'wan';

const lan: ProtocolConfig = {
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  probeTimeoutFromRtt: false,
  indirectChecks: 3,
  retransmitMult: 4,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  pushPullIntervalMs: 30_000,
  tcpTimeoutMs: 10_000,
  disableTcpPings: false,
  awarenessMaxMultiplier: 8,
  gossipNodes: 3,
  gossipIntervalMs: 200,
  gossipToTheDeadTimeMs: 30_000,
  deadNodeReclaimTimeMs: 0,
  udpBufferSize: 1400,
  packetOverheadBytes: 0,
  reconnectIntervalMs: 30_000,
  reconnectTimeoutMs: 24 * 3600_000,
  tombstoneTimeoutMs: 24 * 3600_000,
  heartbeatIntervalMs: 1000,
  heartbeatFanout: 3,
  suspectAfterMs: 5000,
  failAfterMs: 10_000,
  cleanupAfterMs: 60_000,
  phiThreshold: 0,
  hybridThreshold: 100,
  rttBoundMs: 500,
  maxMembers: 50_000,
  maxNewMembersPerPacket: 64,
  maxNewMembersPerPushPull: 4096,
  maxRepliesPerPacket: 4,
  relayRate: 100,
  relayRatePerSource: 10,
  maxEpochAheadMs: 3600_000,
  broadcastQueueDepth: 4096,
  departedMemoryMs: 3600_000,
};

/** Each profile's defaults, as memberlist's `Default*Config` (each `ProtocolConfig` field says its values). */
export const PROFILES: Readonly<Record<ProfileName, Readonly<ProtocolConfig>>> = {
  lan,
  local: {
    ...lan,
    tcpTimeoutMs: 1000,
    indirectChecks: 1,
    retransmitMult: 2,
    suspicionMult: 3,
    pushPullIntervalMs: 15_000,
    probeTimeoutMs: 200,
    gossipIntervalMs: 100,
    gossipToTheDeadTimeMs: 15_000,
  },
  wan: {
    ...lan,
    tcpTimeoutMs: 30_000,
    suspicionMult: 6,
    pushPullIntervalMs: 60_000,
    probeIntervalMs: 5000,
    probeTimeoutMs: 3000,
    gossipNodes: 4,
    gossipIntervalMs: 500,
    gossipToTheDeadTimeMs: 60_000,
  },
};

/** Whether `value` names a profile of `PROFILES`. */
export function isProfileName(value: string): value is ProfileName {
  return Object.hasOwn(PROFILES, value);
}

/** Each setting's smallest allowed value; settings not in milliseconds are whole numbers. */
const MINIMUMS: Record<keyof ProtocolConfig, number | 'boolean'> = {
  probeIntervalMs: 1,
  probeTimeoutMs: 1,
  probeTimeoutFromRtt: 'boolean',
  indirectChecks: 0,
  retransmitMult: 1,
  suspicionMult: 1,
  suspicionMaxTimeoutMult: 1,
  pushPullIntervalMs: 0,
  tcpTimeoutMs: 1,
  disableTcpPings: 'boolean',
  awarenessMaxMultiplier: 1,
  gossipNodes: 0,
  gossipIntervalMs: 0,
  gossipToTheDeadTimeMs: 0,
  deadNodeReclaimTimeMs: 0,
  udpBufferSize: 64,
  packetOverheadBytes: 0,
  reconnectIntervalMs: 0,
  reconnectTimeoutMs: 0,
  tombstoneTimeoutMs: 0,
  heartbeatIntervalMs: 1,
  heartbeatFanout: 1,
  suspectAfterMs: 1,
  failAfterMs: 1,
  cleanupAfterMs: 0,
  phiThreshold: 0,
  hybridThreshold: 1,
  rttBoundMs: 1,
  maxMembers: 1,
  maxNewMembersPerPacket: 1,
  maxNewMembersPerPushPull: 1,
  maxRepliesPerPacket: 1,
  relayRate: 1,
  relayRatePerSource: 1,
  maxEpochAheadMs: 0,
  broadcastQueueDepth: 1,
  departedMemoryMs: 0,
};

/** Every setting's name, in `ProtocolConfig` order: what `resolveConfig` accepts as overrides. */
export const CONFIG_KEYS = Object.keys(MINIMUMS) as (keyof ProtocolConfig)[];

/**
 * A profile's defaults with overrides applied and checked. `pushPullIntervalMs` and
 * `gossipIntervalMs` of 0 switch those activities off, as in memberlist.
 */
export function resolveConfig(profile: ProfileName = 'lan', overrides: Partial<ProtocolConfig> = {}): ProtocolConfig {
  if (!isProfileName(profile)) {
    throw new ConfigError(`unknown profile "${String(profile)}": use lan, local or wan`);
  }
  const config: ProtocolConfig = { ...PROFILES[profile] };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(MINIMUMS, key)) {
      throw new ConfigError(`unknown setting "${key}": known settings are ${CONFIG_KEYS.join(', ')}`);
    }
    const rule = MINIMUMS[key as keyof ProtocolConfig];
    if (rule === 'boolean') {
      if (typeof value !== 'boolean') throw new ConfigError(`${key} must be true or false, got ${String(value)}`);
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < rule) {
      throw new ConfigError(`${key} must be a finite number ≥ ${rule}, got ${String(value)}`);
    } else if (!key.endsWith('Ms') && !Number.isInteger(value)) {
      throw new ConfigError(`${key} must be a whole number, got ${value}`);
    }
    (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (config.probeTimeoutMs > config.probeIntervalMs) {
    throw new ConfigError(`probeTimeoutMs (${config.probeTimeoutMs}) must not exceed probeIntervalMs (${config.probeIntervalMs})`);
  }
  if (config.failAfterMs < config.suspectAfterMs) {
    throw new ConfigError(`failAfterMs (${config.failAfterMs}) must not be less than suspectAfterMs (${config.suspectAfterMs})`);
  }
  return config;
}
