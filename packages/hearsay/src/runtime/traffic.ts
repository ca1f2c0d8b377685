import type { MessageType } from '../core/index.js';

export { countDrop } from '../core/index.js';

/** Counters of what crossed the network, for metrics and for tests. */
export interface TrafficStats {
  /** UDP packets received (dropped ones included). */
  packetsIn: number;
  /** UDP packets sent. */
  packetsOut: number;
  /** Bytes received in UDP packets and TCP streams. */
  bytesIn: number;
  /** Bytes sent in UDP packets and TCP streams. */
  bytesOut: number;
  /** Messages received by type, inside packets and compounds. */
  messagesIn: Partial<Record<MessageType, number>>;
  /** Messages sent by type, inside packets and compounds. */
  messagesOut: Partial<Record<MessageType, number>>;
  /** TCP streams peers opened to this node (push/pulls, TCP pings, user messages). */
  streamsIn: number;
  /** TCP streams this node opened to peers. */
  streamsOut: number;
  /** Packets and streams thrown away, by reason (malformed, crc, decrypt, …). */
  dropped: Record<string, number>;
  /** Sends that failed at the socket (unreachable address, closed socket). */
  sendErrors: number;
  /** Bytes TCP streams in flight hold now (input buffered, records decoded, answers unsent) … */
  streamMemory: number;
  /** … and the most they ever held at once (bounded by the driver's streams memory limit). */
  streamMemoryPeak: number;
}

export function createTrafficStats(): TrafficStats {
  return {
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: {},
    messagesOut: {},
    streamsIn: 0,
    streamsOut: 0,
    dropped: {},
    sendErrors: 0,
    streamMemory: 0,
    streamMemoryPeak: 0,
  };
}

export function countMessages(counts: Partial<Record<MessageType, number>>, messages: readonly { type: MessageType }[]): void {
  for (const message of messages) counts[message.type] = (counts[message.type] ?? 0) + 1;
}
