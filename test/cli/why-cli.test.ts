/**
 * `hearsay why`, GET /v1/members/{name}/history, GET /v1/views and their metrics against real
 * `hearsay agent` processes (issue 18): a member paused (SIGSTOP) until it is suspected, then
 * continued, is explained as suspected and refuted; one killed (SIGKILL) as failed, with the
 * evidence; the views agree once the cluster has converged; bad input gets precise answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { killAgents, spawnAgent, type AgentProcess } from './agent-processes.js';
import { hearsay } from './cluster-harness.js';

const FAST_FLAGS = ['--probe-interval', '500ms', '--probe-timeout', '250ms', '--gossip-interval', '100ms'];
const POLL = { timeoutMs: 30_000, intervalMs: 200 } as const;
const agents: AgentProcess[] = [];
let alpha: AgentProcess;
let bravo: AgentProcess;
let charlie: AgentProcess;
let delta: AgentProcess;

interface Verdict {
  member: string;
  suspectedAt: number | null;
  suspectedTime: string | null;
  accuser: string;
  own: boolean;
  probe: { helpers: { name: string; answer: string }[]; tcp: string } | null;
  outcome: { kind: string; by?: string; time: string } | null;
}
interface History {
  member: string;
  node: string;
  status: string | null;
  history: Verdict[];
}

const getJson = async (agent: AgentProcess, path: string) => (await fetch(`http://${agent.http}${path}`)).json();
const history = async (agent: AgentProcess, name: string) => (await getJson(agent, `/v1/members/${name}/history`)) as History;
const statusAt = async (agent: AgentProcess, name: string) =>
  ((await getJson(agent, '/v1/members')) as { name: string; status: string }[]).find((m) => m.name === name)?.status;

/** One value of a metric without labels from an agent's /metrics. */
async function metric(agent: AgentProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://${agent.http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

beforeAll(async () => {
  alpha = await spawnAgent('alpha', FAST_FLAGS);
  agents.push(alpha);
  for (const name of ['bravo', 'charlie', 'delta']) agents.push(await spawnAgent(name, [...FAST_FLAGS, '--join', alpha.gossip]));
  [, bravo, charlie, delta] = agents as [AgentProcess, AgentProcess, AgentProcess, AgentProcess];
  await waitFor(
    'four alive members at every agent',
    async () => {
      for (const agent of agents) {
        const members = (await getJson(agent, '/v1/members')) as { status: string }[];
        if (members.filter((m) => m.status === 'alive').length !== 4) return false;
      }
      return true;
    },
    { ...POLL, retryErrors: true },
  );
}, 60_000);
afterAll(() => killAgents(agents));

describe('GET /v1/views and the view metrics', () => {
  it('agree across the agents once the cluster has converged', async () => {
    const digests = await waitFor(
      'one view digest at every agent, each hearing one',
      async () => {
        const views = (await Promise.all(agents.map((agent) => getJson(agent, '/v1/views')))) as {
          digest: number;
          distinct: number;
          differing: string[];
          degraded: unknown[];
        }[];
        return new Set(views.map((v) => v.digest)).size === 1 && views.every((v) => v.distinct === 1 && v.differing.length === 0) ? views : undefined;
      },
      POLL,
    );
    expect(digests[0]!.digest).toBeGreaterThanOrEqual(0);
    expect(digests[0]!.digest).toBeLessThan(2 ** 32);
    expect(digests[0]!.degraded).toEqual([]);
    const metricDigests = await Promise.all(agents.map((agent) => metric(agent, 'hearsay_view_digest')));
    expect(new Set(metricDigests).size).toBe(1);
    expect(await metric(alpha, 'hearsay_view_distinct')).toBeGreaterThanOrEqual(1);
    expect(await metric(alpha, 'hearsay_view_differing_peers')).toBeGreaterThanOrEqual(0);
    expect(await metric(alpha, 'hearsay_degraded_peers')).toBe(0);
    expect(await metric(alpha, 'hearsay_degraded_pairs_total')).toBeGreaterThanOrEqual(0);
    const info = (await getJson(alpha, '/v1/info')) as { views: { digest: number; distinct: number; differing: number; degraded: number } };
    expect(info.views).toMatchObject({ degraded: 0 });
    expect(info.views.distinct).toBeGreaterThanOrEqual(1);
  });
});

describe('hearsay why', () => {
  it('explains a suspicion of a paused member that it refuted once continued', async () => {
    process.kill(delta.pid, 'SIGSTOP');
    try {
      await waitFor('alpha to suspect delta', async () => ['suspect', 'failed'].includes((await statusAt(alpha, 'delta')) ?? ''), POLL);
    } finally {
      process.kill(delta.pid, 'SIGCONT');
    }
    await waitFor('delta alive again at alpha', async () => (await statusAt(alpha, 'delta')) === 'alive', POLL);
    const answer = await history(alpha, 'delta');
    expect(answer).toMatchObject({ member: 'delta', node: 'alpha', status: 'alive' });
    const episode = answer.history.find((r) => r.suspectedAt !== null);
    expect(episode, JSON.stringify(answer)).toBeDefined();
    // Its own probe (with the helpers it asked and the TCP ping) or a rumour with its accuser.
    if (episode!.own) expect(episode!.probe?.helpers.length).toBeGreaterThan(0);
    else expect(['bravo', 'charlie']).toContain(episode!.accuser);
    expect(episode!.suspectedTime).toBe(new Date(episode!.suspectedAt!).toISOString());

    const run = await hearsay({ HEARSAY_HTTP_ADDR: alpha.http }, ['why', 'delta']);
    if (process.env.WHY_SHOW) console.log(run.stdout);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^delta is alive: /);
    expect(run.stdout).toMatch(
      /\d+\. suspected at \d{4}-\d\d-\d\dT[\d:.]+Z, incarnation \d+, (by this node \(health \d+\): direct ping got no ack in 250 ms; indirect pings via |on a rumour from (bravo|charlie))/,
    );
    // A suspicion ends refuted, or failed and back alive.
    expect(run.stdout).toMatch(/refuted after [\d.]+ m?s: the member answered with incarnation \d+|came back alive at /);
  }, 60_000);

  it('explains a killed member as failed, with the evidence, and gives the records with --json', async () => {
    process.kill(charlie.pid, 'SIGKILL');
    await charlie.exited;
    await waitFor('charlie failed at alpha', async () => (await statusAt(alpha, 'charlie')) === 'failed', POLL);
    const run = await hearsay({ HEARSAY_HTTP_ADDR: alpha.http }, ['why', 'charlie']);
    if (process.env.WHY_SHOW) console.log(run.stdout);
    expect(run.code).toBe(0);
    const [summary] = run.stdout.split('\n');
    expect(summary).toMatch(/^charlie is failed: declared failed by (this node|(bravo|delta) \(its rumour reached this node\)) at \d{4}-[\d-]+T[\d:.]+Z, /);
    // The evidence: alpha's own probe (its helpers' answers and the TCP ping), or whose rumour.
    expect(run.stdout).toMatch(
      /by this node \(health \d+\): direct ping got no ack in 250 ms; indirect pings via (bravo|delta) \((nack|no answer)\).*; TCP ping: [^;]+; waited|on a rumour from (bravo|delta)|by a rumour from (bravo|delta) \(no suspicion here\)/,
    );
    expect(run.stdout).toMatch(
      /declared failed after [\d.]+ m?s by (this node|a rumour from (bravo|delta))|by a rumour from (bravo|delta) \(no suspicion here\)/,
    );

    const json = await hearsay({ HEARSAY_HTTP_ADDR: alpha.http }, ['why', 'charlie', '--json']);
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout) as History;
    expect(answer).toMatchObject({ member: 'charlie', node: 'alpha', status: 'failed' });
    const last = answer.history.at(-1)!;
    expect(last.outcome).toMatchObject({ kind: 'failed' });
    expect(last.outcome!.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    if (last.own) expect(last.probe!.helpers.map((h) => h.name).every((name) => ['bravo', 'delta'].includes(name))).toBe(true);
  }, 60_000);

  it('refuses an unknown member (exit 1, the agent’s message) and a name too long (400, exit 2)', async () => {
    const unknown = await hearsay({ HEARSAY_HTTP_ADDR: bravo.http }, ['why', 'nobody']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe(
      `hearsay: the agent at http://${bravo.http} answered GET /v1/members/nobody/history with HTTP 404: no member named "nobody": bravo does not list it and has no verdict about it on record\n`,
    );
    const long = 'x'.repeat(256);
    const response = await fetch(`http://${bravo.http}/v1/members/${long}/history`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'a member name has at most 255 characters, got 256' });
    const run = await hearsay({ HEARSAY_HTTP_ADDR: bravo.http }, ['why', long]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('HTTP 400: a member name has at most 255 characters, got 256');
    // A name of 255 characters is a name: unknown here.
    expect((await fetch(`http://${bravo.http}/v1/members/${'x'.repeat(255)}/history`)).status).toBe(404);
  });
});
