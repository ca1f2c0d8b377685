import type { FastifyInstance } from 'fastify';
import type { HearsayNode } from 'hearsay';
import { ApiError } from './api-error.js';

/**
 * Network coordinates (Vivaldi, as Serf's): `GET /v1/coordinates` gives this node's and every
 * member's it has heard; `GET /v1/rtt?a=NODE[&b=NODE]` estimates a round trip from them, as
 * `serf rtt` does (b defaults to this node).
 */
export function registerCoordinateRoutes(app: FastifyInstance, node: HearsayNode): void {
  app.get('/v1/coordinates', async () => {
    const members: Record<string, unknown> = {};
    for (const member of node.members()) {
      const coordinate = node.coordinateOf(member.name);
      if (coordinate) members[member.name] = coordinate;
    }
    return { self: node.coordinate, members };
  });

  app.get('/v1/rtt', async (request) => {
    const { a, b } = request.query as { a?: unknown; b?: unknown };
    if (typeof a !== 'string' || a === '') throw new ApiError(400, 'give the member as ?a=NAME (and optionally &b=NAME; b defaults to this node)');
    if (b !== undefined && (typeof b !== 'string' || b === '')) throw new ApiError(400, 'b must be a member name');
    const other = (b as string | undefined) ?? node.name;
    for (const name of [a, other]) {
      if (!node.member(name)) throw new ApiError(404, `no member named ${name}`);
    }
    const rttMs = node.estimateRtt(a, other);
    if (rttMs === undefined) throw new ApiError(404, `no coordinate for ${node.coordinateOf(a) ? other : a} yet: it comes with the acks of direct probes`);
    return { a, b: other, rttMs };
  });
}
