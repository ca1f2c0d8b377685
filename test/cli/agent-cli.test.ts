import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { waitFor } from '../helpers/wait.js';
import { freeBasePort } from './cluster-harness.js';

const cli = fileURLToPath(new URL('../../packages/agent/dist/cli/main.js', import.meta.url));
/** The bin npm links at the repository root: what a supervisor should run. */
const bin = fileURLToPath(new URL('../../node_modules/.bin/hearsay', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'hearsay-agent-cli-'));
const nodes: HearsayNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.shutdown()));
  rmSync(scratch, { recursive: true, force: true });
});

/** A file in the scratch directory holding `content`, mode 0600 (keyring files must be). */
function scratchFile(name: string, content: string): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  chmodSync(path, 0o600);
  return path;
}

/** Spawns `hearsay agent ARGS` (through `command`, by default node and the built CLI) and waits for its `agent ready` log line; `log()` reads what it printed so far. */
async function startAgent(args: string[], command: [string, ...string[]] = [process.execPath, cli]) {
  const [file, ...prefix] = command;
  const child = spawn(file, [...prefix, 'agent', ...args]);
  let text = '';
  child.stderr.on('data', (chunk) => (text += chunk));
  try {
    await waitFor('the agent ready', () => child.exitCode !== null || text.includes('agent ready'), { timeoutMs: 15_000 });
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`agent did not start: ${text}`, { cause: error });
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
      // One JSON object a line, each key once (JSON.parse keeps the last of a repeated key), each naming the node.
      for (const line of log().trim().split('\n')) {
        expect(JSON.stringify(JSON.parse(line)), 'every key once').toBe(line);
        expect(JSON.parse(line).node).toBe('signalled');
      }
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('run as the bin itself (as the help says for supervisors), it is gone once SIGTERM is sent', async () => {
    const { child } = await startAgent(['--name', 'supervised', '--bind', '127.0.0.1:0', '--http', '127.0.0.1:0'], [bin]);
    try {
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      process.kill(child.pid!, 'SIGTERM');
      expect(await exited).toBe(0);
      expect(() => process.kill(child.pid!, 0)).toThrow(/ESRCH/);
    } finally {
      child.kill('SIGKILL');
    }
    const help = spawnSync(process.execPath, [cli, 'agent', '--help'], { encoding: 'utf8' });
    expect(help.stdout).toMatch(/run the bin itself, node_modules\/\.bin\/hearsay agent …,\nnot npx/);
  });

  it('--http with a host and no port serves on the default port, the gossip port + 10000', async () => {
    const port = await freeBasePort(1);
    const { child, ready } = await startAgent(['--name', 'portless', '--bind', `127.0.0.1:${port}`, '--http', '127.0.0.1']);
    try {
      expect(ready.http).toBe(`127.0.0.1:${port + 10_000}`);
      expect((await fetch(`http://127.0.0.1:${port + 10_000}/v1/self`)).status).toBe(200);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('answers to the names given by --http-allowed-host, and refuses other Host headers', async () => {
    const { child, ready } = await startAgent([
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
      const retried = () => (log.match(/no seed answered, retrying/g) ?? []).length >= 2;
      await waitFor('two retries logged (or an exit)', () => child.exitCode !== null || retried(), { timeoutMs: 15_000 });
      if (!retried()) throw new Error(`no retries logged: ${log}`);
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

  it('exits 1 (a failure, not a usage error) with a precise message and no stack when its port is taken', async () => {
    const holder = await createNode({ name: 'holder', bind: '127.0.0.1:0' });
    nodes.push(holder);
    const run = spawnSync(process.execPath, [cli, 'agent', '--bind', `127.0.0.1:${holder.address.port}`], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^hearsay: .*already in use: choose another port/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 when its HTTP port is taken, as for the gossip port', async () => {
    const holder = http.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = (holder.address() as { port: number }).port;
      const run = spawnSync(process.execPath, [cli, 'agent', '--bind', '127.0.0.1:0', '--http', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 20_000 });
      expect(run.stderr).toMatch(/^hearsay: HTTP port 127\.0\.0\.1:\d+ is already in use: give another --http\n$/);
      expect(run.status).toBe(1);
    } finally {
      holder.close();
    }
  });

  it.each([
    [['--encrypt', 'AAAA'], /--encrypt: encryption key decodes to 3 bytes: it must be 16, 24 or 32/],
    [['--encrypt', 'my secret!'], /^hearsay: --encrypt: encryption key is not base64: give it as `serf keygen` prints one\n$/],
    [['--name', ''], /^hearsay: name must be 1 to 255 characters\n$/],
    [['--bind', 'here:there'], /"here:there" has no valid port/],
    [['--bind', 'not a host:1'], /is not an address/],
    [['--tag', 'novalue'], /is not a tag: use key=value/],
    [['--protocol', 'tcp'], /Allowed choices are swim, heartbeat, hybrid/],
    [['--pin', ''], /pinned member name "" must be 1 to 255 characters/],
    [['--config', '/nonexistent/agent.json'], /cannot read config file/],
    [['--http', '0.0.0.0:0'], /give --http-token/],
    [['--query-handler-concurrency', '0'], /"0" must be at least 1/],
    [['--http-allowed-host', 'agent.test:80'], /allowed HTTP host names must be names or addresses without a port/],
    [['--probe-interval', '3'], /argument '3' is invalid\. "3" has no unit: use a unit, like 3s or 3ms/],
    [
      ['--keyring-file', scratchFile('keyring.json', JSON.stringify([Buffer.alloc(32, 1).toString('base64'), 'my secret!']))],
      /keyring file .*keyring\.json, key 2 of 2: encryption key is not base64/,
    ],
  ])('exits 2 for %j', (args, message) => {
    const run = spawnSync(process.execPath, [cli, 'agent', '--bind', '127.0.0.1:0', ...args], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toMatch(message);
    expect(run.status).toBe(2);
    expect(run.stderr).not.toContain('my secret!');
  });

  let configFiles = 0;
  it.each([
    ['{"join": "127.0.0.1:7946"}', /"join" must be a list of "host:port" strings, like \["10\.0\.0\.1:7946"\], not "127\.0\.0\.1:7946"$/],
    ['{"queryHandlers": {}}', /"queryHandlers" must be a list of "NAME=COMMAND" strings, like \["load=uptime"\], not \{\}$/],
    ['{"logLevel": "verbose"}', /"logLevel" must be one of "trace", "debug", "info", "warn", "error", "silent", not "verbose"$/],
    ['{"nmae": "web-1"}', /unknown key "nmae"; known keys are name, bind, advertise, /],
    ['{"dropRate": "0.1"}', /"dropRate" must be a number from 0 to 1, not "0\.1"$/],
    ['{"tags": {"rack": 1}}', /"tags" must be an object of strings, like \{"role": "web"\}, not \{"rack":1\}$/],
    ['{"protocol": "gossip"}', /"protocol" must be one of "swim", "heartbeat", "hybrid", not "gossip"$/],
    ['{"config": {"probeIntervalMs": "3"}}', /config\.probeIntervalMs: "3" has no unit: use a unit, like 3s or 3ms \(or a number of milliseconds\)$/],
    ['{"config": {"probeIntervalMs": true}}', /config\.probeIntervalMs must be a number of milliseconds or a duration, like 500 or "500ms", not true$/],
    ['{"config": {"probeInterval": 500}}', /unknown setting config\.probeInterval; known: probeIntervalMs, /],
    ['{"config": {"probeIntervalMs": 0}}', /probeIntervalMs must be a finite number ≥ 1, got 0$/],
    ['{"name": ""}', /name must be 1 to 255 characters$/],
    ['["web-1"]', /must hold a JSON object, like \{"name": "web-1"\}$/],
    ['{"name": ', /cannot read config file .*JSON/],
  ])('exits 2 for a config file holding %s, saying which key, without a stack trace', (content, message) => {
    const file = scratchFile(`config-${configFiles++}.json`, content);
    const run = spawnSync(process.execPath, [cli, 'agent', '--bind', '127.0.0.1:0', '--config', file], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr.trimEnd()).toMatch(message);
    expect(run.stderr).toMatch(/^hearsay: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(2);
  });
});
