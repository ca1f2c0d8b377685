import type { Logger } from 'pino';

/** The agent's own counters, beside the node's. */
export interface AgentStats {
  /** Query handler commands started. */
  queryHandlerRuns: number;
  /** What the agent itself refused or cut off (requests, event-stream clients, handler runs), by reason. */
  readonly dropped: Record<string, number>;
}

export function createAgentStats(): AgentStats {
  return { queryHandlerRuns: 0, dropped: {} };
}

/**
 * A warning per kind at most once a minute, saying how many of that kind went unlogged since:
 * peers and clients can cause the same warning by the thousand, and logs must not grow with them.
 */
export function throttledWarn(log: Logger, intervalMs = 60_000): (kind: string, fields: object, message: string) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (kind, fields, message) => {
    const now = Date.now();
    const seen = last.get(kind);
    if (seen && now - seen.at < intervalMs) {
      seen.suppressed++;
      return;
    }
    log.warn({ ...fields, ...(seen?.suppressed ? { suppressed: seen.suppressed } : {}) }, message);
    last.set(kind, { at: now, suppressed: 0 });
  };
}
