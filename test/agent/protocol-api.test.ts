import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent, type AgentOptions } from '../../packages/agent/src/agent/agent.js';
import { readConfigFile } from '../../packages/agent/src/agent/config-file.js';
import { mergeOptions } from '../../packages/agent/src/cli/agent-command.js';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

/** A short suspicion (multiplier 2); heartbeats every 200 ms, suspect after 1.5 s of silence, failed after 3 s. */
const CONFIG = { ...FAST, suspicionMult: 2, heartbeatIntervalMs: 200, suspectAfterMs: 1500, failAfterMs: 3000 };
const silent = pino({ level: 'silent' });

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON answers, read freely; a wrong shape fails the assertion that reads it.
type AnyJson = any;

function start(options: AgentOptions): Promise<Agent> {
  return startAgent({ bind: '127.0.0.1:0', http: '127.0.0.1:0', config: CONFIG, ...options }, silent);
}

/** One sample of a metric in Prometheus text (labels written as in the exposition). */
function sample(text: string, name: string): number {
  const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1]);
}

describe('GET/PUT /v1/protocol on a live pair', () => {
  let agent: Agent;
  let peer: HearsayNode;
  let base: string;
  const failures: string[] = [];
  const get = async (path: string): Promise<AnyJson> => (await fetch(`${base}${path}`)).json();
  const put = (path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    agent = await start({ name: 'hb-agent' });
    base = `http://127.0.0.1:${agent.http.port}`;
    peer = await createNode({ name: 'peer', bind: '127.0.0.1:0', config: CONFIG, join: [`127.0.0.1:${agent.node.address.port}`] });
    for (const node of [agent.node, peer]) node.on('failed', (m) => failures.push(`${node.name} failed ${m.name}`));
    await waitFor('the pair', () => agent.node.member('peer')?.status === 'alive' && peer.member('hb-agent')?.status === 'alive');
  });
  afterAll(async () => {
    await agent.close();
    await peer.shutdown();
  });

  // Switch epochs are a hybrid logical clock in seconds: each above the last, near Date.now().
  let lastEpoch = 0;

  it('reports the detector the agent started with', async () => {
    expect(await get('/v1/protocol')).toEqual({ protocol: 'swim', epoch: 0, origin: null, allToAll: false, pinned: [] });
  });

  it('PUT switches the whole cluster; SSE and metrics show it', async () => {
    const events: string[] = [];
    const sse = http.get(`${base}/v1/events`, (response) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => events.push(chunk));
    });
    try {
      await waitFor('the event stream to open', () => events.length > 0);
      const response = await put('/v1/protocol', { protocol: 'heartbeat' });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { epoch: number };
      expect(answer).toEqual({ protocol: 'heartbeat', epoch: expect.any(Number), origin: 'hb-agent' });
      expect(Math.abs(answer.epoch - Date.now() / 1000)).toBeLessThan(60);
      lastEpoch = answer.epoch;
      await waitFor('the peer to adopt it', () => peer.protocol === 'heartbeat');
      expect(peer.protocolSwitch).toEqual({ epoch: lastEpoch, origin: 'hb-agent' });
      expect(events.join('')).toContain(`event: protocol\ndata: {"protocol":"heartbeat","epoch":${lastEpoch},"origin":"hb-agent"}\n\n`);
    } finally {
      sse.destroy();
    }
    await waitFor('heartbeat tables both ways', () => {
      const { core } = agent.node.stats;
      return core.heartbeatTablesReceived > 0 && core.heartbeatTablesSent > 0;
    });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(sample(text, 'hearsay_protocol{protocol="heartbeat"}')).toBe(1);
    expect(sample(text, 'hearsay_protocol{protocol="swim"}')).toBe(0);
    expect(sample(text, 'hearsay_protocol_epoch')).toBe(lastEpoch);
    expect(sample(text, 'hearsay_protocol_switches_total')).toBe(1);
    expect(sample(text, 'hearsay_heartbeat_tables_sent_total')).toBeGreaterThan(0);
    expect(sample(text, 'hearsay_heartbeat_tables_received_total')).toBeGreaterThan(0);
  });

  it('a switch asked for elsewhere reaches the agent; hybrid measures the RTT shown in /v1/members', async () => {
    peer.setProtocol('hybrid');
    await waitFor('hybrid at the agent', async () => (await get('/v1/protocol')).protocol === 'hybrid');
    const state = await get('/v1/protocol');
    expect(state).toEqual({ protocol: 'hybrid', epoch: expect.any(Number), origin: 'peer', allToAll: true, pinned: [] });
    expect(state.epoch).toBeGreaterThan(lastEpoch);
    lastEpoch = state.epoch;
    await waitFor('a direct heartbeat answered', () => agent.node.stats.core.directAcks > 0);
    const listed = (await get('/v1/members')).find((m: AnyJson) => m.name === 'peer');
    expect(listed.rttMs).toBeGreaterThanOrEqual(0);
    expect(listed.rttMs).toBeLessThan(500);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(sample(text, 'hearsay_direct_heartbeats_total')).toBeGreaterThan(0);
    expect(sample(text, 'hearsay_direct_acks_total')).toBeGreaterThan(0);
    expect(text).toMatch(/^hearsay_direct_acks_late_total \d+$/m);
  });

  it('PUT /v1/pinned replaces this node’s pinned members only', async () => {
    const response = await put('/v1/pinned', { names: ['peer'] });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ pinned: ['peer'] });
    expect((await get('/v1/protocol')).pinned).toEqual(['peer']);
    expect(peer.pinned).toEqual([]);
  });

  it('switching back to SWIM keeps both members alive, with no failure on the way', async () => {
    const answer = (await (await put('/v1/protocol', { protocol: 'swim' })).json()) as { epoch: number };
    expect(answer).toEqual({ protocol: 'swim', epoch: expect.any(Number), origin: 'hb-agent' });
    expect(answer.epoch).toBeGreaterThan(lastEpoch);
    await waitFor('SWIM at the peer', () => peer.protocol === 'swim');
    const probes = agent.node.stats.core.probes;
    await waitFor('SWIM probes again', () => agent.node.stats.core.probes > probes);
    expect((await get('/v1/members')).map((m: AnyJson) => m.status)).toEqual(['alive', 'alive']);
    expect(failures).toEqual([]);
  });
});

