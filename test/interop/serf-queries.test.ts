/**
 * Serf queries and key management between hearsay and real Serf agents (Debian's serf 0.9.4),
 * encrypted, on 127.0.0.1: `serf query` acked and answered by a hearsay node, filters honoured,
 * a hearsay query acked by the agents, and a full key rotation driven by `serf keys` and then
 * by hearsay's own key operations, with the cluster intact afterwards; and a hearsay event
 * replayed from its push/pull state to an agent joining with -replay; and network coordinates
 * both ways (`serf rtt` to the hearsay node, hearsay's estimates of the agents). Skipped without `serf`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { serfAvailable, sleep, startSerfAgent, startSerfCluster, stopAllSerfAgents, type SerfAgent } from './serf-harness.js';
import { waitFor } from '../helpers/wait.js';

const HAVE_SERF = serfAvailable();
const FIRST_KEY = Buffer.alloc(32, 3).toString('base64');
const SECOND_KEY = Buffer.alloc(16, 5).toString('base64');

describe.skipIf(!HAVE_SERF)('Serf queries, `serf keys`, event replay and coordinates with a hearsay member', () => {
  let agents: SerfAgent[] = [];
  let node: HearsayNode;
  const keyEvents: string[][] = [];

  const scratch = mkdtempSync(join(tmpdir(), 'hearsay-serf-q-'));

  afterAll(async () => {
    await node?.shutdown();
    await stopAllSerfAgents();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function everyoneAlive(): Promise<void> {
    for (const agent of agents) {
      await agent.waitFor((ms) => ms.length === 3 && ms.every((m) => m.status === 'alive'), 20_000, 'all three alive');
    }
    expect(node.members().filter((m) => m.status === 'alive')).toHaveLength(3);
  }

  it('joins two encrypted agents', async () => {
    agents = await startSerfCluster(2, { namePrefix: 'serf-q-', encryptKey: FIRST_KEY, tags: { role: 'db' } });
    node = await createNode({ name: 'hearsay-q', bind: '127.0.0.1:0', join: [agents[0]!.addr], keys: [FIRST_KEY], tags: { role: 'web' } });
    node.on('query', (query) => {
      if (query.name === 'whoami') query.respond(Buffer.from(`${node.name} got ${Buffer.from(query.payload).toString()} from ${query.from}`));
    });
    node.on('keys', (keys) => keyEvents.push(keys));
    await everyoneAlive();
  });

  it('`serf query` is acked and answered by the hearsay node', async () => {
    const out = JSON.parse(await agents[1]!.cli(['query', '-format=json', '-timeout=3s', 'whoami', 'ping']));
    expect(out.Acks).toEqual(expect.arrayContaining([node.name, agents[0]!.name, agents[1]!.name]));
    expect(out.Responses[node.name]).toBe(`${node.name} got ping from ${agents[1]!.name}`);
  });

  it('a tag filter the hearsay node fails keeps it silent; one it passes makes it answer', async () => {
    const dbOnly = JSON.parse(await agents[0]!.cli(['query', '-format=json', '-timeout=2s', '-tag', 'role=^d', 'whoami', 'x']));
    expect(dbOnly.Acks).not.toContain(node.name);
    expect(dbOnly.Responses[node.name]).toBeUndefined();
    const byName = JSON.parse(await agents[0]!.cli(['query', '-format=json', '-timeout=2s', `-node=${node.name}`, 'whoami', 'y']));
    expect(byName.Acks).toEqual([node.name]);
    expect(byName.Responses[node.name]).toBe(`${node.name} got y from ${agents[0]!.name}`);
  });

  it('a hearsay query is acked by every agent and by the node itself', async () => {
    const result = await node.query('anyone', Buffer.from('?'), { requestAck: true, timeoutMs: 2000 });
    expect([...result.acks].sort()).toEqual([node.name, ...agents.map((a) => a.name)].sort());
    // Serf agents without a query handler acknowledge but do not answer; the node answers nothing to 'anyone'.
    expect(result.responses).toEqual([]);
  });

  it('`serf keys` rotates the hearsay node’s keyring with the agents’, and the cluster stays whole', async () => {
    expect(await agents[0]!.cli(['keys', '-list'])).toMatch(new RegExp(`${escapeRegExp(FIRST_KEY)}\\s+\\[3/3\\]`));
    await agents[0]!.cli(['keys', `-install=${SECOND_KEY}`]);
    await agents[1]!.cli(['keys', `-use=${SECOND_KEY}`]);
    await agents[0]!.cli(['keys', `-remove=${FIRST_KEY}`]);
    expect(node.keys).toEqual([SECOND_KEY]);
    expect(keyEvents).toEqual([[FIRST_KEY, SECOND_KEY], [SECOND_KEY, FIRST_KEY], [SECOND_KEY]]);
    expect(await agents[1]!.cli(['keys', '-list'])).toMatch(new RegExp(`${escapeRegExp(SECOND_KEY)}\\s+\\[3/3\\]`));
    // Every path now runs on the new key only: probes for a while must leave everyone alive.
    await sleep(4000);
    await everyoneAlive();
  });

  it('hearsay’s own key operations rotate the agents back, and a bad request is reported per node', async () => {
    const installed = await node.installKey(FIRST_KEY);
    expect(installed).toMatchObject({ nodes: 3, responses: 3, errors: {} });
    expect((await node.useKey(FIRST_KEY)).errors).toEqual({});
    const refused = await node.removeKey(FIRST_KEY);
    expect(Object.keys(refused.errors).sort()).toEqual([node.name, ...agents.map((a) => a.name)].sort());
    expect((await node.removeKey(SECOND_KEY)).errors).toEqual({});
    const listed = await node.listKeys();
    expect(listed).toMatchObject({ nodes: 3, responses: 3, errors: {}, keys: { [FIRST_KEY]: 3 }, primaryKeys: { [FIRST_KEY]: 3 } });
    expect(await agents[0]!.cli(['keys', '-list'])).toMatch(new RegExp(`${escapeRegExp(FIRST_KEY)}\\s+\\[3/3\\]`));
    await sleep(4000);
    await everyoneAlive();
  });

  it('an agent joining with -replay gets a hearsay event sent before it joined, from hearsay’s push/pull state', async () => {
    node.broadcast(Buffer.from('r1'), 'release');
    // Let the gossip of the event run out, so that only the push/pull state can carry it.
    await sleep(3000);
    const received = join(scratch, 'events.txt');
    const late = await startSerfAgent({
      name: 'serf-q-late',
      encryptKey: FIRST_KEY,
      join: [`127.0.0.1:${node.address.port}`],
      extraArgs: ['-replay', '-event-handler', `user:release=cat >> ${received}`],
    });
    await late.waitFor((ms) => ms.some((m) => m.name === node.name && m.status === 'alive'), 20_000, 'hearsay alive at the late agent');
    const text = () => {
      try {
        return readFileSync(received, 'utf8');
      } catch {
        return '';
      }
    };
    await waitFor('the late agent’s handler to get the event', () => text().includes('r1'), { timeoutMs: 15_000, intervalMs: 100 });
    // Once, and Serf's handler gets the payload plus a newline on stdin.
    expect(text()).toBe('r1\n');
  });

  it('coordinates travel both ways: `serf rtt` places the hearsay node, and hearsay places the agents', async () => {
    // Coordinates ride on direct probe acks: a few probe rounds give each side some.
    await waitFor('a coordinate for every agent at hearsay', () => agents.every((a) => node.estimateRtt(a.name) !== undefined), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    for (const agent of agents) {
      const ms = node.estimateRtt(agent.name)!;
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThan(100);
    }
    let out = '';
    await waitFor(
      '`serf rtt` to place the hearsay node',
      async () => {
        out = await agents[0]!.cli(['rtt', node.name]).catch((error: Error) => error.message);
        return /Estimated/.test(out);
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    const match = /Estimated (\S+) <-> (\S+) rtt: ([\d.]+) ms/.exec(out);
    expect(match, out).not.toBeNull();
    expect([match![1], match![2]].sort()).toEqual([agents[0]!.name, node.name].sort());
    expect(Number(match![3])).toBeLessThan(100);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
