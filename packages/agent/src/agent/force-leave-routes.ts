import type { FastifyInstance } from 'fastify';
import { LiveMemberError, UnknownMemberError, type HearsayNode } from 'hearsay';
import { ApiError } from './api-error.js';

/**
 * `POST /v1/force-leave` (`serf force-leave`): a failed member is made `left` across the cluster,
 * or with `prune` removed at once. An unknown member is a 404, a live one a 409: memberlist, not
 * an operator, judges a member that still answers.
 */
export function registerForceLeaveRoutes(app: FastifyInstance, node: HearsayNode): void {
  app.post('/v1/force-leave', async (request) => {
    const body = request.body as { node?: unknown; prune?: unknown } | null;
    const name = body?.node;
    const prune = body?.prune ?? false;
    if (typeof name !== 'string' || name === '' || typeof prune !== 'boolean') {
      throw new ApiError(400, 'body must be {"node": "name", "prune": false}');
    }
    try {
      return { node: name, status: node.forceLeave(name, { prune }) };
    } catch (error) {
      if (error instanceof UnknownMemberError) throw new ApiError(404, error.message);
      if (error instanceof LiveMemberError) throw new ApiError(409, error.message);
      throw error;
    }
  });
}
