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
  };
}
