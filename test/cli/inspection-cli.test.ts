/**
 * `hearsay members` filters, `hearsay info` and `hearsay monitor` against real `hearsay agent`
 * processes, as an operator runs them (HEARSAY_HTTP_ADDR names the agent), bad input included.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { spawnAgent, killAgents, type AgentProcess } from './agent-processes.js';
import { CLI, hearsay } from './cluster-harness.js';

const FAST_FLAGS = ['--probe-interval', '500ms', '--probe-timeout', '250ms', '--gossip-interval', '100ms'];
const agents: AgentProcess[] = [];
let web: AgentProcess;
let db: AgentProcess;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  web = await spawnAgent('web-1', [...FAST_FLAGS, '--tag', 'role=web', '--query-handler', 'ping=echo pong']);
  agents.push(web);
  db = await spawnAgent('db-1', [...FAST_FLAGS, '--tag', 'role=db', '--join', web.gossip]);
  agents.push(db);
  env = { HEARSAY_HTTP_ADDR: web.http };
  await waitFor(
    'both members alive at web-1',
    async () => {
      const run = await hearsay(env, ['members', '--status', 'alive', '--json']);
      return run.code === 0 && (JSON.parse(run.stdout) as unknown[]).length === 2;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}, 90_000);
afterAll(() => killAgents(agents));

/** `hearsay_monitor_clients` from an agent's /metrics. */
async function attachedMonitors(agent: AgentProcess): Promise<number> {
  const text = await (await fetch(`http://${agent.http}/metrics`)).text();
  return Number(
    text
      .split('\n')
      .find((line) => line.startsWith('hearsay_monitor_clients '))
      ?.split(' ')[1],
  );
}

const names = (stdout: string) => (JSON.parse(stdout) as { name: string }[]).map((m) => m.name).sort();

