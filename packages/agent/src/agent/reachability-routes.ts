import type { FastifyInstance } from 'fastify';
import type { HearsayNode, Member } from 'hearsay';
import { ApiError } from './api-error.js';

/** The longest a reachability test may wait for acks: it holds a request open meanwhile. */
const MAX_TIMEOUT_MS = 300_000;

/** A member that did not acknowledge, with its status here: what the silence suggests depends on it. */
function silentJson(member: Member) {
  return { name: member.name, address: member.address, port: member.port, status: member.status };
}

/**
 * POST /v1/reachability: Serf's `serf reachability`. Asks every member Serf's internal `_serf_ping`
 * query with acks requested (Serf agents and hearsay nodes both ack it) and answers, by the
 * query's timeout, who acknowledged and which members this node lists, `left` ones aside, did not.
 * The query travels by gossip and the acks come back by UDP, directly: an ack missing from a
 * member that probes reach points at the path between it and this node.
 */
export function registerReachabilityRoutes(app: FastifyInstance, node: HearsayNode): void {
  app.post('/v1/reachability', async (request) => {
    const timeoutMs = (request.body as { timeoutMs?: unknown } | undefined)?.timeoutMs;
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
      throw new ApiError(400, `timeoutMs must be a number of milliseconds, above 0 and at most ${MAX_TIMEOUT_MS} (5 minutes)`);
    }
    // Those listed when the test starts are the ones expected to answer.
    const expected = node.members().filter((member) => member.status !== 'left');
    const started = Date.now();
    const { acks } = await node.query('_serf_ping', new Uint8Array(0), { requestAck: true, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    const acked = new Set(acks);
    const expectedNames = new Set(expected.map((member) => member.name));
    return {
      members: expected.length,
      acks,
      // Each with its status now, at the end of the wait (one stalled since the start is suspected by then); one that left meanwhile is not missed.
      silent: expected
        .filter((member) => !acked.has(member.name))
        .map((member) => node.member(member.name) ?? member)
        .filter((member) => member.status !== 'left')
        .map(silentJson),
      // Acks from names not listed here: this node's list and the cluster's disagree.
      unexpected: acks.filter((name) => !expectedNames.has(name)),
      elapsedMs: Date.now() - started,
    };
  });
}
