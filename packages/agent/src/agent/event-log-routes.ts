import type { FastifyInstance } from 'fastify';
import { ApiError } from './api-error.js';
import type { EventLog } from './event-log.js';

/** GET /v1/events/recent: the last events the agent kept, oldest first, as the records the webhooks get. */
export function registerEventLogRoutes(app: FastifyInstance, events: EventLog): void {
  const { size } = events;
  app.get('/v1/events/recent', async (request, reply) => {
    const given = (request.query as { limit?: string | string[] }).limit;
    let limit = size;
    if (given !== undefined) {
      limit = typeof given === 'string' && /^\d{1,4}$/.test(given) ? Number(given) : Number.NaN;
      if (!(limit >= 1 && limit <= size)) throw new ApiError(400, `limit must be a whole number from 1 to ${size}, got ${JSON.stringify(given)}`);
    }
    // Each record is JSON already: the body is put together, not encoded again.
    const body = `{"events":[${events
      .recent(limit)
      .map((record) => record.json)
      .join(',')}]}`;
    return reply.type('application/json; charset=utf-8').send(body);
  });
}
