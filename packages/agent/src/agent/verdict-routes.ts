import type { FastifyInstance } from 'fastify';
import type { HearsayNode, VerdictRecord } from 'hearsay';
import { MAX_NAME_LENGTH } from 'hearsay/core';
import { ApiError } from './api-error.js';

/** Epoch milliseconds as ISO 8601 text; null stays null. */
const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());

/**
 * A verdict record as the API shows it: the library's record, its times still epoch milliseconds
 * (so that a client can subtract them), with the ones a reader looks at also as ISO 8601 text.
 */
export function verdictJson(record: VerdictRecord) {
  const { outcome } = record;
  return {
    ...record,
    suspectedTime: iso(record.suspectedAt),
    confirmations: record.confirmations.map((confirmation) => ({ ...confirmation, time: iso(confirmation.at) })),
    outcome: outcome === null ? null : { ...outcome, time: iso(outcome.at) },
    returnedTime: iso(record.returnedAt),
  };
}

/** This node's view digest and its peers' (`views()`), with the degraded pairs (`degradedPeers()`). */
export function viewsJson(node: HearsayNode) {
  const views = node.views();
  return {
    digest: views.digest,
    distinct: views.distinct,
    agreeing: views.agreeing,
    differing: [...views.differing],
    degraded: node.degradedPeers().map(({ member, since }) => ({ member, since: new Date(since).toISOString() })),
  };
}

/**
 * Failure provenance (issue 18): `GET /v1/members/:name/history`, the verdicts this node reached
 * or heard about a member with their evidence, and `GET /v1/views`, whether this node's view of
 * the membership agrees with its peers' and which peers it reaches only indirectly.
 */
export function registerVerdictRoutes(app: FastifyInstance, node: HearsayNode): void {
  app.get('/v1/members/:name/history', async (request) => {
    const { name } = request.params as { name: string };
    if (name.length > MAX_NAME_LENGTH) throw new ApiError(400, `a member name has at most ${MAX_NAME_LENGTH} characters, got ${name.length}`);
    const member = node.member(name);
    const history = node.history(name);
    if (!member && history.length === 0) {
      throw new ApiError(404, `no member named "${name}": ${node.name} does not list it and has no verdict about it on record`);
    }
    const degraded = node.degradedPeers().find((peer) => peer.member === name);
    return {
      member: name,
      node: node.name,
      status: member?.status ?? null,
      degradedSince: degraded ? new Date(degraded.since).toISOString() : null,
      history: history.map(verdictJson),
    };
  });

  app.get('/v1/views', async () => viewsJson(node));
}
