import type { Message, Protocol, ProtocolConfig } from '../core/index.js';

/**
 * Everything a simulation has sent so far, cumulative: snapshot it (a copy) at two times and
 * `loadPerRound` gives the load between them.
 */
export interface SimTraffic {
  /** UDP packets plus stream messages (push/pull, TCP pings) and their replies. */
  packets: number;
  /** Bytes of those: memberlist's encoding, or summed message sizes (`SimOptions.byteCounting`). */
  bytes: number;
  /** Heartbeat tables sent: one whole table to one peer counts once, however many packets it took. */
  tables: number;
  /** Packets that carried a heartbeat table or a part of one (the core's heartbeatTablesSent). */
  tablePackets: number;
  /** Packets led by a ping or an indirect ping: hybrid's direct heartbeats, SWIM's probes. */
  pings: number;
  /** Packets led by an ack or a nack. */
  acks: number;
}

/** Traffic of nothing sent yet. */
export function emptyTraffic(): SimTraffic {
  return { packets: 0, bytes: 0, tables: 0, tablePackets: 0, pings: 0, acks: 0 };
}

/**
 * Counts one packet by the message that leads it (piggybacked updates ride behind). `lastTableTo`
 * is the host of the previous table packet among the outputs of the same step, or '': the parts
 * of one table go to one peer back to back, so only a change of peer starts a new table.
 * Returns the host to pass with the next packet of that step.
 */
export function countPacket(traffic: SimTraffic, messages: readonly Message[], toHost: string, lastTableTo: string): string {
  switch (messages[0]?.type) {
    case 'heartbeats':
      traffic.tablePackets++;
      if (toHost !== lastTableTo) traffic.tables++;
      return toHost;
    case 'ping':
    case 'indirectPing':
      traffic.pings++;
      break;
    case 'ack':
    case 'nack':
      traffic.acks++;
      break;
  }
  return lastTableTo;
}

/** The load of one round of the failure detector, averaged over the rounds of a stretch of time. */
export interface RoundLoad {
  /**
   * The failure detector's messages: tables (a whole table to one peer is one message), pings
   * and acks. O(N) per round for gossiped tables (N × fanout), O(N²) for hybrid's all-to-all
   * direct heartbeats (2N(N − 1): a ping and its ack per ordered pair).
   */
  messages: number;
  /** Heartbeat tables sent (a whole table to one peer counts once). */
  tables: number;
  /** Packets that carried a heartbeat table or a part of one. */
  table_packets: number;
  /** Packets led by a ping or an indirect ping. */
  pings: number;
  /** Packets led by an ack or a nack. */
  acks: number;
  /** All traffic, membership gossip and push/pull streams included. */
  packets: number;
  /** Bytes of all traffic. */
  bytes: number;
}

/** The detector's round: the heartbeat period, or SWIM's probe interval. */
export function roundMs(config: ProtocolConfig, protocol: Protocol): number {
  return protocol === 'swim' ? config.probeIntervalMs : config.heartbeatIntervalMs;
}

/** The traffic between two snapshots, per round of `roundLengthMs`, over `elapsedMs`. */
export function loadPerRound(before: SimTraffic, after: SimTraffic, elapsedMs: number, roundLengthMs: number): RoundLoad {
  const rounds = elapsedMs / roundLengthMs;
  const per = (key: keyof SimTraffic) => (after[key] - before[key]) / rounds;
  return {
    messages: per('tables') + per('pings') + per('acks'),
    tables: per('tables'),
    table_packets: per('tablePackets'),
    pings: per('pings'),
    acks: per('acks'),
    packets: per('packets'),
    bytes: per('bytes'),
  };
}
