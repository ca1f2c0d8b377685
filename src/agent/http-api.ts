import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { HearsayError } from '../core/index.js';
import { formatAddress, JoinError, PROTOCOLS, type HearsayNode, type IncomingQuery, type Member, type NodeStats, type Protocol } from '../runtime/index.js';
import type { Address } from '../core/index.js';
import { ApiError } from './api-error.js';
import { LIVE_VIEW_HEADERS, LIVE_VIEW_HTML } from './live-view.js';
import { registerCoordinateRoutes } from './coordinate-routes.js';
import { registerQueryRoutes } from './query-routes.js';
import { openApiDocument } from './openapi.js';

export interface ApiOptions {
  node: HearsayNode;
  metrics: Registry;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** Leaves the cluster and then stops the agent. */
  leave: () => Promise<void>;
}

/** A member as the API shows it (the meta bytes are left out: tags carry what they hold). */
export function memberJson(member: Member) {
  const { name, address, port, status, incarnation, tags, since, rttMs } = member;
  return {
    name,
    address,
    port,
    status,
    incarnation,
    tags,
    since: new Date(since).toISOString(),
    // Microseconds are as precise as the millisecond samples it smooths deserve.
    ...(rttMs === undefined ? {} : { rttMs: Math.round(rttMs * 1000) / 1000 }),
  };
}

/** The switch in force as the API shows it; `origin` is null for the detector the agent started with. */
export function protocolJson(protocol: Protocol, epoch: number, origin: string) {
  return { protocol, epoch, origin: epoch === 0 ? null : origin };
}

/** The node's counters that the live view shows; GET /metrics has them all. */
export function statsJson(stats: NodeStats) {
  const { core, traffic } = stats;
  return {
    healthScore: stats.healthScore,
    broadcastQueue: stats.broadcastQueue,
    probes: core.probes,
    probesFailed: core.probesFailed,
    suspicions: core.suspicionsRaised,
    refutations: core.refutations,
    failuresDeclared: core.failuresDeclared,
    packetsIn: traffic.packetsIn,
    packetsOut: traffic.packetsOut,
    bytesIn: traffic.bytesIn,
    bytesOut: traffic.bytesOut,
    dropped: Object.values(traffic.dropped).reduce((sum, count) => sum + count, 0),
  };
}

/** Routes served without the token: the live view's shell holds no data, and its own calls send the token. */
const OPEN_ROUTES = new Set(['/', '/ui']);


/** The agent's HTTP control API (JSON), documented at /openapi.json. */
export function createApi(options: ApiOptions): FastifyInstance {
  const { node, metrics, token } = options;
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (error instanceof ApiError) return reply.code(error.statusCode).send({ error: error.message });
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ error: 'send JSON (Content-Type: application/json)' });
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: error.message });
    if (error instanceof HearsayError) return reply.code(400).send({ error: error.message });
    return reply.code(500).send({ error: error.message });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: `no route ${request.method} ${request.url}: see GET /openapi.json` });
  });
  if (token) {
    app.addHook('onRequest', async (request, reply) => {
      if (OPEN_ROUTES.has(request.routeOptions.url ?? '')) return;
      if (request.headers.authorization !== `Bearer ${token}`) {
        await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong bearer token: send Authorization: Bearer <token>' });
      }
    });
  }

  app.get('/', async (_request, reply) => reply.redirect('/ui'));
  app.get('/ui', async (_request, reply) => reply.headers(LIVE_VIEW_HEADERS).send(LIVE_VIEW_HTML));
  app.get('/v1/stats', async () => statsJson(node.stats));
  app.get('/v1/members', async () => node.members().map(memberJson));
  app.get('/v1/self', async () => memberJson(node.self));
  app.get('/v1/suspects', async () => node.members().filter((m) => m.status === 'suspect').map(memberJson));

  app.post('/v1/join', async (request) => {
    const addrs = (request.body as { addrs?: unknown } | null)?.addrs;
    if (!Array.isArray(addrs) || addrs.length === 0 || !addrs.every((a) => typeof a === 'string')) {
      throw new ApiError(400, 'body must be {"addrs": ["host:port", …]} with at least one address');
    }
    try {
      return { joined: await node.join(addrs as string[]) };
    } catch (error) {
      if (error instanceof JoinError) throw new ApiError(502, error.message);
      throw error;
    }
  });

  app.post('/v1/leave', async (_request, reply) => {
    // Answer first: leaving ends with the agent stopping.
    await reply.send({ left: true });
    setImmediate(() => void options.leave());
    return reply;
  });

  app.get('/v1/protocol', async () => ({
    ...protocolJson(node.protocol, node.protocolSwitch.epoch, node.protocolSwitch.origin),
    allToAll: node.allToAll,
    pinned: node.pinned,
  }));
  app.put('/v1/protocol', async (request) => {
    const body = request.body as Record<string, unknown> | null;
    const protocol = typeof body === 'object' && body !== null ? body.protocol : undefined;
    if (typeof protocol !== 'string') throw new ApiError(400, `body must be {"protocol": "${PROTOCOLS.join('" | "')}"}`);
    if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
      throw new ApiError(400, `unknown protocol "${protocol}": use ${PROTOCOLS.join(', ')}`);
    }
    // Always a new switch, even to the detector in use: it then reaches nodes started with another.
    node.setProtocol(protocol as Protocol);
    return protocolJson(node.protocol, node.protocolSwitch.epoch, node.protocolSwitch.origin);
  });
  app.put('/v1/pinned', async (request) => {
    const names = (request.body as { names?: unknown } | null)?.names;
    if (!Array.isArray(names) || !names.every((name) => typeof name === 'string' && name.length > 0)) {
      throw new ApiError(400, 'body must be {"names": ["member", …]} (an empty list unpins all)');
    }
    node.pin(names as string[]);
    return { pinned: node.pinned };
  });

  // Streams never end by themselves: end them, or close() would wait for their clients forever.
  const eventStreams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const stream of eventStreams) stream.end();
  });
  app.get('/v1/events', (request, reply) => {
    reply.hijack();
    const out = reply.raw;
    eventStreams.add(out);
    out.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    out.write(': membership and protocol events of this node\n\n');
    const send = (type: string, data: object) => out.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    const types = ['join', 'update', 'suspect', 'alive', 'failed', 'left'] as const;
    const listeners = types.map((type) => {
      const listener = (member: Member) => send(type, memberJson(member));
      node.on(type, listener);
      return [type, listener] as const;
    });
    const onProtocol = (protocol: Protocol, epoch: number, origin: string) => send('protocol', protocolJson(protocol, epoch, origin));
    node.on('protocol', onProtocol);
    const onMessage = (payload: Uint8Array, from: Address, name: string) =>
      send('user', { name, payload: Buffer.from(payload).toString('utf8'), payloadBase64: Buffer.from(payload).toString('base64'), from: formatAddress(from) });
    node.on('message', onMessage);
    const onQuery = (query: IncomingQuery) => send('query', { name: query.name, from: query.from, ltime: query.ltime, payload: Buffer.from(query.payload).toString('utf8') });
    node.on('query', onQuery);
    const keepAlive = setInterval(() => out.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      eventStreams.delete(out);
      clearInterval(keepAlive);
      for (const [type, listener] of listeners) node.off(type, listener);
      node.off('protocol', onProtocol);
      node.off('message', onMessage);
      node.off('query', onQuery);
    });
  });

  registerQueryRoutes(app, node);
  registerCoordinateRoutes(app, node);

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.metrics();
  });
  app.get('/openapi.json', async () => openApiDocument);
  return app;
}
