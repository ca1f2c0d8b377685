/**
 * The agent's tags at run time and force-leave (issue 15): GET/PUT/DELETE /v1/tags and
 * POST /v1/force-leave, `hearsay tags` and `hearsay force-leave` against them, bad input refused
 * with a precise message and nothing changed, and --tags-file kept across a restart.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent, type AgentOptions } from '../../packages/agent/src/agent/agent.js';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { hearsay } from '../cli/cluster-harness.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

/** A short suspicion (multiplier 2), so that a crashed peer is failed within seconds. */
const CONFIG = { ...FAST, suspicionMult: 2 };
const WAIT = { timeoutMs: 30_000 };
const silent = pino({ level: 'silent' });

function start(options: AgentOptions): Promise<Agent> {
  return startAgent({ bind: '127.0.0.1:0', http: '127.0.0.1:0', config: CONFIG, ...options }, silent);
}

async function send(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('tags at run time', () => {
  let agent: Agent;
  let base: string;
  beforeAll(async () => {
    agent = await start({ name: 'tagged', tags: { role: 'web' } });
    base = `http://127.0.0.1:${agent.http.port}`;
  });
  afterAll(() => agent.close());

  it('GET, PUT (merged) and DELETE /v1/tags change the node’s tags', async () => {
    expect(await send(base, 'GET', '/v1/tags')).toEqual({ status: 200, body: { tags: { role: 'web' } } });
    expect(await send(base, 'PUT', '/v1/tags', { tags: { dc: 'east', role: 'db' } })).toEqual({ status: 200, body: { tags: { role: 'db', dc: 'east' } } });
    expect(agent.node.self.tags).toEqual({ role: 'db', dc: 'east' });
    expect(await send(base, 'DELETE', '/v1/tags/dc')).toEqual({ status: 200, body: { tags: { role: 'db' } } });
  });

  it('refuses bad input with a precise message, changing nothing', async () => {
    const before = agent.node.self;
    expect(await send(base, 'PUT', '/v1/tags', { tags: { big: 'x'.repeat(600) } })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/512/) },
    });
    expect(await send(base, 'PUT', '/v1/tags', { tags: { n: 5 } })).toEqual({ status: 400, body: { error: 'tag n: the value must be a string, got 5' } });
    expect(await send(base, 'PUT', '/v1/tags', { role: 'x' })).toEqual({ status: 400, body: { error: 'body must be {"tags": {"key": "value", …}}' } });
    expect(await send(base, 'DELETE', '/v1/tags/nope')).toEqual({ status: 404, body: { error: 'no tag nope is set' } });
    expect(agent.node.self).toMatchObject({ tags: before.tags, incarnation: before.incarnation });
  });

  it('`hearsay tags` sets and deletes; without --set or --delete it is a usage error; an unset key changes nothing', async () => {
    const set = await hearsay({}, ['tags', '--http', base, '--set', 'zone=a', '--set', 'rack=7', '--delete', 'role']);
    expect(set).toMatchObject({ code: 0, stdout: 'Successfully updated agent tags\n' });
    expect(agent.node.self.tags).toEqual({ zone: 'a', rack: '7' });
    const bare = await hearsay({}, ['tags', '--http', base]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('give at least one --set key=value or --delete key');
    const malformed = await hearsay({}, ['tags', '--http', base, '--set', 'novalue']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('"novalue" is not a tag: use key=value');
    const missing = await hearsay({}, ['tags', '--http', base, '--set', 'zone=b', '--delete', 'ghost']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('has no tag ghost: nothing changed');
    const huge = await hearsay({}, ['tags', '--http', base, '--set', `big=${'x'.repeat(600)}`]);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toMatch(/HTTP 400: .*512 bytes/);
    expect(agent.node.self.tags).toEqual({ zone: 'a', rack: '7' });
  });
});

describe('--tags-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hearsay-tags-'));
  const agents: Agent[] = [];
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.close()));
  });

  it('starts from the file, writes every API change to it (mode 0600), and the tags survive a restart', async () => {
    const tagsFile = join(dir, 'tags.json');
    writeFileSync(tagsFile, '{"role": "cache"}');
    const first = await start({ name: 'kept', tagsFile });
    agents.push(first);
    expect(first.node.self.tags).toEqual({ role: 'cache' });
    const base = `http://127.0.0.1:${first.http.port}`;
    await send(base, 'PUT', '/v1/tags', { tags: { dc: 'west' } });
    await send(base, 'DELETE', '/v1/tags/role');
    expect(JSON.parse(readFileSync(tagsFile, 'utf8'))).toEqual({ dc: 'west' });
    expect(statSync(tagsFile).mode & 0o777).toBe(0o600);
    await first.close();
    const second = await start({ name: 'kept', tagsFile });
    agents.push(second);
    expect(second.node.self.tags).toEqual({ dc: 'west' });
  });

  it('a missing file is no tags yet; tags given as well are refused, as Serf does; a file that is not a JSON object is refused', async () => {
    const fresh = await start({ name: 'fresh', tagsFile: join(dir, 'none-yet.json') });
    agents.push(fresh);
    expect(fresh.node.self.tags).toEqual({});
    await expect(start({ name: 'both', tags: { a: 'b' }, tagsFile: join(dir, 'tags.json') })).rejects.toThrow(/cannot be given with a tags file/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '["role"]');
    await expect(start({ name: 'bad', tagsFile: bad })).rejects.toThrow(`tags file ${bad} must hold a JSON object of string values`);
  });
});

