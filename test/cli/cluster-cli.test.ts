/**
 * End to end: the built CLI starts real agents (`hearsay agent`) on 127.0.0.1 as background
 * processes, each test with its own HEARSAY_HOME and free ports; teardown runs `cluster down`
 * and SIGKILLs any recorded agent still running.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { CLI_POLL, freeBasePort, gone, TestHome } from './cluster-harness.js';

interface View {
  node: string;
  up: boolean;
  members: { name: string; address: string; port: number; status: string; incarnation: number; tags: Record<string, string> }[];
}

const homes: TestHome[] = [];
function newHome(): TestHome {
  const home = new TestHome();
  homes.push(home);
  return home;
}
afterAll(async () => {
  await Promise.all(homes.map((home) => home.cleanup()));
});

async function views(home: TestHome): Promise<View[]> {
  const run = await home.run('cluster', 'members', '--json');
  if (run.code !== 0) throw new Error(`cluster members exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as View[];
}

const alive = (view: View) =>
  view.members
    .filter((m) => m.status === 'alive')
    .map((m) => m.name)
    .sort();
const status = (view: View, name: string) => view.members.find((m) => m.name === name)?.status;

describe('hearsay cluster, end to end', () => {
  it('starts 5, sees a kill everywhere, adds one, and brings everything down', async () => {
    const home = newHome();
    const base = await freeBasePort(8);
    const up = await home.run(
      'cluster',
      'up',
      '--size',
      '5',
      '--base-port',
      String(base),
      '--profile',
      'local',
      '--probe-interval',
      '500ms',
      '--tag',
      'test=e2e',
    );
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const starting = up.stdout.split('\n').filter((line) => line.startsWith('Starting node: '));
    expect(starting).toEqual([
      `Starting node: node-0 127.0.0.1:${base} with peers []`,
      ...[1, 2, 3, 4].map((i) => `Starting node: node-${i} 127.0.0.1:${base + i} with peers [127.0.0.1:${base}]`),
    ]);

    const state = home.state()!;
    expect(state.agent_flags).toEqual(['--profile', 'local', '--tag', 'test=e2e', '--probe-interval', '500ms']);
    expect(state.nodes.map((n) => [n.name, n.port, n.http])).toEqual([0, 1, 2, 3, 4].map((i) => [`node-${i}`, base + i, `127.0.0.1:${base + i + 10_000}`]));
    for (const node of state.nodes) {
      expect(node.pid).toBeGreaterThan(0);
      expect(existsSync(node.log)).toBe(true);
    }

    // Every node lists all 5 alive.
    const names = ['node-0', 'node-1', 'node-2', 'node-3', 'node-4'];
    const converged = await waitFor(
      'every node to list 5 alive',
      async () => {
        const all = await views(home);
        return all.every((v) => v.up && alive(v).join() === names.join()) ? all : undefined;
      },
      { ...CLI_POLL, timeoutMs: 30_000 },
    );
    expect(converged[0]!.members.find((m) => m.name === 'node-3')).toEqual({
      name: 'node-3',
      address: '127.0.0.1',
      port: base + 3,
      status: 'alive',
      incarnation: expect.any(Number),
      tags: { test: 'e2e' },
    });

    // A second `up` while this one runs is refused.
    const again = await home.run('cluster', 'up', '--size', '2', '--base-port', String(base));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^hearsay: a cluster is already running \(recorded in .*: node-0 pid \d+, .*\): stop it with `hearsay cluster down` first/);

    // Kill node-2: every other node reports it failed; it stays recorded, as down.
    const node2 = state.nodes[2]!;
    const kill = await home.run('cluster', 'kill', '--node', 'node-2');
    expect(kill.code).toBe(0);
    expect(kill.stdout).toBe(`Killed node-2 (pid ${node2.pid}) with SIGKILL\n`);
    expect(gone(node2.pid)).toBe(true);
    expect(home.state()!.nodes[2]).toMatchObject({ name: 'node-2', pid: node2.pid, down: true });
    await waitFor(
      'every other node to report node-2 failed',
      async () => {
        const all = await views(home);
        expect(all.find((v) => v.node === 'node-2')).toEqual({ node: 'node-2', up: false, members: [] });
        const others = all.filter((v) => v.node !== 'node-2');
        return others.length === 4 && others.every((v) => v.up && status(v, 'node-2') === 'failed');
      },
      { ...CLI_POLL, timeoutMs: 30_000 },
    );
    const table = await home.run('cluster', 'members');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/Node: node-2\n─+\ndown \(killed\)\n/);

    // Add one: it joins through a live node; 5 alive again everywhere (node-2 may still be
    // listed as failed until gossipToTheDeadTime, or no longer listed at all).
    const add = await home.run('cluster', 'add');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(
      new RegExp(`^Starting node: node-5 127\\.0\\.0\\.1:${base + 5} with peers \\[127\\.0\\.0\\.1:(?:${base}|${base + 1}|${base + 3}|${base + 4})\\]\n`),
    );
    expect(add.stdout).toMatch(/Added node-5 at .* joined through node-[0134]\n$/);
    const five = ['node-0', 'node-1', 'node-3', 'node-4', 'node-5'];
    await waitFor(
      '5 alive again on every live node',
      async () => {
        const all = await views(home);
        const live = all.filter((v) => v.node !== 'node-2');
        return live.length === 5 && live.every((v) => v.up && alive(v).join() === five.join() && [undefined, 'failed'].includes(status(v, 'node-2')));
      },
      { ...CLI_POLL, timeoutMs: 30_000 },
    );

    // Down: every agent stopped, the state gone.
    const pids = home.state()!.nodes.map((n) => n.pid);
    expect(pids).toHaveLength(6);
    const down = await home.run('cluster', 'down');
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/node-2 \(pid \d+\) was not running\n/);
    expect(down.stdout).toMatch(/node-5 \(pid \d+\) stopped/);
    for (const pid of pids) expect(gone(pid), `pid ${pid} still runs`).toBe(true);
    expect(existsSync(home.dir)).toBe(false);

    const after = await home.run('cluster', 'members');
    expect(after.code).toBe(1);
    const downAgain = await home.run('cluster', 'down');
    expect(downAgain.code).toBe(0);
  }, 180_000);

  it('reports an agent that fails to start with its log, stops the others, records nothing', async () => {
    const home = newHome();
    const base = await freeBasePort(3);
    // The key is checked by the agent, not by `cluster up`: every agent exits at once.
    const up = await home.run('cluster', 'up', '--size', '3', '--base-port', String(base), '--encrypt', 'bm90IGEga2V5');
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(/^hearsay: node-0 \(pid \d+\) did not start: it exited with code 2\nlast lines of .*node-0\.log:\n/);
    expect(up.stderr).toMatch(/encryption key decodes to 9 bytes/);
    expect(up.stderr).toMatch(/stopped the 1 agent\(s\) started; no cluster is recorded\n$/);
    expect(home.state()).toBeNull();
    for (const pid of home.seen.keys()) expect(gone(pid)).toBe(true);
  });

  it('names the busy port when one is taken', async () => {
    const home = newHome();
    const base = await freeBasePort(3);
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(base + 1 + 10_000, '127.0.0.1', done));
    try {
      const up = await home.run('cluster', 'up', '--size', '3', '--base-port', String(base));
      expect(up.code).toBe(1);
      expect(up.stderr).toBe(
        `hearsay: port ${base + 10_001} on 127.0.0.1 (HTTP port of node-1) is busy (TCP: in use): pick another --base-port, or stop what uses it\n`,
      );
      expect(up.stdout).toBe('');
      expect(home.state()).toBeNull();
    } finally {
      await new Promise((done) => blocker.close(done));
    }
  });
});

describe('hearsay cluster, usage and missing cluster', () => {
  let home: TestHome;
  beforeAll(() => {
    home = newHome();
  });
  afterEach(() => {
    expect(home.state()).toBeNull();
  });

  it.each([
    [['cluster', 'frobnicate'], /^error: unknown command 'frobnicate'/],
    [['cluster', 'up'], /^error: required option '--size <n>' not specified/],
    [['cluster', 'up', '--size', 'five'], /^error: option '--size <n>' argument 'five' is invalid\. "five" is not a whole number/],
    [['cluster', 'up', '--size', '0'], /^error: option '--size <n>' argument '0' is invalid\. "0" must be at least 1/],
    [
      ['cluster', 'up', '--size', '3', '--base-port', '70000'],
      /^error: option '--base-port <port>' argument '70000' is invalid\. "70000" is not a port: use a whole number from 1 to 65535/,
    ],
    [['cluster', 'up', '--size', '3', '--base-port', 'x'], /"x" is not a port/],
    [
      ['cluster', 'up', '--size', '5', '--base-port', '55532'],
      /^hearsay: --base-port 55532 with --size 5 needs gossip ports 55532…55536 and HTTP ports 65532…65536, past 65535: use a base port of at most 55531\n$/,
    ],
    [['cluster', 'up', '--size', '3', '--profile', 'moon'], /argument 'moon' is invalid\. Allowed choices are lan, local, wan/],
    [['cluster', 'up', '--size', '3', '--probe-interval', 'soon'], /"soon" is not a duration/],
    [['cluster', 'up', '--size', '3', '--name', 'x'], /^error: unknown option '--name'/],
    [['cluster', 'watch', '--interval', '10ms'], /"10ms" is too short: use at least 50ms/],
    [['cluster', 'kill', '--bogus'], /^error: unknown option '--bogus'/],
  ])('exits 2 with a precise message for %j', async (args, message) => {
    const run = await home.run(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it.each(['members', 'members --json', 'watch --once', 'watch', 'add', 'kill'])(
    'cluster %s with no cluster exits 1 and says how to start one',
    async (args) => {
      const run = await home.run('cluster', ...args.split(' '));
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`hearsay: no cluster is recorded in ${home.dir}: start one with \`hearsay cluster up --size N\` (or set HEARSAY_HOME)\n`);
      expect(run.stdout).toBe('');
    },
  );

  it('cluster down with no cluster is fine', async () => {
    const run = await home.run('cluster', 'down');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`No cluster is recorded in ${home.dir}: nothing to stop\n`);
  });
});
