/**
 * GET /v1/health and GET /v1/ready for Kubernetes probes: served without the token, ready once the
 * agent has joined (at once for a cluster of one by design), not ready again when it is alone.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../packages/agent/src/agent/agent.js';
import { freePort } from '../../packages/bench/src/bench-processes.js';
import { start } from '../attacks/agent-harness.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'probe-test-token';

async function probe(agent: Agent, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${agent.http.port}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('liveness and readiness', () => {
  const agents: Agent[] = [];
  afterAll(() => Promise.all(agents.map((agent) => agent.close())));

  it('an agent given nothing to join is alive and ready, without the token', async () => {
    const alone = await start({ name: 'probe-alone', httpToken: TOKEN });
    agents.push(alone);
    expect(await probe(alone, '/v1/health')).toEqual({ status: 200, body: { status: 'alive', name: 'probe-alone' } });
    expect(await probe(alone, '/v1/ready')).toEqual({ status: 200, body: { ready: true, reasons: [] } });
    expect((await probe(alone, '/v1/members')).status).toBe(401);
  });

  it('is not ready until it has joined, ready once it has, and not ready when left alone again', async () => {
    const seedPort = await freePort();
    const joiner = await start({ name: 'probe-joiner', join: [`127.0.0.1:${seedPort}`] });
    agents.push(joiner);
    const notJoined = await probe(joiner, '/v1/ready');
    expect(notJoined).toEqual({ status: 503, body: { ready: false, reasons: ['not joined: no other member is alive yet'] } });
    expect((await probe(joiner, '/v1/health')).status).toBe(200);

    const seed = await start({ name: 'probe-seed', bind: `127.0.0.1:${seedPort}` });
    agents.push(seed);
    // The joiner retries with backoff (1 s, then 2 s …).
    await waitFor('the joiner ready', async () => (await probe(joiner, '/v1/ready')).status === 200, { timeoutMs: 15_000, intervalMs: 100 });

    await seed.close();
    await waitFor('the joiner not ready once the seed failed', async () => (await probe(joiner, '/v1/ready')).status === 503, {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  });
});
