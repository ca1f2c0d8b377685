import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { countDrop } from 'hearsay/core';
import type { AgentStats } from './agent-stats.js';
import { ApiError } from './api-error.js';

export interface RequestLimits {
  /** Requests that reach the whole cluster (events, queries, key operations, detector switches, joins): sustained rate per second… */
  readonly clusterRequestsPerSecond: number;
  /** …and burst. */
  readonly clusterRequestBurst: number;
  /** Such requests waiting for the cluster at once (a query holds its request until its timeout). */
  readonly maxWaiting: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = { clusterRequestsPerSecond: 20, clusterRequestBurst: 100, maxWaiting: 16 };

/** Routes whose every call makes each member of the cluster do work (gossip, answers, TCP). */
const CLUSTER_ROUTES = new Set([
  'POST /v1/event',
  'POST /v1/query',
  'POST /v1/reachability',
  'GET /v1/keys',
  'POST /v1/keys/install',
  'POST /v1/keys/use',
  'POST /v1/keys/remove',
  'PUT /v1/protocol',
  'POST /v1/join',
]);

/**
 * One API call can make every member gossip, answer or connect: such calls share a token bucket,
 * and a bounded number of them may wait for the cluster at once; beyond either, 429 (counted).
 * Must be called before the routes are registered: it wraps their handlers.
 */
export function limitClusterRequests(app: FastifyInstance, stats: AgentStats, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): void {
  const bucket = new TokenBucket(limits.clusterRequestsPerSecond, limits.clusterRequestBurst);
  let waiting = 0;
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (!methods.some((method) => CLUSTER_ROUTES.has(`${method} ${route.url}`))) return;
    const handler = route.handler as (...args: Parameters<RouteHandlerMethod>) => unknown;
    route.handler = async function (this: ThisParameterType<RouteHandlerMethod>, request, reply) {
      if (waiting >= limits.maxWaiting) {
        countDrop(stats, 'api-too-many-waiting');
        throw new ApiError(
          429,
          `${limits.maxWaiting} requests are already waiting for the cluster (queries, key operations, joins): retry when one has finished`,
        );
      }
      const waitMs = bucket.take();
      if (waitMs > 0) {
        countDrop(stats, 'api-rate-limited');
        reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
        throw new ApiError(
          429,
          `at most ${limits.clusterRequestsPerSecond} cluster-wide requests a second (bursts of ${limits.clusterRequestBurst}): retry in ${Math.ceil(waitMs)} ms`,
        );
      }
      waiting++;
      try {
        return await handler.call(this, request, reply);
      } finally {
        waiting--;
      }
    };
  });
}

/** `rate` tokens a second up to `burst`; `take` spends one, or says how long until one is there. */
class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #at = performance.now();

  constructor(rate: number, burst: number) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
  }

  take(): number {
    const now = performance.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) * this.#rate) / 1000);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens--;
      return 0;
    }
    return ((1 - this.#tokens) * 1000) / this.#rate;
  }
}
