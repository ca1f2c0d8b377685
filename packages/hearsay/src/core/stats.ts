/** Counters a node keeps about its own protocol activity (the agent exports them as metrics). */
export interface CoreStats {
  /** Probes started (SWIM: one member pinged per probe interval). */
  probes: number;
  /** Probes that ended without any ack, direct, relayed or over TCP. */
  probesFailed: number;
  /** Indirect ping requests sent to helpers. */
  indirectPings: number;
  /** Indirect pings this node relayed for others. */
  relayedPings: number;
  /** TCP pings tried alongside the indirect probes. */
  tcpPings: number;
  /** Nacks sent to requesters whose target did not answer this node's relayed ping. */
  nacksSent: number;
  /** Nacks received from helpers. */
  nacksReceived: number;
  /** Members that turned suspect in this node's table, by its own verdict or by gossip. */
  suspicionsRaised: number;
  /** Rumours about this node (suspect, dead, an alive that is not its own) refuted by raising its incarnation. */
  refutations: number;
  /** Members this node itself declared failed (a suspicion ran out, or a heartbeat verdict). */
  failuresDeclared: number;
  /**
   * Deadlines that found this node stalled (due over half a probe timeout ago: a busy loop, a GC
   * pause, SIGSTOP) and were put back a moment, so that what reached it meanwhile is read first.
   */
  stalls: number;
  /** Push/pull exchanges this node started (periodic syncs, joins, reconnects). */
  pushPulls: number;
  /** Messages ignored: wrong target, unknown sequence, stale or conflicting update. */
  messagesIgnored: number;
  /** Sum of the round-trip times of acked probes (ms). */
  rttSumMs: number;
  /** Acked probes whose round trip is in `rttSumMs`. */
  rttCount: number;
  /** The last probe round-trip time (ms); 0 before the first. */
  lastRttMs: number;
  /** Heartbeat tables (or table parts) sent: gossip-style heartbeat traffic. */
  heartbeatTablesSent: number;
  /** Heartbeat tables (or table parts) received. */
  heartbeatTablesReceived: number;
  /** Direct heartbeats (pings) sent. */
  directHeartbeatsSent: number;
  /** Acks to direct heartbeats back within the RTT bound (`rttBoundMs`). */
  directAcks: number;
  /** Acks to direct heartbeats back after the RTT bound, not taken as signs of life. */
  directAcksLate: number;
  /** Failure detector changes this node went through (its own and adopted ones). */
  protocolSwitches: number;
  /** Messages the core refused to act on, by reason (rate limits, bounds, forged values). */
  dropped: Record<string, number>;
}

/** Every counter at zero. */
export function createStats(): CoreStats {
  return {
    probes: 0,
    probesFailed: 0,
    stalls: 0,
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
