import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { countDrop } from 'hearsay/core';
import type { AgentStats } from './agent-stats.js';

export interface RequestGuardOptions {
  /** When set, every request but OPEN_ROUTES needs `Authorization: Bearer <token>`. */
  readonly token: string | undefined;
  /** Names the Host header may carry (lower case, IPv6 in brackets); undefined: any (an API beyond loopback, behind its token). */
  readonly allowedHosts: ReadonlySet<string> | undefined;
  /** Refusals are counted here, by reason. */
  readonly stats: AgentStats;
}

/**
 * Routes served without the token: the live view's shell holds no data, and its own calls send
 * the token; liveness and readiness say no more than whether the agent runs and has joined, and
 * probes (Kubernetes', a load balancer's) should need no secret.
 */
const OPEN_ROUTES = new Set(['/', '/ui', '/v1/health', '/v1/ready']);
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Host names a loopback API answers to: the loopback names, the address it is bound to, and the operator's own. */
export function allowedHosts(bound: string, extra: readonly string[]): Set<string> {
  const bracket = (host: string) => (isIP(host) === 6 ? `[${host}]` : host);
  return new Set(['localhost', '127.0.0.1', '[::1]', bracket(bound), ...extra.map(bracket)].map((host) => host.toLowerCase()));
}

/** The host part of a Host header, lower case, IPv6 in brackets, without the port; undefined when malformed. */
export function hostOf(header: string): string | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/i.exec(header.trim());
  return match?.[1]?.toLowerCase();
}

/**
 * What a web page must not be able to make this agent do, checked before anything else:
 * - DNS rebinding: a page whose name resolves to 127.0.0.1 reaches a loopback API as its own
 *   origin, so the Host header must be one of this agent's names (421 otherwise);
 * - cross-site requests: any request carrying a foreign Origin is refused (403);
 * - "simple" requests: a page can POST text/plain or a form anywhere without asking, so every
 *   request that changes state must be sent as application/json (415), which a browser only
 *   sends cross-site after a CORS preflight this API never grants;
 * - the bearer token, when one is configured, on every route but the live view's shell (401).
 */
export function guardRequests(app: FastifyInstance, options: RequestGuardOptions): void {
  const tokenDigest = options.token === undefined ? undefined : digest(`Bearer ${options.token}`);
  app.addHook('onRequest', async (request, reply) => {
    const refusal = refusalOf(request, options.allowedHosts) ?? (tokenDigest ? tokenRefusal(request, tokenDigest) : undefined);
    if (!refusal) return;
    countDrop(options.stats, refusal.reason);
    if (refusal.status === 401) reply.header('www-authenticate', 'Bearer');
    await reply.code(refusal.status).send({ error: refusal.message });
  });
}

interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly message: string;
}

function refusalOf(request: FastifyRequest, allowed: ReadonlySet<string> | undefined): Refusal | undefined {
  const { host, origin } = request.headers;
  if (allowed && host !== undefined) {
    const name = hostOf(host);
    if (name === undefined || !allowed.has(name)) {
      return {
        status: 421,
        reason: 'api-unknown-host',
        message: `Host ${JSON.stringify(host.slice(0, 100))} is not a name of this agent (DNS rebinding?): it answers to ${[...allowed].join(', ')}; add names with --http-allowed-host`,
      };
    }
  }
  if (origin !== undefined && !sameOrigin(origin, host)) {
    return {
      status: 403,
      reason: 'api-foreign-origin',
      message: `cross-origin request from ${JSON.stringify(origin.slice(0, 100))} refused: only this agent's own pages and non-browser clients may call it`,
    };
  }
  if (WRITES.has(request.method)) {
    const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      return {
        status: 415,
        reason: 'api-not-json',
        message: `${request.method} ${request.url.split('?')[0]} changes state: send it with Content-Type: application/json (got ${type ? JSON.stringify(type.slice(0, 100)) : 'none'}; an empty body is fine)`,
      };
    }
  }
  return undefined;
}

function tokenRefusal(request: FastifyRequest, expected: Buffer): Refusal | undefined {
  if (OPEN_ROUTES.has(request.routeOptions.url ?? '')) return undefined;
  const given = request.headers.authorization;
  // Digests compared in constant time: the token is not guessable from response times.
  if (given !== undefined && timingSafeEqual(digest(given), expected)) return undefined;
  return { status: 401, reason: 'api-bad-token', message: 'missing or wrong bearer token: send Authorization: Bearer <token>' };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A browser's Origin names the page that sent the request: the same scheme, host and port as this API's own pages, or foreign. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const page = new URL(origin);
    return page.protocol === 'http:' && page.host === new URL(`http://${host}`).host;
  } catch {
    return false; // `null` (sandboxed pages, file:) and anything unparsable
  }
}
