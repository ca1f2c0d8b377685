/**
 * hearsay against real Serf agents (Debian's serf 0.9.4), all on 127.0.0.1 with free ports,
 * in plaintext and with -encrypt: joining, failure detection both ways, restart, graceful leave,
 * a Serf agent joining through hearsay, and a wrong key kept out. Skipped without `serf`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { serfAvailable, sleep, startSerfAgent, startSerfCluster, stopAllSerfAgents, type SerfAgent } from './serf-harness.js';
import { waitFor } from '../helpers/wait.js';

const HAVE_SERF = serfAvailable();
/** Serf's LAN suspicion timeout reaches 24 s with four or more members; leave room. */
const DETECTION_MS = 45_000;
const KEY = Buffer.alloc(32, 7).toString('base64');
const WRONG_KEY = Buffer.alloc(32, 9).toString('base64');

/** How long hearsay may take to see a Serf agent join, fail or come back. */
const DETECTION = { timeoutMs: DETECTION_MS };

const nodeScript = fileURLToPath(new URL('../runtime/node-process.mjs', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];

/** A hearsay node in a process of its own (so that it can be SIGKILLed). */
async function startNodeProcess(options: Record<string, unknown>): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, [nodeScript, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node process not ready: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (JSON.parse(line).ready) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`node process exited: ${stderr}`)));
  });
  return child;
}

describe.skipIf(!HAVE_SERF).each([
  { mode: 'plaintext', key: undefined },
  { mode: 'encrypted', key: KEY },
])('hearsay with Serf agents ($mode)', ({ mode, key }) => {
  let agents: SerfAgent[] = [];
  let node: HearsayNode;
  const keys = key ? [key] : undefined;
  const agentKey = key ? { encryptKey: key } : {};

  afterAll(async () => {
    await node?.shutdown();
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await stopAllSerfAgents();
  });

  it('1. joins a cluster of 3 agents: they list it alive with its tags, it lists them alive', async () => {
    agents = await startSerfCluster(3, { namePrefix: `serf-${mode}-`, ...agentKey });
    node = await createNode({ name: `hearsay-${mode}`, bind: '127.0.0.1:0', join: [agents[0]!.addr], tags: { role: 'web', mode }, keys });
    for (const agent of agents) {
      const members = await agent.waitFor((ms) => ms.some((m) => m.name === node.name && m.status === 'alive'), DETECTION_MS, 'hearsay alive');
      expect(members.find((m) => m.name === node.name)!.tags).toEqual({ role: 'web', mode });
      expect(members.find((m) => m.name === node.name)!.port).toBe(node.address.port);
    }
    await waitFor('hearsay to list every agent alive', () => agents.every((a) => node.member(a.name)?.status === 'alive'), DETECTION);
    expect(node.member(agents[0]!.name)!.tags).toEqual({});
  });

  it('user events cross both ways: `serf event` reaches hearsay, a hearsay broadcast reaches Serf', async () => {
    const got: string[] = [];
    node.on('message', (payload, name) => got.push(`${name}:${Buffer.from(payload).toString()}`));
    await agents[1]!.event('deploy', 'v42');
    await waitFor('the Serf event at hearsay', () => got.includes('deploy:v42'), { timeoutMs: 15_000 });
    // Serf agents relay events they have not seen; the agent's own log shows the one from hearsay.
    node.broadcast(Buffer.from('from-hearsay'), 'greeting');
    await waitFor('the agent to log the hearsay event', () => agents[2]!.log().includes('greeting'), { timeoutMs: 15_000 });
  });

  it('6. a Serf agent joins through the hearsay node', async () => {
    const late = await startSerfAgent({ name: `serf-${mode}-late`, join: [`127.0.0.1:${node.address.port}`], ...agentKey });
    agents.push(late);
    await late.waitFor((ms) => ms.filter((m) => m.status === 'alive').length === 5, DETECTION_MS, 'the late agent to see all 5');
    await waitFor('hearsay to see the late agent', () => node.member(late.name)?.status === 'alive', DETECTION);
  });

  it('3. a SIGKILLed agent is failed for hearsay; restarted, it is alive again', async () => {
    const victim = agents[2]!;
    await victim.kill('SIGKILL');
    await waitFor(`${victim.name} failed at hearsay`, () => node.member(victim.name)?.status === 'failed', DETECTION);
    const restarted = await startSerfAgent({ name: victim.name, port: victim.port, join: [agents[0]!.addr], ...agentKey });
    agents[2] = restarted;
    await waitFor(`${victim.name} alive again at hearsay`, () => node.member(victim.name)?.status === 'alive', DETECTION);
  });

  it('2. a SIGKILLed process running a hearsay node is failed at every agent', async () => {
    const name = `hearsay-${mode}-proc`;
    const child = await startNodeProcess({ name, bind: '127.0.0.1:0', join: [agents[1]!.addr], keys });
    for (const agent of agents) await agent.waitForStatus(name, 'alive', DETECTION_MS);
    child.kill('SIGKILL');
    for (const agent of agents) await agent.waitForStatus(name, 'failed', DETECTION_MS);
  });

  it('5. a hearsay node with the wrong key is not admitted and changes nobody’s view', async () => {
    const name = `intruder-${mode}`;
    const wrong = mode === 'encrypted' ? [WRONG_KEY] : [KEY];
    await expect(createNode({ name, bind: '127.0.0.1:0', join: [agents[0]!.addr], keys: wrong })).rejects.toThrow(/no seed could be reached/);
    await sleep(2000);
    for (const agent of agents) expect((await agent.members()).map((m) => m.name)).not.toContain(name);
    expect(node.member(name)).toBeUndefined();
  });

  it('4. a graceful leave shows as left at every agent', async () => {
    await node.leave(5000);
    for (const agent of agents) await agent.waitForStatus(node.name, 'left', DETECTION_MS);
  });
});