describe('force-leave', () => {
  let agent: Agent;
  let base: string;
  let alive: HearsayNode;
  beforeAll(async () => {
    agent = await start({ name: 'operator' });
    base = `http://127.0.0.1:${agent.http.port}`;
    const join = [`127.0.0.1:${agent.node.address.port}`];
    alive = await createNode({ name: 'steady', bind: '127.0.0.1:0', config: CONFIG, join });
  });
  afterAll(async () => {
    await agent.close();
    await alive.shutdown();
  });

  it('POST /v1/force-leave makes a failed member left, then prunes it; `hearsay force-leave` does the same', async () => {
    const join = [`127.0.0.1:${agent.node.address.port}`];
    const crashed = await createNode({ name: 'crashed', bind: '127.0.0.1:0', config: CONFIG, join });
    const other = await createNode({ name: 'crashed-too', bind: '127.0.0.1:0', config: CONFIG, join });
    await waitFor(
      'both peers listed alive',
      () => agent.node.member('crashed')?.status === 'alive' && agent.node.member('crashed-too')?.status === 'alive',
      WAIT,
    );
    await crashed.shutdown();
    await other.shutdown();
    await waitFor('both peers failed', () => agent.node.member('crashed')?.status === 'failed' && agent.node.member('crashed-too')?.status === 'failed', WAIT);
    expect(await send(base, 'POST', '/v1/force-leave', { node: 'crashed' })).toEqual({ status: 200, body: { node: 'crashed', status: 'left' } });
    expect(agent.node.member('crashed')?.status).toBe('left');
    expect(await send(base, 'POST', '/v1/force-leave', { node: 'crashed', prune: true })).toEqual({ status: 200, body: { node: 'crashed', status: 'pruned' } });
    expect(agent.node.member('crashed')).toBeUndefined();
    const cli = await hearsay({}, ['force-leave', '--http', base, '--prune', 'crashed-too']);
    expect(cli).toMatchObject({ code: 0, stdout: '' });
    expect(agent.node.member('crashed-too')).toBeUndefined();
  });

  it('refuses an unknown member (404), a live one (409) and a malformed body (400), changing nothing', async () => {
    await waitFor('steady listed alive', () => agent.node.member('steady')?.status === 'alive', WAIT);
    expect(await send(base, 'POST', '/v1/force-leave', { node: 'ghost' })).toEqual({ status: 404, body: { error: 'no member named "ghost" is known here' } });
    expect(await send(base, 'POST', '/v1/force-leave', { node: 'steady', prune: true })).toEqual({
      status: 409,
      body: { error: 'steady is alive: only a failed member can be forced to leave' },
    });
    expect(await send(base, 'POST', '/v1/force-leave', { node: 'steady', prune: 'yes' })).toEqual({
      status: 400,
      body: { error: 'body must be {"node": "name", "prune": false}' },
    });
    expect(agent.node.member('steady')?.status).toBe('alive');
    const unknown = await hearsay({}, ['force-leave', '--http', base, 'ghost']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('HTTP 404: no member named "ghost" is known here');
    const live = await hearsay({}, ['force-leave', '--http', base, 'steady']);
    expect(live.code).toBe(1);
    expect(live.stderr).toContain('HTTP 409: steady is alive');
    const bare = await hearsay({}, ['force-leave', '--http', base]);
    expect(bare.code).toBe(2);
  });
});
