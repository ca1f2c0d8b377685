/**
 * SIGHUP, as Serf's agent takes it: a real `hearsay agent --config FILE` re-reads the file and
 * applies its tags (seen by a peer), log level and handlers at once; a bad file changes nothing
 * and says why; an option that applies only at start is named as needing a restart.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { killAgents, spawnAgent, type AgentProcess } from './agent-processes.js';
import { hearsay } from './cluster-harness.js';

const FAST_FLAGS = ['--probe-interval', '500ms', '--probe-timeout', '250ms', '--gossip-interval', '100ms'];
const agents: AgentProcess[] = [];
let dir: string;
let config: string;
let web: AgentProcess;
let peer: AgentProcess;

const writeConfig = (options: object) => writeFile(config, JSON.stringify(options));
/** The log lines an agent wrote with this message, parsed. */
const linesOf = (agent: AgentProcess, msg: string) =>
  agent
    .stderr()
    .split('\n')
    .filter((line) => line.includes(`"msg":"${msg}`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** Sends SIGHUP and waits for the reload's outcome line (the count-th of its kind). */
async function reload(msg: string, count: number): Promise<Record<string, unknown>> {
  process.kill(web.pid, 'SIGHUP');
  await waitFor(`"${msg}" #${count}`, () => linesOf(web, msg).length >= count, { timeoutMs: 10_000 });
  return linesOf(web, msg)[count - 1]!;
}

async function tagsSeenByPeer(): Promise<Record<string, string> | undefined> {
  const members = (await (await fetch(`http://${peer.http}/v1/members`)).json()) as { name: string; tags: Record<string, string> }[];
  return members.find((m) => m.name === 'web-1')?.tags;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearsay-reload-'));
  config = join(dir, 'agent.json');
  await writeConfig({ tags: { role: 'web' }, logLevel: 'info' });
  web = await spawnAgent('web-1', [...FAST_FLAGS, '--config', config]);
  agents.push(web);
  peer = await spawnAgent('peer-1', [...FAST_FLAGS, '--join', web.gossip]);
  agents.push(peer);
  await waitFor('peer-1 sees web-1', async () => (await tagsSeenByPeer())?.role === 'web', { timeoutMs: 30_000, intervalMs: 200 });
}, 60_000);
afterAll(async () => {
  await killAgents(agents);
  await rm(dir, { recursive: true, force: true });
});

describe('SIGHUP reloads the config file', () => {
  it('applies new tags, log level and event handlers at once', async () => {
    const out = join(dir, 'deploys.txt');
    await writeConfig({
      tags: { role: 'db', zone: 'b' },
      logLevel: 'debug',
      eventHandlers: [`user:deploy=echo "$SERF_EVENT $SERF_USER_EVENT $SERF_TAG_ROLE" >> ${out}`],
    });
    const line = await reload('configuration reloaded', 1);
    expect(line.applied).toEqual(['tags', 'logLevel', 'handlers']);
    expect(line.restartNeeded).toEqual([]);
    await waitFor('the new tags at peer-1', async () => (await tagsSeenByPeer())?.role === 'db', { timeoutMs: 10_000, intervalMs: 100 });
    expect(await tagsSeenByPeer()).toEqual({ role: 'db', zone: 'b' });

    const sent = await hearsay({ HEARSAY_HTTP_ADDR: peer.http }, ['event', 'deploy', 'v2']);
    expect(sent.code).toBe(0);
    await waitFor('the reloaded handler ran', async () => (await readFile(out, 'utf8').catch(() => '')).length > 0, { timeoutMs: 10_000 });
    expect(await readFile(out, 'utf8')).toBe('user deploy db\n');
    // At debug now, the agent logs each handler run, which it did not at info.
    await waitFor('a debug line', () => linesOf(web, 'event handler ran').length > 0, { timeoutMs: 10_000 });
    expect(linesOf(web, 'event handler ran')[0]).toMatchObject({ level: 20, handler: expect.stringContaining('user:deploy=') });
  });

  it('keeps the agent as it was when the file is bad, and says why', async () => {
    await writeConfig({ tags: { role: 'cache' }, eventHandlers: ['member-join=/nonexistent/handler.sh'] });
    const refused = await reload('configuration not reloaded', 1);
    expect(refused).toMatchObject({ level: 50, err: 'event handler "member-join=/nonexistent/handler.sh": /nonexistent/handler.sh is not an executable file' });
    await writeFile(config, '{"tags": ');
    const broken = await reload('configuration not reloaded', 2);
    expect(String(broken.err)).toContain(`config file ${config}`);
    expect(await tagsSeenByPeer()).toEqual({ role: 'db', zone: 'b' });
    const info = (await (await fetch(`http://${web.http}/v1/info`)).json()) as { tags: Record<string, string> };
    expect(info.tags).toEqual({ role: 'db', zone: 'b' });
  });

  it('names what changed but applies only at start, and compares the next reload with what runs', async () => {
    await writeConfig({ tags: { role: 'db', zone: 'b' }, logLevel: 'debug', profile: 'wan', eventHandlers: [] });
    const line = await reload('configuration reloaded', 2);
    expect(line).toMatchObject({ applied: ['handlers'], restartNeeded: ['profile'] });
    expect(linesOf(web, 'changed options that apply only at start: restart the agent for them')[0]).toMatchObject({ level: 40, options: ['profile'] });
    process.kill(web.pid, 'SIGHUP');
    await waitFor('a reload with nothing to apply', () => linesOf(web, 'configuration reloaded: nothing to apply').length === 1, { timeoutMs: 10_000 });
    expect(web.child.exitCode).toBeNull();
  });
});
