import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';

const cli = fileURLToPath(new URL('../../packages/agent/dist/cli/main.js', import.meta.url));
const nodes: HearsayNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.shutdown()));
});

/** Spawns `hearsay agent ARGS` and waits for its `agent ready` log line; `log()` reads what it printed so far. */
async function startAgent(args: string[]) {
  const child = spawn(process.execPath, [cli, 'agent', ...args]);
  let text = '';
  child.stderr.on('data', (chunk) => (text += chunk));
  const deadline = Date.now() + 15_000;
  while (!text.includes('agent ready')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`agent did not start: ${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const ready = JSON.parse(text.split('\n').find((line) => line.includes('agent ready'))!);
  return { child, log: () => text, ready };
}

describe('hearsay agent', () => {
  it('runs until SIGTERM, then leaves gracefully and exits 0', async () => {
    const { child, log, ready } = await startAgent(['--name', 'signalled', '--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', '--tag', 'role=test']);
    try {
      expect(ready.gossip).toMatch(/^127\.0\.0\.1:\d+$/);
      const self = await (await fetch(`http://${ready.http}/v1/self`)).json();
      expect(self).toMatchObject({ name: 'signalled', tags: { role: 'test' } });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(log()).toMatch(/leaving gracefully/);
      expect(log()).toMatch(/agent stopped/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('answers to the names given by --http-allowed-host, and refuses other Host headers', async () => {
    const { child, log, ready } = await startAgent([
      '--name',
      'named',
      '--bind',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--http-allowed-host',
      'agent.test',
      '--query-handler-concurrency',
      '2',
    ]);
    try {
      const port = Number(ready.http.split(':')[1]);
      const status = (host: string) =>
        new Promise<number>((resolve, reject) =>
          http.get({ host: '127.0.0.1', port, path: '/v1/self', headers: { host } }, (response) => resolve(response.resume().statusCode!)).on('error', reject),
        );
      expect(await status(`agent.test:${port}`)).toBe(200);
      expect(await status('attacker.example')).toBe(421);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('keeps retrying an unreachable seed with backoff, saying so, while it serves its API', async () => {
    const gone = await createNode({ name: 'gone', bind: '127.0.0.1:0' });
    const port = gone.address.port;
    await gone.shutdown();
    const child = spawn(process.execPath, [cli, 'agent', '--name', 'patient', '--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', '--join', `127.0.0.1:${port}`]);
    let log = '';
    child.stderr.on('data', (chunk) => (log += chunk));
    try {
      const deadline = Date.now() + 15_000;
      while ((log.match(/no seed reachable yet, retrying/g) ?? []).length < 2) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no retries logged: ${log}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const retries = log
        .split('\n')
        .filter((line) => line.includes('retrying'))
        .map((line) => JSON.parse(line).retryInMs);
      expect(retries.slice(0, 2)).toEqual([1000, 2000]);
      const ready = JSON.parse(log.split('\n').find((line) => line.includes('agent ready'))!);
      expect((await fetch(`http://${ready.http}/v1/self`)).status).toBe(200);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('starts with --protocol and --pin, warning that Serf nodes would be judged failed', async () => {
    const { child, log, ready } = await startAgent([
      '--name',
      'hybrid',
      '--bind',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--protocol',
      'hybrid',
      '--pin',
      'web-1',
    ]);
    try {
      expect(log()).toMatch(/hybrid detection needs every member to run hearsay: Serf and memberlist agents drop heartbeats and will be judged failed/);
      expect(ready.protocol).toBe('hybrid');
      const protocol = await (await fetch(`http://${ready.http}/v1/protocol`)).json();
      expect(protocol).toMatchObject({ protocol: 'hybrid', epoch: 0, pinned: ['web-1'] });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('exits 2 with a precise message when its port is taken', async () => {
    const holder = await createNode({ name: 'holder', bind: '127.0.0.1:0' });
    nodes.push(holder);
    const run = spawnSync(process.execPath, [cli, 'agent', '--bind', `127.0.0.1:${holder.address.port}`], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/already in use: choose another port/);
  });

  it.each([
    [['--encrypt', 'AAAA'], /decodes to 3 bytes: it must be 16, 24 or 32/],
    [['--bind', 'here:there'], /is not an address/],
    [['--tag', 'novalue'], /is not a tag: use key=value/],
    [['--protocol', 'tcp'], /Allowed choices are swim, heartbeat, hybrid/],
    [['--pin', ''], /pinned member name "" must be 1 to 255 characters/],
    [['--config', '/nonexistent/agent.json'], /cannot read config file/],
    [['--http', '0.0.0.0:0'], /give --http-token/],
    [['--query-handler-concurrency', '0'], /"0" must be at least 1/],
    [['--http-allowed-host', 'agent.test:80'], /allowed HTTP host names must be names or addresses without a port/],
  ])('exits 2 for %j', (args, message) => {
    const run = spawnSync(process.execPath, [cli, 'agent', '--bind', '127.0.0.1:0', ...args], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toMatch(message);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
