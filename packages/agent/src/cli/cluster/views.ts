import { AgentUnreachable, fetchMembers, getJson } from './api.js';
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

/** One agent's view digest (GET /v1/views), for `cluster members` to compare across agents. */
export interface ViewDigest {
  readonly node: string;
  readonly digest: number;
  /** Distinct digests the agent itself heard among its peers lately. */
  readonly distinct: number;
}

/** Each live node's GET /v1/views, in parallel; a node that is down or does not answer it is left out. */
export async function fetchViewDigests(nodes: NodeRecord[], timeoutMs = 2_000): Promise<ViewDigest[]> {
  const answers = await Promise.all(
    nodes.map(async (node): Promise<ViewDigest | undefined> => {
      if (node.down) return undefined;
      try {
        const body = (await getJson(baseUrl(node), '/v1/views', timeoutMs)) as { digest?: unknown; distinct?: unknown };
        return typeof body.digest === 'number' && typeof body.distinct === 'number'
          ? { node: node.name, digest: body.digest, distinct: body.distinct }
          : undefined;
      } catch {
        return undefined; // down, or an agent without the route: its table says so, or it is simply not compared
      }
    }),
  );
  return answers.filter((answer) => answer !== undefined);
}
