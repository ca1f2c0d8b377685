import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../packages/agent/src/agent/agent.js';
import { createAgentStats } from '../../packages/agent/src/agent/agent-stats.js';
import { readConfigFile } from '../../packages/agent/src/agent/config-file.js';
import { eventRecord } from '../../packages/agent/src/agent/event-records.js';
import { EventWebhook, WEBHOOK_USER_AGENT } from '../../packages/agent/src/agent/event-webhook.js';
import { createNode, OptionError, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { hearsay } from '../cli/cluster-harness.js';
import { capturedLog, droppedMetric, start } from '../attacks/agent-harness.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: { id: number; type: string; time: string; data: { name?: string; payload?: string } };
}

/** A webhook receiver on 127.0.0.1, port 0, answering each request as `answer` says (undefined: never). */
async function receiver(answer: (index: number) => number | undefined = () => 200) {
  const received: Received[] = [];
  let requests = 0;
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const status = answer(requests++);
      if (status === undefined) {
        hanging.add(response);
        return;
      }
      if (status < 300) received.push({ headers: request.headers, body: JSON.parse(body) });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const close = async () => {
    for (const response of hanging) response.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { url, received, requests: () => requests, close };
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function agentWithPeers(options: { webhooks: string[]; peers: number; log?: ReturnType<typeof capturedLog>['log'] }) {
  const agent: Agent = await start({ name: 'hooked', eventWebhooks: options.webhooks }, options.log);
  cleanup.push(() => agent.close());
  const peers: HearsayNode[] = [];
  for (let i = 0; i < options.peers; i++) {
    const peer = await createNode({ name: `peer-${i}`, bind: '127.0.0.1:0', config: FAST, join: [`127.0.0.1:${agent.node.address.port}`] });
    cleanup.push(() => peer.shutdown());
    peers.push(peer);
  }
  return { agent, peers };
}

describe('--event-webhook', () => {
  it('POSTs each event, in order, as the JSON record GET /v1/events/recent serves', async () => {
    const hook = await receiver();
    cleanup.push(hook.close);
    const { agent, peers } = await agentWithPeers({ webhooks: [hook.url], peers: 2 });
    for (let i = 1; i <= 5; i++) peers[0]!.broadcast(Buffer.from(`n${i}`), 'seq');
    await waitFor('two joins and five user events at the webhook', () => hook.received.filter((r) => r.body.type === 'user').length === 5, {
      detail: () => JSON.stringify(hook.received.map((r) => r.body.type)),
    });
    const joins = hook.received.filter((r) => r.body.type === 'join').map((r) => r.body.data.name);
    expect(joins).toEqual(expect.arrayContaining(['peer-0', 'peer-1']));
    const ids = hook.received.map((r) => r.body.id);
    expect(ids).toEqual(ids.map((_, index) => ids[0]! + index));
    // Gossip may bring the broadcasts in any order; the webhook gets them in the order the agent saw them, its ids'.
    expect(
      hook.received
        .filter((r) => r.body.type === 'user')
        .map((r) => r.body.data.payload)
        .sort(),
    ).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    for (const { headers } of hook.received) {
      expect(headers['content-type']).toBe('application/json');
      expect(headers['user-agent']).toBe(WEBHOOK_USER_AGENT);
    }
    expect(WEBHOOK_USER_AGENT).toMatch(/^hearsay\/\d+\.\d+\.\d+/);
    const recent = (await (await fetch(`http://127.0.0.1:${agent.http.port}/v1/events/recent`)).json()) as { events: Received['body'][] };
    expect(hook.received.map((r) => r.body)).toEqual(recent.events.filter((event) => event.id >= ids[0]!).slice(0, ids.length));
  });

  it('retries a failing webhook with backoff until it recovers, and it gets every event in order', async () => {
    // The first three requests fail: 503, 503, then a 429.
    const hook = await receiver((index) => [503, 503, 429][index] ?? 200);
    cleanup.push(hook.close);
    const captured = capturedLog();
    const { peers } = await agentWithPeers({ webhooks: [hook.url], peers: 1, log: captured.log });
    for (let i = 1; i <= 3; i++) peers[0]!.broadcast(Buffer.from(`r${i}`), 'seq');
    await waitFor('the three user events after the retries', () => hook.received.filter((r) => r.body.type === 'user').length === 3, {
      detail: () => `${hook.requests()} requests`,
    });
    const ids = hook.received.map((r) => r.body.id);
    expect(ids).toEqual(ids.map((_, index) => ids[0]! + index));
    expect(ids[0]).toBe(1);
    expect(
      hook.received
        .filter((r) => r.body.type === 'user')
        .map((r) => r.body.data.payload)
        .sort(),
    ).toEqual(['r1', 'r2', 'r3']);
    const retries = captured.lines().filter((line) => line.msg === 'event webhook answered an error: retrying');
    expect(retries.map((line) => line.status)).toEqual([503, 503, 429]);
    expect(retries.map((line) => line.attempt)).toEqual([1, 2, 3]);
  });

  it('sends the credentials of the URL as basic authentication, not in the URL', async () => {
    const hook = await receiver();
    cleanup.push(hook.close);
    const stats = createAgentStats();
    const url = new URL(hook.url);
    url.username = 'hook';
    url.password = 's3cret:x';
    const webhook = new EventWebhook(url, { log: capturedLog().log, stats });
    cleanup.push(() => webhook.close());
    expect(webhook.url.href).toBe(hook.url);
    webhook.push(eventRecord(1, 'user', { name: 'n', payload: '' }, new Date()));
    await waitFor('the event', () => hook.received.length === 1);
    expect(hook.received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('hook:s3cret:x').toString('base64')}`);
  });

  it('does not retry an event the webhook refuses with a 4xx or redirects, and counts it', async () => {
    const hook = await receiver((index) => [400, 302][index] ?? 200);
    cleanup.push(hook.close);
    const { agent, peers } = await agentWithPeers({ webhooks: [hook.url], peers: 2 });
    peers[0]!.broadcast(Buffer.from('after'), 'seq');
    await waitFor('the user event', () => hook.received.some((r) => r.body.type === 'user'));
    // The refused first events (ids 1 and 2) never came back.
    expect(hook.received[0]!.body.id).toBe(3);
    expect(await droppedMetric(agent, 'agent', 'event-webhook-refused')).toBe(2);
  });

  it('a webhook that never answers does not stall the agent', async () => {
    const hook = await receiver(() => undefined);
    cleanup.push(hook.close);
    const { agent } = await agentWithPeers({ webhooks: [hook.url], peers: 3 });
    const base = `http://127.0.0.1:${agent.http.port}`;
    await waitFor('four members alive at the agent', async () => {
      const members = (await (await fetch(`${base}/v1/members`, { signal: AbortSignal.timeout(5000) })).json()) as { status: string }[];
      return members.filter((m) => m.status === 'alive').length === 4;
    });
    // The webhook has the first event, and holds it unanswered all along.
    expect(hook.requests()).toBeGreaterThanOrEqual(1);
    expect(agent.node.members().filter((m) => m.status === 'alive')).toHaveLength(4);
  });

  it('keeps at most maxQueued events waiting, dropping the oldest and counting them', async () => {
    const hook = await receiver(() => undefined);
    cleanup.push(hook.close);
    const stats = createAgentStats();
    const captured = capturedLog();
    const policy = { maxQueued: 3, maxAttempts: 2, firstBackoffMs: 10, maxBackoffMs: 10, timeoutMs: 60_000 };
    const webhook = new EventWebhook(new URL(hook.url), { log: captured.log, stats }, policy);
    cleanup.push(() => webhook.close());
    for (let id = 1; id <= 10; id++) webhook.push(eventRecord(id, 'user', { name: 'n', payload: String(id) }, new Date()));
    // One in flight, three waiting, six dropped; one warning, however many were dropped.
    expect(webhook.queued).toBe(3);
    expect(stats.dropped['event-webhook-queue-full']).toBe(6);
    expect(captured.lines().filter((line) => line.msg.includes('oldest waiting event dropped'))).toHaveLength(1);
    await waitFor('the first request at the webhook', () => hook.requests() === 1);
  });

  it('retries a webhook that refuses connections, logging why, until it gives the event up', async () => {
    const hook = await receiver();
    await hook.close(); // its port now refuses connections
    const stats = createAgentStats();
    const captured = capturedLog();
    const policy = { maxQueued: 10, maxAttempts: 3, firstBackoffMs: 20, maxBackoffMs: 40, timeoutMs: 5000 };
    const webhook = new EventWebhook(new URL(hook.url), { log: captured.log, stats }, policy);
    cleanup.push(() => webhook.close());
    webhook.push(eventRecord(1, 'user', { name: 'n', payload: '' }, new Date()));
    await waitFor('the event given up', () => stats.dropped['event-webhook-gave-up'] === 1);
    const tries = captured.lines().filter((line) => line.msg === 'event webhook unreachable: retrying');
    expect(tries.map((line) => [line.attempt, line.err])).toEqual([
      [1, 'ECONNREFUSED'],
      [2, 'ECONNREFUSED'],
      [3, 'ECONNREFUSED'],
    ]);
  });

  it('refuses a URL that is not http or https, at start and from the CLI (exit 2)', async () => {
    await expect(start({ name: 'bad-hook', eventWebhooks: ['ftp://example.test/x'] })).rejects.toThrow(OptionError);
    await expect(start({ name: 'bad-hook', eventWebhooks: ['not a url'] })).rejects.toThrow(/event webhook "not a url" is not a URL/);
    const run = await hearsay({}, ['agent', '--bind', '127.0.0.1:0', '--event-webhook', 'file:///etc/passwd']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('event webhook "file:///etc/passwd" must be an http:// or https:// URL, not file');
  });

  it('takes the webhooks from a config file’s eventWebhooks, a list of strings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hearsay-webhook-'));
    cleanup.push(() => rm(dir, { recursive: true }));
    const file = join(dir, 'agent.json');
    await writeFile(file, JSON.stringify({ eventWebhooks: ['http://127.0.0.1:9/hook'] }));
    expect((await readConfigFile(file)).eventWebhooks).toEqual(['http://127.0.0.1:9/hook']);
    await writeFile(file, JSON.stringify({ eventWebhooks: 'http://127.0.0.1:9/hook' }));
    await expect(readConfigFile(file)).rejects.toThrow(/"eventWebhooks" must be a list of http:\/\/ or https:\/\/ URLs/);
  });
});
