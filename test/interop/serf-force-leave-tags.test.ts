/**
 * Tags at run time and force-leave between hearsay agents and Debian's serf 0.9.4 (issue 15), all
 * real processes on 127.0.0.1: `hearsay tags` changes are seen by Serf agents (`serf members`);
 * `serf force-leave` of a SIGKILLed hearsay agent makes hearsay agents list it `left`;
 * `hearsay force-leave` of a SIGKILLed Serf agent makes Serf agents list it `left`; `-prune` /
 * `--prune` removes the member on the other side. Skipped without `serf`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, hearsay } from '../cli/cluster-harness.js';
import { waitFor } from '../helpers/wait.js';
import { serfAvailable, startSerfAgent, startSerfCluster, stopAllSerfAgents, type SerfAgent } from './serf-harness.js';

const HAVE_SERF = serfAvailable();
/**
 * Failure detection with the lan profile on a loaded machine, and gossip to every agent: generous.
 * The lan profile, not local: local sends each intent only twice per node (retransmitMult 2), and in
 * a cluster of five, one of them a dead member still gossiped to, an agent may miss it.
 */
const SLOW = 60_000;
const WAIT = { timeoutMs: SLOW, intervalMs: 250, retryErrors: true } as const;

interface HearsayAgent {
  readonly name: string;
  readonly child: ChildProcessWithoutNullStreams;
  /** The HTTP API's base URL. */
  readonly http: string;
}

const children: ChildProcessWithoutNullStreams[] = [];

async function startHearsayAgent(name: string, join: string): Promise<HearsayAgent> {
  const child = spawn(process.execPath, [CLI, 'agent', '--name', name, '--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', '--join', join]);
  children.push(child);
  let text = '';
  child.stderr.on('data', (chunk) => (text += chunk));
  await waitFor('the hearsay agent ready', () => child.exitCode !== null || text.includes('agent ready'), { timeoutMs: 20_000 });
  if (child.exitCode !== null) throw new Error(`hearsay agent ${name} exited: ${text}`);
  const ready = JSON.parse(text.split('\n').find((line) => line.includes('agent ready'))!) as { http: string };
  return { name, child, http: `http://${ready.http}` };
}

async function statusAt(agent: HearsayAgent, name: string): Promise<string | undefined> {
  const members = (await (await fetch(`${agent.http}/v1/members`)).json()) as { name: string; status: string }[];
  return members.find((member) => member.name === name)?.status;
}

function killed(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe.skipIf(!HAVE_SERF)('tags and force-leave with Serf agents', () => {
  let serf: SerfAgent[] = [];
  let h1: HearsayAgent;
  let h2: HearsayAgent;

  beforeAll(async () => {
    serf = await startSerfCluster(2);
    h1 = await startHearsayAgent('h1', serf[0]!.addr);
    h2 = await startHearsayAgent('h2', serf[0]!.addr);
    await serf[0]!.waitFor((ms) => ['h1', 'h2'].every((name) => ms.some((m) => m.name === name && m.status === 'alive')), SLOW, 'h1 and h2 alive');
  }, 90_000);

  afterAll(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await stopAllSerfAgents();
  });

  it('tags set and deleted with `hearsay tags` are seen by Serf agents; tags over 512 bytes are refused, changing nothing', async () => {
    const set = await hearsay({}, ['tags', '--http', h1.http, '--set', 'role=db', '--set', 'dc=east']);
    expect(set).toMatchObject({ code: 0, stdout: 'Successfully updated agent tags\n' });
    await serf[1]!.waitFor((ms) => ms.some((m) => m.name === 'h1' && m.tags.role === 'db' && m.tags.dc === 'east'), SLOW, 'h1 tagged role=db dc=east');
    const deleted = await hearsay({}, ['tags', '--http', h1.http, '--delete', 'dc']);
    expect(deleted.code).toBe(0);
    const [seen] = (await serf[1]!.waitFor((ms) => ms.some((m) => m.name === 'h1' && m.tags.dc === undefined), SLOW, 'h1 without dc')).filter(
      (m) => m.name === 'h1',
    );
    expect(seen!.tags).toEqual({ role: 'db' });
    const huge = await hearsay({}, ['tags', '--http', h1.http, '--set', `big=${'x'.repeat(600)}`]);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toMatch(/HTTP 400: .*512/);
    expect(((await (await fetch(`${h1.http}/v1/tags`)).json()) as { tags: unknown }).tags).toEqual({ role: 'db' });
  }, 120_000);

  it('`serf force-leave` of a SIGKILLed hearsay agent: hearsay agents list it left; `-prune` removes it', async () => {
    const h3 = await startHearsayAgent('h3', serf[0]!.addr);
    await waitFor('h1 to list h3 alive', async () => (await statusAt(h1, 'h3')) === 'alive', WAIT);
    await killed(h3.child);
    await serf[0]!.waitForStatus('h3', 'failed', SLOW);
    await waitFor('h1 and h2 to list h3 failed', async () => (await statusAt(h1, 'h3')) === 'failed' && (await statusAt(h2, 'h3')) === 'failed', WAIT);
    await serf[0]!.cli(['force-leave', 'h3']);
    await waitFor('h1 and h2 to list h3 left', async () => (await statusAt(h1, 'h3')) === 'left' && (await statusAt(h2, 'h3')) === 'left', WAIT);
    await serf[0]!.cli(['force-leave', '-prune', 'h3']);
    await waitFor('h1 and h2 to drop h3', async () => (await statusAt(h1, 'h3')) === undefined && (await statusAt(h2, 'h3')) === undefined, WAIT);
  }, 240_000);

  it('`hearsay force-leave` of a SIGKILLed Serf agent: Serf agents list it left; `--prune` removes it', async () => {
    const s3 = await startSerfAgent({ name: 's3', join: [serf[0]!.addr] });
    await waitFor('h1 to list s3 alive', async () => (await statusAt(h1, 's3')) === 'alive', WAIT);
    await s3.kill('SIGKILL');
    await waitFor('h1 to list s3 failed', async () => (await statusAt(h1, 's3')) === 'failed', WAIT);
    await Promise.all(serf.map((agent) => agent.waitForStatus('s3', 'failed', SLOW)));
    const forced = await hearsay({}, ['force-leave', '--http', h1.http, 's3']);
    expect(forced).toMatchObject({ code: 0, stdout: '' });
    await Promise.all(serf.map((agent) => agent.waitForStatus('s3', 'left', SLOW)));
    expect(await statusAt(h2, 's3')).toBe('left');
    const pruned = await hearsay({}, ['force-leave', '--http', h1.http, '--prune', 's3']);
    expect(pruned.code).toBe(0);
    await Promise.all(serf.map((agent) => agent.waitFor((ms) => !ms.some((m) => m.name === 's3'), SLOW, 's3 pruned')));
    await waitFor('h2 to drop s3', async () => (await statusAt(h2, 's3')) === undefined, WAIT);
  }, 240_000);

  it('`hearsay force-leave` refuses a live member (409) and an unknown one (404) with the agent’s message, exit 1', async () => {
    const live = await hearsay({}, ['force-leave', '--http', h1.http, 'serf1']);
    expect(live.code).toBe(1);
    expect(live.stderr).toContain('HTTP 409: serf1 is alive: only a failed member can be forced to leave');
    const unknown = await hearsay({}, ['force-leave', '--http', h1.http, 'nobody']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('HTTP 404: no member named "nobody" is known here');
    expect(await serf[0]!.member('h1')).toMatchObject({ status: 'alive' });
  });
});
