/**
 * `cluster members` and `cluster watch --once` against stand-ins for the agents' HTTP APIs and a
 * state file written by hand: exact output from fixed views, no agents needed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logPath, writeState, type ClusterState } from '../../packages/agent/src/cli/cluster/state.js';
import { freeBasePort, TestHome } from './cluster-harness.js';

const member = (name: string, status: string, port: number) => ({
  name,
  address: '127.0.0.1',
  port,
  status,
  incarnation: 1,
  tags: name === 'node-0' ? { role: 'seed' } : {},
  since: '2026-01-01T00:00:00.000Z',
});

function fakeAgent(members: unknown[], digest: number): Promise<Server> {
  const answers: Record<string, unknown> = { '/v1/members': members, '/v1/views': { digest, distinct: 1, agreeing: 0, differing: [], degraded: [] } };
  const server = createServer((request, response) => {
    const answer = answers[request.url ?? ''];
    response.writeHead(answer ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer ?? { error: 'no route' }));
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

describe('cluster members and cluster watch --once, from fixed views', () => {
  const home = new TestHome();
  const servers: Server[] = [];
  let closedPort: number;

  beforeAll(async () => {
    // node-0 and node-1 answer; node-2 was killed; node-3's agent is gone (nothing on its port).
    servers.push(
      await fakeAgent([member('node-0', 'alive', 1), member('node-1', 'alive', 2), member('node-2', 'failed', 3), member('node-3', 'suspect', 4)], 0x1a2b),
    );
    servers.push(await fakeAgent([member('node-1', 'alive', 2), member('node-0', 'alive', 1), member('node-2', 'suspect', 3)], 0x3c4d));
    closedPort = await freeBasePort(1);
    const http = (i: number) => (i < 2 ? `127.0.0.1:${(servers[i]!.address() as AddressInfo).port}` : `127.0.0.1:${closedPort}`);
    const state: ClusterState = {
      version: 1,
      host: '127.0.0.1',
      base_port: 1,
      agent_flags: [],
      nodes: [0, 1, 2, 3].map((i) => ({
        name: `node-${i}`,
        pid: 999_999_000 + i, // no such process
        port: i + 1,
        http: http(i),
        log: logPath(home.dir, `node-${i}`),
        seed: null,
        down: i === 2,
        started_at: '2026-01-01T00:00:00.000Z',
      })),
    };
    writeState(home.dir, state);
  });
  afterAll(async () => {
    for (const server of servers) await new Promise((done) => server.close(done));
    await home.cleanup();
  });

  it('gives [{node, up, members: [{name, address, port, status, incarnation, tags}]}] with --json', async () => {
    const run = await home.run('cluster', 'members', '--json');
    expect(run.code).toBe(0);
    const views = JSON.parse(run.stdout);
    expect(views.map((v: { node: string; up: boolean }) => [v.node, v.up])).toEqual([
      ['node-0', true],
      ['node-1', true],
      ['node-2', false],
      ['node-3', false],
    ]);
    expect(views[0].members).toEqual([
      { name: 'node-0', address: '127.0.0.1', port: 1, status: 'alive', incarnation: 1, tags: { role: 'seed' } },
      { name: 'node-1', address: '127.0.0.1', port: 2, status: 'alive', incarnation: 1, tags: {} },
      { name: 'node-2', address: '127.0.0.1', port: 3, status: 'failed', incarnation: 1, tags: {} },
      { name: 'node-3', address: '127.0.0.1', port: 4, status: 'suspect', incarnation: 1, tags: {} },
    ]);
    expect(views[1].members.map((m: { name: string }) => m.name)).toEqual(['node-0', 'node-1', 'node-2']);
    expect(views[2].members).toEqual([]);
    // The view digests of the agents that answer, to compare; none for those that are down.
    expect(views.map((v: { view?: unknown }) => v.view)).toEqual([{ digest: 0x1a2b, distinct: 1 }, { digest: 0x3c4d, distinct: 1 }, undefined, undefined]);
  });

  it('prints one table per node under `Node: NAME` and a rule, down nodes as down', async () => {
    const run = await home.run('cluster', 'members');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('Node: node-0');
    expect(lines[1]).toMatch(/^─+$/);
    expect(lines[3]).toMatch(/│ Name +│ Address +│ Status +│ Incarnation +│ Tags +│ Since +│/);
    expect(lines[5]).toMatch(/│ node-0 +│ 127\.0\.0\.1:1 +│ alive +│ 1 +│ role=seed +│/);
    const at2 = lines.indexOf('Node: node-2');
    expect(lines[at2 + 2]).toBe('down (killed)');
    const at3 = lines.indexOf('Node: node-3');
    expect(lines[at3 + 2]).toBe('down (pid 999999003 not running)');
    // The footer compares the view digests of the agents that answered.
    expect(run.stdout.endsWith('\nviews: 2 distinct digests across 2 agents (node-1 differs)\n')).toBe(true);
  });

  it('shows one node with --node, and refuses an unknown name as a usage error', async () => {
    const run = await home.run('cluster', 'members', '--node', 'node-1', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).map((v: { node: string }) => v.node)).toEqual(['node-1']);
    const unknown = await home.run('cluster', 'members', '--node', 'node-7');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('hearsay: no node named "node-7" in the cluster: its nodes are node-0, node-1, node-2, node-3\n');
  });

  it('prints one frame of the matrix with --once, without a terminal', async () => {
    const run = await home.run('cluster', 'watch', '--once');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^hearsay cluster watch {2}4 nodes \(2 up\) {2}\d\d:\d\d:\d\d$/);
    expect(lines.slice(2)).toEqual([
      'observer \\ member    node-0  node-1  node-2  node-3',
      'node-0                 A       A       F       S   ',
      'node-1                 A       A       S       ?   ',
      'node-2             down (killed)',
      'node-3             down (pid 999999003 not running)',
      '',
      'A alive  S suspect  F failed  L left  ? unknown',
    ]);
    expect(run.stdout).not.toContain('\x1b');
  });

  it('will not kill or add through nodes that are not running', async () => {
    const kill = await home.run('cluster', 'kill', '--node', 'node-2');
    expect(kill.code).toBe(1);
    expect(kill.stderr).toMatch(/^hearsay: node-2 is already down \(killed at an earlier time\)\n$/);
    const add = await home.run('cluster', 'add', '--peer', 'node-0');
    expect(add.code).toBe(1);
    expect(add.stderr).toBe('hearsay: node-0 is down: join through a live node (none is live)\n');
  });
});