describe('protocol options and the token rule', () => {
  it('an agent starts with the configured detector and pins', async () => {
    const agent = await start({ name: 'configured', protocol: 'hybrid', pinned: ['someone'] });
    try {
      const body = await (await fetch(`http://127.0.0.1:${agent.http.port}/v1/protocol`)).json();
      expect(body).toEqual({ protocol: 'hybrid', epoch: 0, origin: null, allToAll: true, pinned: ['someone'] });
    } finally {
      await agent.close();
    }
  });

  it('the config file takes protocol and pinned; flags win', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearsay-agent-'));
    try {
      const path = join(dir, 'agent.json');
      writeFileSync(path, JSON.stringify({ protocol: 'heartbeat', pinned: ['a', 'b'] }));
      const file = await readConfigFile(path);
      expect(mergeOptions(file, {})).toMatchObject({ protocol: 'heartbeat', pinned: ['a', 'b'] });
      expect(mergeOptions(file, { protocol: 'swim', pin: ['c'] })).toMatchObject({ protocol: 'swim', pinned: ['c'] });
      // Protocol settings: milliseconds as the key names say, or a duration with its unit.
      writeFileSync(path, JSON.stringify({ config: { probeIntervalMs: '1.5s', probeTimeoutMs: 400, disableTcpPings: true, suspicionMult: 5 } }));
      expect((await readConfigFile(path)).config).toEqual({ probeIntervalMs: 1500, probeTimeoutMs: 400, disableTcpPings: true, suspicionMult: 5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PUT /v1/protocol needs the bearer token when the agent has one', async () => {
    const agent = await start({ name: 'guarded', http: '0.0.0.0:0', httpToken: 's3cret' });
    try {
      const url = `http://127.0.0.1:${agent.http.port}/v1/protocol`;
      const body = JSON.stringify({ protocol: 'heartbeat' });
      const headers = { 'content-type': 'application/json' };
      expect((await fetch(url, { method: 'PUT', headers, body })).status).toBe(401);
      expect(agent.node.protocol).toBe('swim');
      const ok = await fetch(url, { method: 'PUT', headers: { ...headers, authorization: 'Bearer s3cret' }, body });
      expect(ok.status).toBe(200);
      expect(agent.node.protocol).toBe('heartbeat');
    } finally {
      await agent.close();
    }
  });
});
