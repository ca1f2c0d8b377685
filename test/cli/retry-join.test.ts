/**
 * `hearsay agent --retry-join`, `--retry-interval` and `--retry-max` as Serf's agent has them: a
 * seed that comes up later is joined, a retry budget spent ends the agent with exit code 1, and
 * bad values are usage errors (exit code 2), as are bad values of --discover, --discover-interface
 * and --dns-server.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { waitFor } from '../helpers/wait.js';

const cli = fileURLToPath(new URL('../../packages/agent/dist/cli/main.js', import.meta.url));
const nodes: HearsayNode[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  await Promise.all(nodes.map((node) => node.shutdown()));
});

/** A port nothing listens on now: a node's, closed again. */
async function closedPort(): Promise<number> {
  const node = await createNode({ name: 'gone', bind: '127.0.0.1:0' });
  const { port } = node.address;
  await node.shutdown();
  return port;
}

function spawnAgent(args: string[]) {
  const child = spawn(process.execPath, [cli, 'agent', '--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', ...args]);
  children.push(child);
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, log: () => log };
}

describe('hearsay agent --retry-join', () => {
  it('keeps trying every --retry-interval, and joins a seed that starts later', async () => {
    const port = await closedPort();
    const agent = spawnAgent(['--name', 'patient', '--retry-join', `127.0.0.1:${port}`, '--retry-interval', '200ms']);
    const retries = () => agent.log().match(/retry-join: no seed answered, retrying/g)?.length ?? 0;
    await waitFor('two retries logged', () => retries() >= 2 || agent.child.exitCode !== null, { timeoutMs: 15_000, detail: agent.log });
    const intervals = agent
      .log()
      .split('\n')
      .filter((line) => line.includes('retrying'))
      .map((line) => JSON.parse(line).retryInMs);
    expect(intervals.slice(0, 2)).toEqual([200, 200]);

    const seed = await createNode({ name: 'late-seed', bind: `127.0.0.1:${port}` });
    nodes.push(seed);
    await waitFor('the agent joined the late seed', () => agent.log().includes('retry-join: joined the cluster'), { timeoutMs: 15_000, detail: agent.log });
    await waitFor('the seed sees the agent alive', () => seed.members().some((m) => m.name === 'patient' && m.status === 'alive'), { timeoutMs: 15_000 });
    expect(agent.child.exitCode).toBeNull();
  });

  it('gives up after --retry-max retries: exit code 1 and a line saying why', async () => {
    const port = await closedPort();
    const agent = spawnAgent(['--name', 'hopeless', '--retry-join', `127.0.0.1:${port}`, '--retry-interval', '100ms', '--retry-max', '2']);
    const code = await waitFor('the agent exiting', () => agent.exited, { timeoutMs: 20_000 });
    expect(code).toBe(1);
    const lines = agent.log().trim().split('\n');
    expect(lines.filter((line) => line.includes('retrying'))).toHaveLength(2);
    const last = lines.filter((line) => line.includes('giving up')).map((line) => JSON.parse(line));
    expect(last).toEqual([
      expect.objectContaining({
        level: 50,
        attempts: 3,
        msg: `retry-join: no seed of 127.0.0.1:${port} answered in 3 attempts (--retry-max 2): giving up`,
      }),
    ]);
    expect(agent.log()).toMatch(/agent stopped/);
  });

  it.each([
    [['--retry-interval', '5'], /option '--retry-interval <duration>' argument '5' is invalid\. "5" has no unit: use a unit, like 5s or 5ms/],
    [['--retry-interval', '0s'], /argument '0s' is invalid\. "0s" must be more than 0, like 30s/],
    [['--retry-max', '-1'], /option '--retry-max <n>' argument '-1' is invalid\. "-1" is not a whole number/],
    [['--retry-max', 'many'], /"many" is not a whole number/],
    [['--retry-join', 'here:there'], /^hearsay: "here:there" has no valid port/],
    [['--retry-join', 'no where:1'], /^hearsay: "no where:1" is not an address/],
    [['--discover', 'a.b'], /^hearsay: --discover "a\.b": use letters, digits, dashes and underscores/],
    [['--discover', 'x', '--discover-interface', 'no-such-if0'], /^hearsay: --discover-interface no-such-if0: no such network interface/],
    // Passed on to the library, which reads it.
    [['--dns-server', 'not-an-ip'], /^hearsay: dnsServers\[0\] "not-an-ip" is not a DNS server/],
  ])('exits 2 for %j with a precise message', (args, message) => {
    const run = spawnSync(process.execPath, [cli, 'agent', '--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', ...args], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(2);
  });
});
