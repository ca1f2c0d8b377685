/** What the Serf layer has done since the node started (cumulative). */
export interface SerfStats {
  /** Distinct queries that reached this node (its own included). */
  queriesReceived: number;
  /** Queries this node asked. */
  queriesAsked: number;
  /** Acks this node sent to queries that asked for them. */
  acksSent: number;
  /** Answers sent (application and internal queries). */
  responsesSent: number;
  /** Answers relayed on for other members. */
  relaysForwarded: number;
  /** Keyring changes made by key queries. */
  keyChanges: number;
  /** Events first learnt from a peer's push/pull state rather than by gossip. */
  eventsFromState: number;
  /** Serf messages that could not be decoded, dropped. */
  malformed: number;
  /** Serf messages (or parts of them) refused by a bound, by reason. */
  dropped: Record<string, number>;
}

export function createSerfStats(): SerfStats {
  return {
    queriesReceived: 0,
    queriesAsked: 0,
    acksSent: 0,
    responsesSent: 0,
    relaysForwarded: 0,
    keyChanges: 0,
    eventsFromState: 0,
    malformed: 0,
    dropped: {},
  };
}
