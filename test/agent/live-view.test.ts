import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent, type AgentOptions } from '../../packages/agent/src/agent/agent.js';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
/** A short suspicion (multiplier 2), so that the crashed member is failed within seconds. */
const CONFIG = { ...FAST, suspicionMult: 2 };
const silent = pino({ level: 'silent' });
const TOKEN = 's3cret';

function start(options: AgentOptions): Promise<Agent> {
  return startAgent({ bind: '127.0.0.1:0', http: '127.0.0.1:0', profile: 'local', config: CONFIG, ...options }, silent);
}

const baseOf = (agent: Agent) => `http://127.0.0.1:${agent.http.port}`;
const gossipOf = (agent: Agent) => `127.0.0.1:${agent.node.address.port}`;

type Stats = Record<
  | 'broadcastQueue'
  | 'bytesIn'
  | 'bytesOut'
  | 'dropped'
  | 'failuresDeclared'
  | 'healthScore'
  | 'packetsIn'
  | 'packetsOut'
  | 'probes'
  | 'probesFailed'
  | 'refutations'
  | 'suspicions',
  number
>;

describe('the live view’s routes and GET /v1/stats', () => {
  let agent: Agent;
  let peer: HearsayNode;
  let base: string;

  beforeAll(async () => {
    agent = await start({ name: 'stats-node' });
    base = baseOf(agent);
    peer = await createNode({ name: 'stats-peer', bind: '127.0.0.1:0', config: CONFIG, join: [gossipOf(agent)] });
  });
  afterAll(async () => {
    await agent.close();
    await peer.shutdown();
  });

  it('GET / redirects to /ui', async () => {
    const response = await fetch(`${base}/`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/ui');
  });

  it('GET /ui serves one HTML page that fetches nothing beyond this agent', async () => {
    const response = await fetch(`${base}/ui`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/https?:\/\/|<script src|<link rel="stylesheet"/);
  });

  it('GET /v1/stats has the live counters, and they move', async () => {
    const stats = async (): Promise<Stats> => (await fetch(`${base}/v1/stats`)).json() as Promise<Stats>;
    const first = await stats();
    expect(Object.keys(first).sort()).toEqual(
      [
        'broadcastQueue',
        'bytesIn',
        'bytesOut',
        'dropped',
        'failuresDeclared',
        'healthScore',
        'packetsIn',
        'packetsOut',
        'probes',
        'probesFailed',
        'refutations',
        'suspicions',
      ].sort(),
    );
    for (const value of Object.values(first)) expect(Number.isInteger(value) && value >= 0).toBe(true);
    await waitFor('probes and traffic to grow', async () => {
      const later = await stats();
      return later.probes > first.probes && later.packetsIn > first.packetsIn && later.bytesOut > first.bytesOut;
    });
  });

  it('the OpenAPI document lists the new routes', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/', '/ui', '/v1/stats']));
  });

  it('with a token, the page shell needs none; its data does', async () => {
    const guarded = await start({ name: 'stats-guarded', httpToken: TOKEN });
    try {
      const guardedBase = baseOf(guarded);
      expect((await fetch(`${guardedBase}/`, { redirect: 'manual' })).status).toBe(302);
      expect((await fetch(`${guardedBase}/ui`)).status).toBe(200);
      expect((await fetch(`${guardedBase}/ui?x`)).status).toBe(200);
      expect((await fetch(`${guardedBase}/v1/stats`)).status).toBe(401);
      expect((await fetch(`${guardedBase}/v1/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe.skipIf(!existsSync(CHROMIUM))('the live view in Chromium', () => {
  let browser: Browser;
  let alpha: Agent;
  let bravo: Agent;
  let charlie: Agent;
  const agents: Agent[] = [];
  const nodes: HearsayNode[] = [];
  let page: Page;
  const pageProblems: string[] = [];
  let contexts: BrowserContext[] = [];

  async function openPage(url: string): Promise<Page> {
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    const opened = await context.newPage();
    const response = await opened.goto(url);
    expect(response?.status()).toBe(200);
    return opened;
  }
  const row = (on: Page, name: string, status?: string) => on.locator(`#members tr[data-name="${name}"]${status ? `[data-status="${status}"]` : ''}`);
  const live = (on: Page) => on.locator('#connection[data-state="live"]').waitFor();

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
    alpha = await start({ name: 'alpha', tags: { role: 'ui' } });
    bravo = await start({ name: 'bravo', join: [gossipOf(alpha)] });
    charlie = await start({ name: 'charlie', join: [gossipOf(alpha)] });
    agents.push(alpha, bravo, charlie);
    await waitFor('three alive members everywhere', () => agents.every((agent) => agent.node.members().filter((m) => m.status === 'alive').length === 3));
    // The page of alpha stays open through the tests below, as a user would keep it.
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(error.message));
    page.on('console', (message) => {
      if (/Content Security Policy/.test(message.text())) pageProblems.push(message.text());
    });
    expect((await page.goto(`${baseOf(alpha)}/`))?.status()).toBe(200);
  });
  afterEach(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    contexts = [];
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(agents.map((agent) => agent.close()));
    await Promise.all(nodes.map((node) => node.shutdown()));
  });

  it('shows this agent, its detector, the members alive and its counters', async () => {
    expect(page.url()).toBe(`${baseOf(alpha)}/ui`);
    await live(page);
    for (const name of ['alpha', 'bravo', 'charlie']) await row(page, name, 'alive').waitFor();
    expect(await page.locator('#members td.name').allTextContents()).toEqual(['alpha', 'bravo', 'charlie']);
    expect(await page.locator('#count-alive').textContent()).toBe('3');
    expect(await page.locator('#count-failed').textContent()).toBe('0');
    expect(await page.locator('#self-name').textContent()).toBe('alpha');
    expect(await page.locator('#self-address').textContent()).toBe(gossipOf(alpha));
    expect(await page.locator('#protocol').textContent()).toBe('swim');
    expect(await row(page, 'alpha').locator('td.address').textContent()).toBe(gossipOf(alpha));
    expect(await row(page, 'alpha').locator('.tag').allTextContents()).toEqual(['role=ui']);
    expect(await page.locator('#stat-probes').textContent()).toMatch(/^\d+$/);
    expect(await page.locator('#stat-healthScore').textContent()).toMatch(/^\d+$/);
  });

  it('renders member-supplied names and tags as text', async () => {
    const name = '<img src=x onerror="window.hearsayInjected=1">';
    const evil = await createNode({ name, bind: '127.0.0.1:0', config: CONFIG, tags: { note: '<b>bold</b>' }, join: [gossipOf(alpha)] });
    nodes.push(evil);
    // Its join reaches the page through the event stream: the log renders it too.
    await page.locator('#events li', { hasText: name }).first().waitFor();
    await page.locator('#count-alive', { hasText: /^4$/ }).waitFor();
    expect(await page.locator('#members td.name').allTextContents()).toContain(name);
    expect(await page.locator('#members .tag').allTextContents()).toContain('note=<b>bold</b>');
    expect(await page.locator('img, #members b, #events b').count()).toBe(0);
    expect(await page.evaluate('window.hearsayInjected')).toBeUndefined();
  });

  it('broadcasts and queries that reach the agent show in the log; the page broadcasts events too', async () => {
    const atBravo: string[] = [];
    bravo.node.on('message', (payload, name) => atBravo.push(`${name}=${Buffer.from(payload).toString()}`));
    await page.locator('#event-name').fill('release');
    await page.locator('#event-payload').fill('r7');
    await page.locator('#event-form button').click();
    await page.locator('#event-outcome', { hasText: /event release sent \(2 bytes\)/ }).waitFor();
    await waitFor('the page’s event at bravo', () => atBravo.includes('release=r7'));
    bravo.node.broadcast(Buffer.from('v3'), 'deploy');
    await page
      .locator('#events li', { hasText: /user deploy: v3$/ })
      .first()
      .waitFor();
    void bravo.node.query('uptime', Buffer.from('now'), { timeoutMs: 300 });
    await page
      .locator('#events li', { hasText: /query uptime from bravo: now/ })
      .first()
      .waitFor();
  });

  it('a crashed member turns failed in the table, and the log shows it', async () => {
    await charlie.close();
    await row(page, 'charlie', 'failed').waitFor();
    expect(await row(page, 'charlie').locator('.status').textContent()).toBe('failed');
    await page.locator('#count-failed', { hasText: /^1$/ }).waitFor();
    await page
      .locator('#events li', { hasText: /failed charlie/ })
      .first()
      .waitFor();
  });

  it('the protocol control switches the whole cluster', async () => {
    await page.locator('#protocol-choice').selectOption('heartbeat');
    await page.locator('#protocol-form button').click();
    const protocolOf = async (agent: Agent) => ((await (await fetch(`${baseOf(agent)}/v1/protocol`)).json()) as { protocol: string }).protocol;
    await waitFor('bravo to run heartbeat', async () => (await protocolOf(bravo)) === 'heartbeat');
    await page.locator('#protocol', { hasText: /^heartbeat$/ }).waitFor();
    // Newest first: the switch is logged above the earlier failure.
    await page
      .locator('#events li', { hasText: /protocol → heartbeat/ })
      .first()
      .waitFor();
    const log = await page.locator('#events li').allTextContents();
    const switched = log.findIndex((entry) => /protocol → heartbeat/.test(entry));
    const failed = log.findIndex((entry) => /failed charlie/.test(entry));
    expect(switched).toBeLessThan(failed);
    expect(pageProblems).toEqual([]);
  });

  describe('with --http-token', () => {
    let guarded: Agent;
    beforeAll(async () => {
      guarded = await start({ name: 'guarded', httpToken: TOKEN });
      agents.push(guarded);
    });

    it('loads the shell, asks for the token, then shows the members', async () => {
      const view = await openPage(`${baseOf(guarded)}/ui`);
      const form = view.locator('#token-panel');
      await form.waitFor();
      await view.locator('#connection[data-state="token"]').waitFor();
      await view.locator('#token-input').fill('wrong');
      await view.locator('#token-form button').click();
      await view.locator('#token-message', { hasText: 'refused' }).waitFor();
      await view.locator('#token-input').fill(TOKEN);
      await view.locator('#token-form button').click();
      await row(view, 'guarded', 'alive').waitFor();
      await live(view);
      expect(await form.isHidden()).toBe(true);
    });

    it('takes the token from the URL fragment and drops it from the address bar', async () => {
      const view = await openPage(`${baseOf(guarded)}/#token=${TOKEN}`);
      await row(view, 'guarded', 'alive').waitFor();
      await live(view);
      expect(view.url()).toBe(`${baseOf(guarded)}/ui`);
      expect(await view.locator('#token-panel').isHidden()).toBe(true);
    });

    it('shows “disconnected — retrying” while the agent is down, and recovers by itself', async () => {
      const view = await openPage(`${baseOf(guarded)}/ui#token=${TOKEN}`);
      await live(view);
      const { port } = guarded.http;
      await guarded.close();
      await view.locator('#connection[data-state="disconnected"]', { hasText: 'disconnected — retrying' }).waitFor();
      // The same HTTP port, a new node: the page finds it again with the token it kept.
      guarded = await start({ name: 'guarded', httpToken: TOKEN, http: `127.0.0.1:${port}` });
      agents.push(guarded);
      await live(view);
      await view.locator(`#members tr[data-name="guarded"] td.address`, { hasText: gossipOf(guarded) }).waitFor();
    });
  });
});
