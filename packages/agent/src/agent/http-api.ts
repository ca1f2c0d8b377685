import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { OptionError } from 'hearsay/core';
import { JoinError, PROTOCOLS, type HearsayNode, type Member, type NodeStats, type Protocol } from 'hearsay';
import type { AgentStats } from './agent-stats.js';
import { ApiError } from './api-error.js';
import type { EventLog } from './event-log.js';
import { registerEventLogRoutes } from './event-log-routes.js';
import type { EventStreams } from './event-streams.js';
import { LIVE_VIEW_HEADERS, LIVE_VIEW_HTML } from './live-view.js';
import { registerCoordinateRoutes } from './coordinate-routes.js';
import { registerForceLeaveRoutes } from './force-leave-routes.js';
import { registerInfoRoutes } from './info-routes.js';
import { registerMonitorRoutes, type LogMonitor } from './log-monitor.js';
import { membersMatching } from './member-filters.js';
import { registerReachabilityRoutes } from './reachability-routes.js';
import { registerQueryRoutes } from './query-routes.js';
import { registerTagRoutes } from './tag-routes.js';
import { registerVerdictRoutes } from './verdict-routes.js';
import type { TagsFile } from './tags-file.js';
import { openApiDocument } from './openapi.js';
import type { Readiness } from './readiness.js';
import { guardRequests } from './request-guard.js';
import { limitClusterRequests, type RequestLimits } from './request-limits.js';

export interface ApiOptions {
  node: HearsayNode;
  metrics: Registry;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** Names the Host header may carry; undefined: any. */
  allowedHosts: ReadonlySet<string> | undefined;
  /** Leaves the cluster and then stops the agent. */
  leave: () => Promise<void>;
  stats: AgentStats;
  /** GET /v1/events. */
  streams: EventStreams;
  /** GET /v1/events/recent. */
  events: EventLog;
  limits?: RequestLimits;
  /** GET /v1/ready's answer. */
  readiness: () => Readiness;
  /** GET /v1/monitor's log tap; undefined for an agent started without one (503). */
  monitor?: LogMonitor | undefined;
  /** Where PUT/DELETE /v1/tags keep the tags (--tags-file); undefined: nowhere. */
  tagsFile?: TagsFile;
}

/** Seeds one POST /v1/join may name: each costs a TCP connection attempt. */
const MAX_JOIN_ADDRESSES = 64;

/** A member as the API shows it (the meta bytes are left out: tags carry what they hold). */
export function memberJson(member: Member) {
  const { name, address, port, status, incarnation, tags, since, rttMs, versions } = member;
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
    versions,
  };
}

/** The switch in force as the API shows it; `origin` is null for the detector the agent started with. */
export function protocolJson(protocol: Protocol, epoch: number, origin: string) {
  return { protocol, epoch, origin: epoch === 0 ? null : origin };
}

/** The node's counters that the live view shows; GET /metrics has them all. */
export function statsJson(stats: NodeStats, agent: AgentStats) {
  const { core, traffic, serf } = stats;
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
    dropped: [traffic.dropped, core.dropped, serf.dropped, agent.dropped].flatMap(Object.values).reduce((sum, count) => sum + count, 0),
  };
}

/** The agent's HTTP control API (JSON), documented at /openapi.json. */
export function createApi(options: ApiOptions): FastifyInstance {
  const { node, metrics, streams } = options;
  // Path parameters up to 4 KiB as sent (fastify's default is 100 characters, past which a route is a 404): a
  // member name may be 255 characters of up to 4 UTF-8 bytes, each percent-encoded; one too long gets a 400 that says so.
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, routerOptions: { maxParamLength: 4096 } });
  // Writes come as JSON only, bodiless ones (POST /v1/leave) included, so that a page cannot send them cross-site:
  // no text/plain parser, and an empty JSON body taken as none.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : parseJson(request, body as string, done),
  );

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (error instanceof ApiError) return reply.code(error.statusCode).send({ error: error.message });
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ error: 'send JSON (Content-Type: application/json)' });
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: error.message });
    // A value the library refuses is the request's fault; any other error (a node shut down, …) is the agent's.
    if (error instanceof OptionError) return reply.code(400).send({ error: error.message });
    return reply.code(500).send({ error: error.message });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: `no route ${request.method} ${request.url}: see GET /openapi.json` });
  });
  guardRequests(app, { token: options.token, allowedHosts: options.allowedHosts, stats: options.stats });
  limitClusterRequests(app, options.stats, options.limits);

  app.get('/', async (_request, reply) => reply.redirect('/ui'));
  app.get('/ui', async (_request, reply) => reply.headers(LIVE_VIEW_HEADERS).send(LIVE_VIEW_HTML));
  app.get('/v1/health', async () => ({ status: 'alive', name: node.name }));
  app.get('/v1/ready', async (_request, reply) => {
    const readiness = options.readiness();
    return reply.code(readiness.ready ? 200 : 503).send(readiness);
  });
  app.get('/v1/stats', async () => statsJson(node.stats, options.stats));
  app.get('/v1/members', async (request) => membersMatching(node.members(), request.query).map(memberJson));
  app.get('/v1/self', async () => memberJson(node.self));
  app.get('/v1/suspects', async () =>
    node
      .members()
      .filter((m) => m.status === 'suspect')
      .map(memberJson),
  );

  app.post('/v1/join', async (request) => {
    const addrs = (request.body as { addrs?: unknown } | null)?.addrs;
    if (!Array.isArray(addrs) || addrs.length === 0 || !addrs.every((a) => typeof a === 'string')) {
      throw new ApiError(400, 'body must be {"addrs": ["host:port", …]} with at least one address');
    }
    if (addrs.length > MAX_JOIN_ADDRESSES)
      throw new ApiError(400, `at most ${MAX_JOIN_ADDRESSES} seeds in one join (${addrs.length} given): one answering seed is enough`);
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
    // Always a new switch, even to the detector in use: it then reaches nodes started with another.
    // An unknown detector is the library's OptionError: 400.
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

  app.addHook('preClose', async () => streams.close());
  app.get('/v1/events', (request, reply) => streams.open(request, reply));

  registerQueryRoutes(app, node);
  registerInfoRoutes(app, node, options.readiness);
  registerReachabilityRoutes(app, node);
  registerMonitorRoutes(app, options.monitor);
  registerEventLogRoutes(app, options.events);
  registerCoordinateRoutes(app, node);
  registerTagRoutes(app, node, options.tagsFile);
  registerForceLeaveRoutes(app, node);
  registerVerdictRoutes(app, node);

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.metrics();
  });
  app.get('/openapi.json', async () => openApiDocument);
  return app;
}
