import http from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent, type AgentOptions } from '../../packages/agent/src/agent/agent.js';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

/** A short suspicion (multiplier 2), so that the crashed peer is failed within seconds. */
const CONFIG = { ...FAST, suspicionMult: 2 };
const silent = pino({ level: 'silent' });

/** Responses whose JSON the tests inspect freely. */
// biome-ignore lint/suspicious/noExplicitAny: the API's JSON answers, read freely; a wrong shape fails the assertion that reads it.
type AnyJson = any;

async function request(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  return { status: response.status, json: () => response.json() as Promise<AnyJson>, text: () => response.text() };
}

function start(options: AgentOptions): Promise<Agent> {
  return startAgent({ bind: '127.0.0.1:0', http: '127.0.0.1:0', config: CONFIG, ...options }, silent);
}

describe('the agent’s HTTP API', () => {
  let agent: Agent;
  let peer: HearsayNode;
  let base: string;
  const call = (path: string, init: RequestInit = {}) => request(`${base}${path}`, init);
  const send = (method: string, path: string, body: unknown) =>
    call(path, { method, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    agent = await start({ name: 'api-node', tags: { role: 'api' } });
    base = `http://127.0.0.1:${agent.http.port}`;
    peer = await createNode({ name: 'peer', bind: '127.0.0.1:0', config: CONFIG });
  });
  afterAll(async () => {
    await agent.close();
    await peer.shutdown();
  });

  it('GET /v1/self describes the node', async () => {
    const self = await (await call('/v1/self')).json();
    expect(self).toMatchObject({ name: 'api-node', address: '127.0.0.1', port: agent.node.address.port, status: 'alive', tags: { role: 'api' } });
    // Seconds since the epoch at start: a restart always starts a larger generation.
    expect(Math.abs(self.incarnation - Date.now() / 1000)).toBeLessThan(120);
    expect(new Date(self.since).getTime()).toBeGreaterThan(0);
  });

  it('POST /v1/join joins, and GET /v1/members lists both; SSE reports the join', async () => {
    const events: string[] = [];
    const sse = http.get(`${base}/v1/events`, (response) => {
      expect(response.headers['content-type']).toBe('text/event-stream');
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => events.push(chunk));
    });
    await waitFor('the event stream to open', () => events.length > 0);
    const joined = await send('POST', '/v1/join', { addrs: [`127.0.0.1:${peer.address.port}`] });
    expect(joined.status).toBe(200);
    expect(await joined.json()).toEqual({ joined: 1 });
    const members = await (await call('/v1/members')).json();
    expect(members.map((m: { name: string }) => m.name).sort()).toEqual(['api-node', 'peer']);
    await waitFor('a join event on the stream', () => events.join('').includes('event: join\ndata: {"name":"peer"'));
    // Broadcasts and queries that reach the agent are on the stream too.
    peer.broadcast(Buffer.from('v9'), 'deploy');
    // A user event names no sender: the address that relayed it is not shown as one.
    await waitFor('the broadcast on the stream', () =>
      events.join('').includes('event: user\ndata: {"name":"deploy","payload":"v9","payloadBase64":"djk="}\n'),
    );
    void peer.query('whoami', Buffer.from('?'), { timeoutMs: 300 });
    await waitFor('the query on the stream', () => /event: query\ndata: \{"name":"whoami","from":"peer","ltime":\d+,"payload":"\?"\}/.test(events.join('')));
    sse.destroy();
  });

  it('GET /v1/suspects lists suspects; metrics count the probes, suspicion and failure after the peer dies', async () => {
    await waitFor('an answered probe', () => agent.node.stats.core.rttCount > 0);
    await peer.shutdown();
    await waitFor('the peer suspected', async () => (await (await call('/v1/suspects')).json()).some((m: { name: string }) => m.name === 'peer'));
    await waitFor('the peer failed', () => agent.node.member('peer')?.status === 'failed');
    const text = await (await call('/metrics')).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('hearsay_probes_total')).toBeGreaterThan(0);
    expect(value('hearsay_probes_failed_total')).toBeGreaterThan(0);
    expect(value('hearsay_suspicions_total')).toBeGreaterThanOrEqual(1);
    expect(value('hearsay_failures_declared_total')).toBeGreaterThanOrEqual(1);
    expect(value('hearsay_members{status="failed"}')).toBe(1);
    expect(value('hearsay_probe_rtt_seconds_count')).toBeGreaterThan(0);
    expect(text).toMatch(/^hearsay_messages_total\{direction="out",type="ping"\} \d+/m);
    expect(text).toMatch(/^hearsay_health_score \d+/m);
    expect(text).toMatch(/^hearsay_broadcast_queue_depth \d+/m);
    expect(text).toMatch(/^hearsay_packets_total\{direction="in"\} \d+/m);
  });

  it('serves its OpenAPI document', async () => {
    const doc = await (await call('/openapi.json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/v1/members', '/v1/self', '/v1/suspects', '/v1/join', '/v1/leave', '/v1/protocol', '/v1/pinned', '/v1/events', '/metrics']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });

  it.each([
    ['POST', '/v1/join', '{not json', 400, /not valid JSON/],
    ['POST', '/v1/join', { addrs: [] }, 400, /at least one address/],
    ['POST', '/v1/join', { addrs: [7] }, 400, /at least one address/],
    ['POST', '/v1/join', { addrs: ['no where:1'] }, 400, /is not an address/],
    ['POST', '/v1/join', { addrs: ['dns+srv:'] }, 400, /is not an SRV seed/],
    ['POST', '/v1/join', { addrs: ['127.0.0.1:1'] }, 502, /no seed could be reached/],
    ['PUT', '/v1/protocol', {}, 400, /body must be \{"protocol": "swim" \| "heartbeat" \| "hybrid"\}/],
    ['PUT', '/v1/protocol', '"swim"', 400, /body must be \{"protocol"/],
    ['PUT', '/v1/protocol', { protocol: 2 }, 400, /body must be \{"protocol"/],
    ['PUT', '/v1/protocol', '{"protocol":', 400, /not valid JSON/],
    ['PUT', '/v1/protocol', { protocol: 'gossip-ish' }, 400, /unknown protocol "gossip-ish": use swim, heartbeat, hybrid/],
    ['PUT', '/v1/pinned', { names: 'peer' }, 400, /body must be \{"names"/],
    ['PUT', '/v1/pinned', { names: [''] }, 400, /body must be \{"names"/],
    ['PUT', '/v1/pinned', { names: ['x'.repeat(300)] }, 400, /must be 1 to 255 characters/],
  ])('%s %s %j answers %i with a JSON error', async (method, path, body, status, message) => {
    const response = await send(method, path, body);
    expect(response.status).toBe(status);
    expect((await response.json()).error).toMatch(message);
  });

  it('unknown routes get 404 with a JSON error', async () => {
    const response = await call('/v2/nothing');
    expect(response.status).toBe(404);
    expect((await response.json()).error).toMatch(/no route GET \/v2\/nothing/);
  });
});

describe('the token rule', () => {
  it('refuses to serve beyond loopback without a token', async () => {
    await expect(start({ name: 'open', http: '0.0.0.0:0' })).rejects.toThrow(/reachable beyond this machine: give --http-token/);
  });

  it('with a token, every request needs the bearer header', async () => {
    const agent = await start({ name: 'guarded', http: '0.0.0.0:0', httpToken: 's3cret' });
    try {
      const base = `http://127.0.0.1:${agent.http.port}`;
      const missing = await request(`${base}/v1/self`);
      expect(missing.status).toBe(401);
      expect((await missing.json()).error).toMatch(/bearer token/);
      expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const ok = await fetch(`${base}/v1/self`, { headers: { authorization: 'Bearer s3cret' } });
      expect(ok.status).toBe(200);
    } finally {
      await agent.close();
    }
  });
});

describe('POST /v1/leave', () => {
  it('answers, leaves (peers see left) and stops the agent', async () => {
    const agent = await start({ name: 'leaver' });
    const peer = await createNode({ name: 'watcher', bind: '127.0.0.1:0', join: [`127.0.0.1:${agent.node.address.port}`], config: CONFIG });
    try {
      await waitFor('the pair', () => agent.node.member('watcher')?.status === 'alive');
      // Bodiless, but sent as JSON like every write.
      const response = await request(`http://127.0.0.1:${agent.http.port}/v1/leave`, { method: 'POST', headers: { 'content-type': 'application/json' } });
      expect(await response.json()).toEqual({ left: true });
      await agent.stopped;
      await waitFor('left at the peer', () => peer.member('leaver')?.status === 'left');
    } finally {
      await peer.shutdown();
    }
  });
});

describe('agent options', () => {
  it.each([
    [{ encrypt: 'c2hvcnQ=' }, /decodes to 5 bytes: it must be 16, 24 or 32/],
    [{ protocol: 'carrier-pigeon' }, /option "protocol" must be one of "swim", "heartbeat", "hybrid", not "carrier-pigeon"/],
    [{ pinned: 'peer' as unknown as string[] }, /option "pinned" must be a list of member names, not "peer"/],
    [{ bind: 'nowhere' }, /is not an address/],
  ] as [AgentOptions, RegExp][])('%j is refused clearly', async (options, message) => {
    await expect(start({ name: 'bad', ...options })).rejects.toThrow(message);
  });
});

describe('closing the agent', () => {
  it('ends open event streams rather than waiting for their clients', async () => {
    const agent = await start({ name: 'watched' });
    const response = await fetch(`http://127.0.0.1:${agent.http.port}/v1/events`);
    const reader = response.body!.getReader();
    await reader.read(); // the stream's opening comment
    await agent.close();
    expect((await reader.read()).done).toBe(true);
  }, 10_000);
});