describe('hearsay members filters', () => {
  it('filters by tag, name and status as serf members does', async () => {
    expect(names((await hearsay(env, ['members', '--tag', 'role=web', '--json'])).stdout)).toEqual(['web-1']);
    expect(names((await hearsay(env, ['members', '--tag', 'role=web|db', '--json'])).stdout)).toEqual(['db-1', 'web-1']);
    expect(names((await hearsay(env, ['members', '--name', 'db', '--json'])).stdout)).toEqual([]);
    expect(names((await hearsay(env, ['members', '--name', 'db-.', '--tag', 'role=db', '--json'])).stdout)).toEqual(['db-1']);
    expect(names((await hearsay(env, ['members', '--status', 'failed,left', '--json'])).stdout)).toEqual([]);
    const table = await hearsay(env, ['members', '--tag', 'role=db']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ db-1 +│ 127\.0\.0\.1:\d+ +│ alive /);
    expect(table.stdout).not.toContain('web-1');
  });

  it('shows the protocol versions with --detailed', async () => {
    const run = await hearsay(env, ['members', '--detailed', '--name', 'web-1']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Name .*Status .*Incarnation .*Tags .*Since .*RTT .*Protocol .*Serf protocol/);
    expect(run.stdout).toMatch(/│ web-1 .*│ role=web .*│ 2 \[1, 5\] +│ 4 \[2, 5\] +│/);
  });

  it('refuses a filter RE2 does not compile or an unknown status with exit 2, before asking any agent', async () => {
    const lookahead = await hearsay({ HEARSAY_HTTP_ADDR: '127.0.0.1:1' }, ['members', '--name', '(?=web)']);
    expect(lookahead.code).toBe(2);
    expect(lookahead.stderr).toContain(
      'the name filter: "(?=web)" is not a regular expression in RE2 syntax (as Go\'s and Serf\'s): error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
    );
    const paren = await hearsay({ HEARSAY_HTTP_ADDR: '127.0.0.1:1' }, ['members', '--tag', 'role=(']);
    expect(paren.code).toBe(2);
    expect(paren.stderr).toContain('the filter for tag "role": "(" is not a regular expression in RE2 syntax');
    const status = await hearsay({ HEARSAY_HTTP_ADDR: '127.0.0.1:1' }, ['members', '--status', 'alive,dead']);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('status "dead" is unknown: use alive, suspect, failed, left (a comma list)');
    const tag = await hearsay({ HEARSAY_HTTP_ADDR: '127.0.0.1:1' }, ['members', '--tag', 'role']);
    expect(tag.code).toBe(2);
    expect(tag.stderr).toContain('tag filter "role" is not key=regexp');
  });

  it('lists a member killed with SIGKILL under --status failed', async () => {
    const doomed = await spawnAgent('doomed-1', [...FAST_FLAGS, '--join', web.gossip]);
    agents.push(doomed);
    await waitFor('doomed-1 alive at web-1', async () => names((await hearsay(env, ['members', '--status', 'alive', '--json'])).stdout).includes('doomed-1'), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    await killAgents([doomed]);
    await waitFor(
      'doomed-1 failed at web-1',
      async () => names((await hearsay(env, ['members', '--status', 'failed', '--json'])).stdout).includes('doomed-1'),
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    expect(names((await hearsay(env, ['members', '--status', 'alive', '--json'])).stdout)).toEqual(['db-1', 'web-1']);
  });
});

describe('hearsay info', () => {
  it('prints serf info’s sections as key = value lines', async () => {
    const run = await hearsay(env, ['info']);
    expect(run.code).toBe(0);
    const sections = run.stdout.split('\n').filter((line) => /^\S.*:$/.test(line));
    expect(sections).toEqual(['agent:', 'runtime:', 'protocol:', 'encryption:', 'counts:', 'health:', 'views:', 'versions:', 'tags:']);
    expect(run.stdout).toContain('\tname = web-1\n');
    expect(run.stdout).toContain(`\tgossip = ${web.gossip}\n`);
    expect(run.stdout).toContain(`\thttp = ${web.http}\n`);
    expect(run.stdout).toContain(`\tpid = ${web.pid}\n`);
    expect(run.stdout).toContain('\tfailureDetector = swim\n');
    expect(run.stdout).toContain('\tmemberlist.current = 2\n');
    expect(run.stdout).toContain('\tenabled = false\n');
    expect(run.stdout).toMatch(/\tmembers = \d+\n/);
    // A loaded machine may stall the agent's loop, which raises its health score (by design).
    expect(run.stdout).toMatch(/\tscore = \d\n/);
    expect(run.stdout).toContain('\trole = web\n');
    // Whether its view of the membership agrees with its peers' (GET /v1/views).
    expect(run.stdout).toMatch(/\tdigest = \d+\n\tdistinct = \d+\n\tdiffering = \d+\n\tdegraded = \d+\n/);
  });

  it('prints the API’s JSON with --json', async () => {
    const run = await hearsay(env, ['info', '--json']);
    expect(run.code).toBe(0);
    const info = JSON.parse(run.stdout);
    expect(info.agent).toEqual({ name: 'web-1', gossip: web.gossip, advertise: web.gossip, http: web.http });
    expect(info.runtime).toMatchObject({ node: process.version, os: process.platform, arch: process.arch, pid: web.pid });
    expect(info.runtime.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(info.runtime.heapUsedBytes).toBeGreaterThan(0);
    expect(info.protocol).toEqual({
      failureDetector: 'swim',
      switchEpoch: 0,
      memberlist: { min: 1, max: 5, current: 2 },
      serf: { min: 2, max: 5, current: 4 },
    });
    expect(info.encryption).toEqual({ enabled: false, keys: 0 });
    expect(info.counts.alive).toBeGreaterThanOrEqual(2);
    expect(info.counts.members).toBe(info.counts.alive + info.counts.suspect + info.counts.failed + info.counts.left);
    expect(typeof info.counts.queryTime).toBe('number');
    expect(info.health).toMatchObject({ ready: true, reasons: [] });
    expect(Number.isInteger(info.health.score)).toBe(true);
    expect(info.versions).toMatchObject({ hearsay: '0.1.0', node: process.versions.node });
    expect(info.tags).toEqual({ role: 'web' });
    expect(Object.keys(info.views)).toEqual(['digest', 'distinct', 'differing', 'degraded']);
    expect(info.views.distinct).toBeGreaterThanOrEqual(1);
  });
});

/** `hearsay monitor ARGS` running in the background, its output read as it comes. */
function startMonitor(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'monitor', ...args], { env: { ...process.env, ...env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

describe('hearsay monitor', () => {
  it('shows the debug lines of an agent logging at info while it runs, and exits 0 on Ctrl-C', async () => {
    const monitor = startMonitor(['--log-level', 'debug']);
    try {
      // The query handler logs each answer at debug: ask until the monitor, once attached, shows one.
      await waitFor(
        'a debug line at the monitor',
        async () => {
          await hearsay(env, ['query', 'ping', '--timeout', '500ms']);
          return monitor.stdout().includes('[DEBUG] query answered');
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(monitor.stdout()).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \[DEBUG\] query answered node=web-1 query=ping from=web-1$/m);
      expect(web.stderr()).not.toContain('query answered');
      monitor.child.kill('SIGINT');
      expect(await monitor.exited).toBe(0);
      expect(monitor.stderr()).toBe('');
    } finally {
      monitor.child.kill('SIGKILL');
    }
  });

  it('prints the JSON records with --json, and exits 1 saying so when the agent stops', async () => {
    const monitor = startMonitor(['--json', '--http', db.http]);
    try {
      await waitFor('the monitor attached', async () => (await attachedMonitors(db)) === 1, { timeoutMs: 30_000, intervalMs: 250 });
      process.kill(db.pid, 'SIGTERM');
      expect(await monitor.exited).toBe(1);
      expect(monitor.stderr()).toBe(`hearsay: the agent at http://${db.http} ended the monitor: it stopped (or crashed)\n`);
      const records = monitor
        .stdout()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg: string; node: string });
      expect(records.map((r) => r.msg)).toContain('leaving gracefully (send the signal again to exit at once)');
      expect(records.every((r) => r.node === 'db-1')).toBe(true);
      expect(await db.exited).toBe(0);
    } finally {
      monitor.child.kill('SIGKILL');
    }
  });

  it('refuses an unknown level with exit 2 (and the agent with a 400)', async () => {
    const run = await hearsay(env, ['monitor', '--log-level', 'verbose']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("argument 'verbose' is invalid. Allowed choices are trace, debug, info, warn, error, fatal.");
    const nobody = await hearsay({}, ['monitor', '--http', '127.0.0.1:1']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('hearsay: cannot reach the agent at http://127.0.0.1:1');
    const response = await fetch(`http://${web.http}/v1/monitor?level=verbose`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'level must be one of trace, debug, info, warn, error, fatal, got "verbose"' });
  });
});
