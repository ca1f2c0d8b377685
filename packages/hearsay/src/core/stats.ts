/** Counters a node keeps about its own protocol activity (the agent exports them as metrics). */
export interface CoreStats {
  probes: number;
  probesFailed: number;
  /** Indirect ping requests sent to helpers. */
  indirectPings: number;
  /** Indirect pings this node relayed for others. */
  relayedPings: number;
  tcpPings: number;
  nacksSent: number;
  nacksReceived: number;
  suspicionsRaised: number;
  refutations: number;
  failuresDeclared: number;
  pushPulls: number;
  /** Messages ignored: wrong target, unknown sequence, stale or conflicting update. */
  messagesIgnored: number;
  /** Sum and count of probe round-trip times, and the last one (ms). */
  rttSumMs: number;
  rttCount: number;
  lastRttMs: number;
  /** Heartbeat tables (or table parts) sent and received: gossip-style heartbeat traffic. */
  heartbeatTablesSent: number;
  heartbeatTablesReceived: number;
  /** Direct heartbeats (pings) sent, and their acks back within / after the RTT bound. */
  directHeartbeatsSent: number;
  directAcks: number;
  directAcksLate: number;
  /** Failure detector changes this node went through (its own and adopted ones). */
  protocolSwitches: number;
  /** Messages the core refused to act on, by reason (rate limits, bounds, forged values). */
  dropped: Record<string, number>;
}

export function createStats(): CoreStats {
  return {
    probes: 0,
    probesFailed: 0,
    indirectPings: 0,
    relayedPings: 0,
    tcpPings: 0,
    nacksSent: 0,
    nacksReceived: 0,
    suspicionsRaised: 0,
    refutations: 0,
    failuresDeclared: 0,
    pushPulls: 0,
    messagesIgnored: 0,
    rttSumMs: 0,
    rttCount: 0,
    lastRttMs: 0,
    heartbeatTablesSent: 0,
    heartbeatTablesReceived: 0,
    directHeartbeatsSent: 0,
    directAcks: 0,
    directAcksLate: 0,
    protocolSwitches: 0,
    dropped: {},
  };
}

/** Counts `count` things dropped for `reason` (every layer keeps its drops this way). */
export function countDrop(stats: { dropped: Record<string, number> }, reason: string, count = 1): void {
  if (count > 0) stats.dropped[reason] = (stats.dropped[reason] ?? 0) + count;
}
