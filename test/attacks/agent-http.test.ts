/**
 * The agent's HTTP API against a web page and a greedy client (issue 11, items 00, 8 and 9): a
 * cross-site "simple" POST /v1/leave once stopped the agent, a request with `Host:
 * attacker.example` (DNS rebinding) was served, and nothing bounded the cluster-wide work one
 * client could ask for.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../packages/agent/src/agent/agent.js';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';
import { droppedMetric, start } from './agent-harness.js';

/** A raw HTTP request: fetch() cannot set Host, and sets Origin on its own terms. */
function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; error: string | undefined; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, method, path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let error: string | undefined;
          try {
            error = (JSON.parse(text) as { error?: string }).error;
          } catch {
            // not JSON
          }
          resolve({ status: response.statusCode!, error, headers: response.headers });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe('a web page against a local agent', () => {
  let agent: Agent;
  let peer: HearsayNode;
  let port: number;

  beforeAll(async () => {
    agent = await start({ name: 'victim', httpAllowedHosts: ['agent.test'] });
    port = agent.http.port;
    peer = await createNode({ name: 'peer', bind: '127.0.0.1:0', join: [`127.0.0.1:${agent.node.address.port}`], config: FAST });
    await waitFor('the pair', () => agent.node.member('peer')?.status === 'alive');
  });
  afterAll(async () => {
    await agent.close();
    await peer.shutdown();
  });

  it('a cross-site simple POST /v1/leave (text/plain, a form, no type) is refused; the agent stays in the cluster', async () => {
    const page = { host: `127.0.0.1:${port}`, origin: 'http://evil.example' };
    const crossSite = await raw(port, 'POST', '/v1/leave', { ...page, 'content-type': 'text/plain' }, 'x');
    expect(crossSite.status).toBe(403);
    expect(crossSite.error).toMatch(/cross-origin request from "http:\/\/evil\.example" refused/);
    // The same without Origin (a page's form in some browsers, or no-cors fetch from an opaque origin).
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const simple = await raw(port, 'POST', '/v1/leave', { host: page.host, 'content-type': type }, 'a=b');
      expect(simple.status, type).toBe(415);
      expect(simple.error).toBe(
        `POST /v1/leave changes state: send it with Content-Type: application/json (got "${type.split(';')[0]}"; an empty body is fine)`,
      );
    }
    expect((await raw(port, 'POST', '/v1/leave', { host: page.host })).error).toMatch(/got none/);
    expect((await raw(port, 'PUT', '/v1/protocol', { host: page.host, 'content-type': 'text/plain' }, '{"protocol":"heartbeat"}')).status).toBe(415);
    // An opaque origin (sandboxed frame, file: page) is foreign too, even with JSON.
    expect((await raw(port, 'POST', '/v1/event', { host: page.host, origin: 'null', 'content-type': 'application/json' }, '{"name":"x"}')).status).toBe(403);
    // Reads from a foreign page are refused as well: an event stream holds a slot.
    expect((await raw(port, 'GET', '/v1/events', page)).status).toBe(403);
    expect(agent.node.protocol).toBe('swim');
    expect(peer.member('victim')?.status).toBe('alive');
    expect(await droppedMetric(agent, 'agent', 'api-foreign-origin')).toBe(3);
    expect(await droppedMetric(agent, 'agent', 'api-not-json')).toBe(5);
    // The live view's total counts the agent's drops with the node's.
    const stats = (await (await fetch(`http://127.0.0.1:${port}/v1/stats`)).json()) as { dropped: number };
    expect(stats.dropped).toBeGreaterThanOrEqual(8);
    expect((await raw(port, 'GET', '/v1/self', { host: page.host })).status).toBe(200);
  });

  it('the agent’s own pages (same origin, JSON) and clients without Origin still write', async () => {
    const own = await raw(
      port,
      'PUT',
      '/v1/pinned',
      { host: `localhost:${port}`, origin: `http://localhost:${port}`, 'content-type': 'application/json; charset=utf-8' },
      '{"names":[]}',
    );
    expect(own.status).toBe(200);
    expect((await raw(port, 'PUT', '/v1/pinned', { host: `127.0.0.1:${port}`, 'content-type': 'application/json' }, '{"names":[]}')).status).toBe(200);
    // The origin must match the Host it was sent to, port included.
    expect(
      (await raw(port, 'PUT', '/v1/pinned', { host: `localhost:${port}`, origin: 'http://localhost:1', 'content-type': 'application/json' }, '{"names":[]}'))
        .status,
    ).toBe(403);
  });

  it('DNS rebinding: a Host that is not one of the agent’s names is refused with 421', async () => {
    for (const host of ['attacker.example', `attacker.example:${port}`, 'localhost.attacker.example', '127.0.0.1.nip.io', '[::2]', 'a:b:c']) {
      const answer = await raw(port, 'GET', '/v1/keys', { host });
      expect(answer.status, host).toBe(421);
      expect(answer.error).toMatch(
        /is not a name of this agent \(DNS rebinding\?\): it answers to localhost, 127\.0\.0\.1, \[::1\], agent\.test; add names with --http-allowed-host/,
      );
    }
    const leave = await raw(port, 'POST', '/v1/leave', { host: 'attacker.example', origin: 'http://attacker.example', 'content-type': 'application/json' });
    expect(leave.status).toBe(421);
    expect(await droppedMetric(agent, 'agent', 'api-unknown-host')).toBe(7);
    for (const host of ['localhost', `localhost:${port}`, `127.0.0.1:${port}`, '127.0.0.1', `[::1]:${port}`, '[::1]', 'agent.test', `AGENT.test:${port}`]) {
      expect((await raw(port, 'GET', '/v1/self', { host })).status, host).toBe(200);
    }
    expect(peer.member('victim')?.status).toBe('alive');
  });

  it('caps request bodies and join fan-out', async () => {
    const json = { host: `127.0.0.1:${port}`, 'content-type': 'application/json' };
    const huge = await raw(port, 'POST', '/v1/event', json, JSON.stringify({ name: 'x', payload: 'y'.repeat(100_000) }));
    expect(huge.status).toBe(413);
    expect(huge.error).toMatch(/Request body is too large/);
    const event = await raw(port, 'POST', '/v1/event', json, JSON.stringify({ name: 'x', payload: 'y'.repeat(2000) }));
    expect(event.status).toBe(400);
    expect(event.error).toMatch(/does not fit in one packet/);
    const seeds = Array.from({ length: 65 }, (_, i) => `127.0.0.1:${1000 + i}`);
    const join = await raw(port, 'POST', '/v1/join', json, JSON.stringify({ addrs: seeds }));
    expect(join.status).toBe(400);
    expect(join.error).toBe('at most 64 seeds in one join (65 given): one answering seed is enough');
    const query = await raw(port, 'POST', '/v1/query', json, JSON.stringify({ name: 'x', timeoutMs: 86_400_000 }));
    expect(query.error).toMatch(/timeoutMs must be a number of milliseconds, above 0 and at most 300000/);
  });
});

