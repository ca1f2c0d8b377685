import { AgentUnreachable, fetchMembers } from './api.js';
import type { ObserverView } from './render.js';
import { agentRunning } from './spawn.js';
import type { NodeRecord } from './state.js';

/** The base URL of a node's HTTP API. */
export const baseUrl = (node: NodeRecord): string => `http://${node.http}`;

/** Whether a recorded node should be running: not killed, and its PID runs its agent. */
export const isLive = (node: NodeRecord): boolean => !node.down && agentRunning(node.pid, node.name);

/** One node's view: GET /v1/members, or down (killed, not running, not answering). */
export async function fetchView(node: NodeRecord, timeoutMs = 2_000): Promise<ObserverView> {
  if (node.down) return { node: node.name, up: false, members: [], reason: 'killed' };
  try {
    return { node: node.name, up: true, members: await fetchMembers(baseUrl(node), timeoutMs) };
  } catch (error) {
    if (!agentRunning(node.pid, node.name)) return { node: node.name, up: false, members: [], reason: `pid ${node.pid} not running` };
    const why = error instanceof AgentUnreachable ? error.why : (error as Error).message;
    return { node: node.name, up: false, members: [], reason: `not answering at ${node.http}: ${why}` };
  }
}

/** Every node's view, fetched in parallel, in the order given. */
export function fetchViews(nodes: NodeRecord[], timeoutMs?: number): Promise<ObserverView[]> {
  return Promise.all(nodes.map((node) => fetchView(node, timeoutMs)));
}
