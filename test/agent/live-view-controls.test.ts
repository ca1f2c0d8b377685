/**
 * The live view's operator controls in Debian's Chromium: tags of this agent, force-leave on a
 * failed row, a member's timeline (its verdict history), the members filters, and the event log
 * kept across page loads. The tags and force-leave assertions need GET/PUT/DELETE /v1/tags and
 * POST /v1/force-leave, the timeline GET /v1/members/{name}/history.
 */
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../packages/agent/src/agent/agent.js';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
/** A short suspicion (multiplier 2), so that the crashed member is failed within seconds. */
const CONFIG = { ...FAST, suspicionMult: 2 };

describe.skipIf(!existsSync(CHROMIUM))('the live view’s controls in Chromium', () => {
  let browser: Browser;
  let alpha: Agent;
  let base: string;
  const nodes: HearsayNode[] = [];
  let page: Page;
  const pageProblems: string[] = [];

  const row = (name: string, status?: string) => page.locator(`#members tr[data-name="${name}"]${status ? `[data-status="${status}"]` : ''}`);
  const shownNames = () => page.locator('#members td.name').allTextContents();
  /** The ids of the events in the page's log, as shown (newest first). */
  const eventIds = async () => Promise.all((await page.locator('#events li[data-id]').all()).map(async (item) => Number(await item.getAttribute('data-id'))));
  const tagsOfAlpha = async () => ((await (await fetch(`${base}/v1/tags`)).json()) as { tags: Record<string, string> }).tags;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
    alpha = await startAgent(
      { name: 'alpha', bind: '127.0.0.1:0', http: '127.0.0.1:0', profile: 'local', config: CONFIG, tags: { role: 'ui' } },
      pino({ level: 'silent' }),
    );
    base = `http://127.0.0.1:${alpha.http.port}`;
    const seed = `127.0.0.1:${alpha.node.address.port}`;
    for (const [name, role] of [
      ['bravo', 'db'],
      ['charlie', 'web'],
      ['delta', 'web'],
    ] as const) {
      nodes.push(await createNode({ name, bind: '127.0.0.1:0', config: CONFIG, tags: { role }, join: [seed] }));
    }
    await waitFor('four alive members at alpha', () => alpha.node.members().filter((m) => m.status === 'alive').length === 4);
    const context = await browser.newContext();
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(error.message));
    page.on('console', (message) => {
      if (/Content Security Policy/.test(message.text())) pageProblems.push(message.text());
    });
    expect((await page.goto(`${base}/ui`))?.status()).toBe(200);
    await page.locator('#connection[data-state="live"]').waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await alpha?.close();
    await Promise.all(nodes.map((node) => node.shutdown()));
  });

  it('sets and deletes this agent’s tags, and shows the agent’s error for tags it refuses', async () => {
    await page.locator('#tags-list .tag[data-key="role"]', { hasText: 'role=ui' }).waitFor();
    await page.locator('#tag-key').fill('zone');
    await page.locator('#tag-value').fill('eu-1');
    await page.locator('#tag-form button').click();
    await page.locator('#tags-outcome', { hasText: 'tag zone=eu-1 set' }).waitFor();
    expect(await tagsOfAlpha()).toEqual({ role: 'ui', zone: 'eu-1' });
    await page.locator('#tags-list .tag[data-key="zone"]', { hasText: 'zone=eu-1' }).waitFor();
    // The table follows too, by the next poll.
    await row('alpha').locator('.tag', { hasText: 'zone=eu-1' }).waitFor();

    await page.locator('#tags-list .tag[data-key="zone"] button.delete-tag').click();
    await page.locator('#tags-outcome', { hasText: 'tag zone deleted' }).waitFor();
    expect(await tagsOfAlpha()).toEqual({ role: 'ui' });
    expect(await page.locator('#tags-list .tag[data-key="zone"]').count()).toBe(0);

    await page.locator('#tag-key').fill('blob');
    await page.locator('#tag-value').fill('x'.repeat(600));
    await page.locator('#tag-form button').click();
    const refused = page.locator('#tags-outcome.error', { hasText: /^set failed: .*512/ });
    await refused.waitFor();
    expect(await tagsOfAlpha()).toEqual({ role: 'ui' });
  });

  it('filters the members table by status, name and tag', async () => {
    for (const name of ['alpha', 'bravo', 'charlie', 'delta']) await row(name, 'alive').waitFor();
    const name = page.locator('#filter-name');
    const tag = page.locator('#filter-tag');
    await name.fill('rav');
    await waitFor('bravo alone', async () => (await shownNames()).join() === 'bravo');
    await page.locator('#filter-outcome', { hasText: '1 of 4 members shown' }).waitFor();
    await name.fill('/^(alpha|delta)$/');
    await waitFor('alpha and delta', async () => (await shownNames()).join() === 'alpha,delta');
    await name.fill('/(/');
    await page.locator('#filter-outcome.error', { hasText: /^bad filter: / }).waitFor();
    await name.fill('');
    await tag.fill('role=web');
    await waitFor('the web members', async () => (await shownNames()).join() === 'charlie,delta');
    await tag.fill('role=/^(db|ui)$/');
    await waitFor('the db and ui members', async () => (await shownNames()).join() === 'alpha,bravo');
    await tag.fill('role=we');
    await waitFor('no member: a plain tag value matches exactly', async () => (await shownNames()).length === 0);
    await tag.fill('');
    await page.locator('#filter-status').selectOption('suspect');
    await waitFor('no suspect member', async () => (await shownNames()).length === 0);
    await page.locator('#filter-status').selectOption('');
    await waitFor('every member again', async () => (await shownNames()).join() === 'alpha,bravo,charlie,delta');
  });

  it('keeps the event log across a reload, without duplicates', async () => {
    nodes[0]!.broadcast(Buffer.from('r1'), 'before-reload');
    const before = page.locator('#events li', { hasText: /user before-reload: r1$/ });
    await before.waitFor();
    const idsBefore = await eventIds();
    await page.reload();
    await page.locator('#connection[data-state="live"]').waitFor();
    // Shown from GET /v1/events/recent: the joins of the start and the broadcast, once each.
    await before.waitFor();
    await page
      .locator('#events li', { hasText: /join bravo/ })
      .first()
      .waitFor();
    nodes[0]!.broadcast(Buffer.from('r2'), 'after-reload');
    await page.locator('#events li', { hasText: /user after-reload: r2$/ }).waitFor();
    const ids = await eventIds();
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => b - a)); // newest first
    expect(ids).toEqual(expect.arrayContaining(idsBefore));
    expect(await before.count()).toBe(1);
  });

  it('a failed member’s row has a force-leave button; once confirmed, the member is left', async () => {
    const charlie = nodes[1]!;
    await charlie.shutdown();
    await row('charlie', 'failed').waitFor();
    // Its timeline (GET /v1/members/charlie/history, fetched when opened): suspected, then failed.
    await row('charlie').locator('button.history').click();
    const timeline = page.locator('#members tr.history-row[data-history-for="charlie"] ol.timeline');
    await timeline.locator('li .outcome.failed', { hasText: /^failed after [\d.]+ m?s, declared by (this node|bravo|delta)$/ }).waitFor();
    expect(await timeline.locator('li .opening').first().textContent()).toMatch(
      /suspected \(incarnation \d+, health \d+\) by (this node: direct ping no ack in|a rumour from)/,
    );
    await row('charlie').locator('button.history', { hasText: 'hide history' }).click();
    await page.locator('#members tr.history-row').waitFor({ state: 'detached' });
    // Once the views agree again (the failure has spread, and the window of digests heard passed): no divergence banner.
    await page.locator('#views-banner').waitFor({ state: 'hidden' });
    // Only the failed row has the button.
    expect(await page.locator('#members button.force-leave').count()).toBe(1);
    await row('charlie').locator('button.force-leave').click();
    // The confirm step: nothing is sent until it is confirmed; cancel goes back.
    await row('charlie').locator('button.cancel-force-leave').click();
    await row('charlie').locator('button.force-leave').waitFor();
    expect(alpha.node.members().find((m) => m.name === 'charlie')?.status).toBe('failed');
    await row('charlie').locator('button.force-leave').click();
    await row('charlie').locator('button.confirm-force-leave', { hasText: 'force charlie to leave' }).click();
    await page.locator('#members-outcome', { hasText: 'charlie is left now' }).waitFor();
    await row('charlie', 'left').waitFor();
    expect(alpha.node.members().find((m) => m.name === 'charlie')?.status).toBe('left');
    expect(await page.locator('#members button.force-leave').count()).toBe(0);
    await page
      .locator('#events li', { hasText: /left charlie/ })
      .first()
      .waitFor();
  });

  it('after the agent restarts, the log marks it and shows the new run’s events, numbered from 1 again', async () => {
    const { port } = alpha.http;
    await alpha.close();
    await page.locator('#connection[data-state="disconnected"]').waitFor();
    alpha = await startAgent({ name: 'alpha', bind: '127.0.0.1:0', http: `127.0.0.1:${port}`, profile: 'local', config: CONFIG }, pino({ level: 'silent' }));
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.locator('#events li.restart').waitFor();
    const joins = page.locator('#events li', { hasText: /join bravo/ });
    const joinsBefore = await joins.count();
    await nodes[0]!.join([`127.0.0.1:${alpha.node.address.port}`]);
    // The new run's join has a small id, below the ones shown: still shown, above the marker.
    await waitFor('the new run’s join of bravo in the log', async () => (await joins.count()) === joinsBefore + 1);
    const log = await page.locator('#events li').allTextContents();
    expect(log.findIndex((entry) => /join bravo/.test(entry))).toBeLessThan(log.findIndex((entry) => /the agent restarted/.test(entry)));
    expect(pageProblems).toEqual([]);
  });
});
