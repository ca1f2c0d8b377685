import type { FastifyInstance } from 'fastify';
import type { HearsayNode, KeyOperationResult, QueryOptions } from 'hearsay';
import { ApiError } from './api-error.js';

const KEY_OPERATIONS = ['install', 'use', 'remove'] as const;
const MAX_QUERY_TIMEOUT_MS = 300_000;

/** A cluster-wide key operation as the API answers it: `ok` when every member answered without error. */
function keyResultJson(result: KeyOperationResult) {
  return { ok: result.responses === result.nodes && Object.keys(result.errors).length === 0, ...result };
}

/** The `{name, payload | payloadBase64}` that events and queries share, checked. */
function namedPayload(body: unknown): { fields: Record<string, unknown>; name: string; bytes: Buffer } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'body must be a JSON object: {"name": "…", "payload": "…"}');
  const fields = body as Record<string, unknown>;
  const { name, payload, payloadBase64 } = fields;
  if (typeof name !== 'string' || name.length === 0) throw new ApiError(400, 'name must be a non-empty string');
  if (payload !== undefined && payloadBase64 !== undefined) throw new ApiError(400, 'give payload (text) or payloadBase64, not both');
  if (payload !== undefined && typeof payload !== 'string') throw new ApiError(400, 'payload must be a string (or use payloadBase64 for bytes)');
  if (payloadBase64 !== undefined && (typeof payloadBase64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(payloadBase64))) {
    throw new ApiError(400, 'payloadBase64 must be a base64 string');
  }
  const bytes = payloadBase64 !== undefined ? Buffer.from(payloadBase64 as string, 'base64') : Buffer.from((payload as string | undefined) ?? '');
  return { fields, name, bytes };
}

/**
 * Serf's events, queries and key management over HTTP: `POST /v1/event` broadcasts a user
 * event (`serf event`); `POST /v1/query` asks the cluster and answers with what came back by
 * the timeout; `GET /v1/keys` lists every member's keys; `POST /v1/keys/install|use|remove`
 * rotates them cluster-wide (as `serf keys` does).
 */
export function registerQueryRoutes(app: FastifyInstance, node: HearsayNode): void {
  app.post('/v1/event', async (request) => {
    const { name, bytes } = namedPayload(request.body);
    node.broadcast(bytes, name);
    return { sent: true, name, bytes: bytes.length };
  });

  app.post('/v1/query', async (request) => {
    const { fields, name, bytes } = namedPayload(request.body);
    const { timeoutMs, nodes, tags, requestAck, relayFactor } = fields;
    // A query holds its request, and one of the few slots for requests waiting on the cluster, until its timeout.
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_QUERY_TIMEOUT_MS)) {
      throw new ApiError(400, `timeoutMs must be a number of milliseconds, above 0 and at most ${MAX_QUERY_TIMEOUT_MS} (5 minutes)`);
    }
    if (requestAck !== undefined && typeof requestAck !== 'boolean') throw new ApiError(400, 'requestAck must be true or false');
    // The filters and the relay factor are the library's to check: an OptionError, 400.
    const options = {
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(nodes !== undefined ? { nodes } : {}),
      ...(tags !== undefined ? { tags } : {}),
      requestAck: requestAck ?? true,
      ...(relayFactor !== undefined ? { relayFactor } : {}),
    } as QueryOptions;
    const started = Date.now();
    const result = await node.query(name, bytes, options);
    return {
      acks: result.acks,
      responses: result.responses.map(({ from, payload: answer }) => ({
        from,
        payload: Buffer.from(answer).toString('utf8'),
        payloadBase64: Buffer.from(answer).toString('base64'),
      })),
      elapsedMs: Date.now() - started,
    };
  });

  app.get('/v1/keys', async () => keyResultJson(await node.listKeys()));
  for (const operation of KEY_OPERATIONS) {
    app.post(`/v1/keys/${operation}`, async (request) => {
      const key = (request.body as { key?: unknown } | null)?.key;
      if (typeof key !== 'string') throw new ApiError(400, 'body must be {"key": "<base64 key>"}');
      // A key that is not one is the library's OptionError: 400.
      const result = operation === 'install' ? await node.installKey(key) : operation === 'use' ? await node.useKey(key) : await node.removeKey(key);
      return keyResultJson(result);
    });
  }
}