describe('a client asking for more cluster-wide work than is reasonable', () => {
  let agent: Agent;
  let base: string;
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    agent = await start({ name: 'busy' });
    base = `http://127.0.0.1:${agent.http.port}`;
  });
  afterAll(() => agent.close());

  it('at most 16 requests wait on the cluster at once; the 17th gets 429', async () => {
    const waiting = Array.from({ length: 16 }, () => post('/v1/query', { name: 'slow', timeoutMs: 1500 }));
    await waitFor('16 queries asked', () => agent.node.stats.serf.queriesAsked >= 16);
    const refused = await post('/v1/query', { name: 'one-more', timeoutMs: 100 });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: string }).error).toBe(
      '16 requests are already waiting for the cluster (queries, key operations, joins): retry when one has finished',
    );
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual(Array(16).fill(200));
    expect(await droppedMetric(agent, 'agent', 'api-too-many-waiting')).toBe(1);
    expect((await post('/v1/query', { name: 'after', timeoutMs: 50 })).status).toBe(200);
  });

  it('events, queries and key operations share a rate of 20 a second with bursts of 100', async () => {
    const answers = await Promise.all(Array.from({ length: 150 }, (_, i) => post('/v1/event', { name: 'spam', payload: String(i) })));
    const statuses = answers.map((r) => r.status);
    const limited = statuses.filter((s) => s === 429).length;
    // The burst (less the 17 requests above, refilled since) goes through; the rest is refused.
    expect(limited).toBeGreaterThanOrEqual(30);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(83);
    const refused = answers.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { error: string }).error).toMatch(/^at most 20 cluster-wide requests a second \(bursts of 100\): retry in \d+ ms$/);
    expect(await droppedMetric(agent, 'agent', 'api-rate-limited')).toBe(limited);
    // Reads of this node's own state are not limited.
    expect((await fetch(`${base}/v1/members`)).status).toBe(200);
  });
});

describe('the bearer token guards keys on loopback too', () => {
  it('GET /v1/keys and every key route answer 401 without it', async () => {
    const agent = await start({ name: 'keyed', httpToken: 's3cret', encrypt: Buffer.alloc(32, 7).toString('base64') });
    try {
      const base = `http://127.0.0.1:${agent.http.port}`;
      const json = { 'content-type': 'application/json' };
      const key = JSON.stringify({ key: Buffer.alloc(16, 1).toString('base64') });
      expect((await fetch(`${base}/v1/keys`)).status).toBe(401);
      for (const operation of ['install', 'use', 'remove']) {
        const answer = await fetch(`${base}/v1/keys/${operation}`, { method: 'POST', headers: json, body: key });
        expect(answer.status, operation).toBe(401);
        expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      }
      expect((await fetch(`${base}/v1/keys`, { headers: { authorization: 'Bearer s3cre' } })).status).toBe(401);
      const listed = await fetch(`${base}/v1/keys`, { headers: { authorization: 'Bearer s3cret' } });
      expect(listed.status).toBe(200);
      expect(((await listed.json()) as { keys: Record<string, number> }).keys).toEqual({ [Buffer.alloc(32, 7).toString('base64')]: 1 });
      // The live view's shell is the only thing served without it.
      expect((await fetch(`${base}/ui`)).status).toBe(200);
    } finally {
      await agent.close();
    }
  });
});
