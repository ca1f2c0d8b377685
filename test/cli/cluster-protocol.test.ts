/**
 * The run-time switch on a live cluster of 10 agent processes (`hearsay cluster up`): SWIM →
 * heartbeat → SWIM, each asked of one agent by PUT /v1/protocol, spreads to every agent, and no
 * agent ever loses a member or declares one failed. Every agent's event stream is followed
 * throughout and every agent's member list is polled; teardown is `cluster down`, then SIGKILL
 * by recorded PID for any agent still running.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fetchMembers, getJson } from '../../packages/agent/src/cli/cluster/api.js';
import { followEvents, type MemberEvent } from '../../packages/agent/src/cli/cluster/events.js';
import type { NodeRecord } from '../../packages/agent/src/cli/cluster/state.js';
import { waitFor } from '../helpers/wait.js';
import { CLI_POLL, freeBasePort, sleep, TestHome } from './cluster-harness.js';

const SIZE = 10;
const NAMES = Array.from({ length: SIZE }, (_, i) => `node-${i}`);
/** Heartbeats every 500 ms; a member silent for 3 s is suspect, for 6 s failed. */
const TIMING = ['--profile', 'local', '--probe-interval', '500ms', '--heartbeat-interval', '500ms', '--suspect-after', '3s', '--fail-after', '6s'];
const FAIL_AFTER_MS = 6_000;

const home = new TestHome();
const streams = new AbortController();
afterAll(async () => {
  streams.abort();
  await home.cleanup();
});

const base = (node: NodeRecord) => `http://${node.http}`;

/** A sample of one metric in an agent's Prometheus text. */
async function metric(node: NodeRecord, name: string): Promise<number> {
  const text = await (await fetch(`${base(node)}/metrics`)).text();
  const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
  if (value === undefined) throw new Error(`${node.name} has no ${name}`);
  return Number(value);
}

async function putProtocol(node: NodeRecord, protocol: string): Promise<{ protocol: string; epoch: number; origin: string }> {
  const response = await fetch(`${base(node)}/v1/protocol`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ protocol }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { protocol: string; epoch: number; origin: string };
}

describe('a run-time protocol switch on 10 agent processes', () => {
  it('SWIM → heartbeat → SWIM, asked of one agent each time: all follow, none loses or fails a member', async () => {
    const port = await freeBasePort(SIZE);
    const up = await home.run('cluster', 'up', '--size', String(SIZE), '--base-port', String(port), '--protocol', 'swim', ...TIMING);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const nodes = home.state()!.nodes;
    expect(home.state()!.agent_flags).toContain('--protocol');

    // Every event of every agent, from now on; a stream that ends means an agent went away.
    const events: MemberEvent[] = [];
    const ended: string[] = [];
    let open = 0;
    for (const node of nodes) {
      followEvents(
        base(node),
        node.name,
        streams.signal,
        (event) => events.push(event),
        () => open++,
      ).then(
        () => ended.push(node.name),
        (error: Error) => streams.signal.aborted || ended.push(`${node.name}: ${error.message}`),
      );
    }
    await waitFor('every event stream to open', () => open === SIZE, { timeoutMs: 10_000, intervalMs: 50, retryErrors: true });

    /** Problems in every agent's member list: a member missing, failed or left. */
    const lost = async (): Promise<string[]> => {
      const views = await Promise.all(nodes.map((node) => fetchMembers(base(node))));
      const problems: string[] = [];
      views.forEach((members, i) => {
        for (const name of NAMES) {
          const status = members.find((m) => m.name === name)?.status ?? 'missing';
          if (status !== 'alive' && status !== 'suspect') problems.push(`${nodes[i]!.name} lists ${name} as ${status}`);
        }
      });
      return problems;
    };
    const allAlive = async () => {
      const views = await Promise.all(nodes.map((node) => fetchMembers(base(node))));
      return views.every((members) => members.length === SIZE && members.every((m) => m.status === 'alive'));
    };
    /** Polls every agent's list for `ms`: nothing may go missing, fail or leave meanwhile. */
    const holdFor = async (ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until; await sleep(500)) expect(await lost()).toEqual([]);
    };
    const everyoneOn = (protocol: string, epoch: number, origin: string) =>
      waitFor(
        `every agent on ${protocol} (epoch ${epoch})`,
        async () => {
          const states = (await Promise.all(nodes.map((node) => getJson(base(node), '/v1/protocol')))) as { protocol: string; epoch: number; origin: string }[];
          return states.every((s) => s.protocol === protocol && s.epoch === epoch && s.origin === origin);
        },
        { ...CLI_POLL, timeoutMs: 15_000 },
      );

    await waitFor(`${SIZE} alive in every agent`, allAlive, { ...CLI_POLL, timeoutMs: 30_000 });

    // SWIM → heartbeat, asked of node-3 only.
    const toHeartbeat = await putProtocol(nodes[3]!, 'heartbeat');
    expect(toHeartbeat).toEqual({ protocol: 'heartbeat', epoch: expect.any(Number), origin: 'node-3' });
    await everyoneOn('heartbeat', toHeartbeat.epoch, 'node-3');
    const probes = await Promise.all(nodes.map((node) => metric(node, 'hearsay_probes_total')));
    const tables = await Promise.all(nodes.map((node) => metric(node, 'hearsay_heartbeat_tables_received_total')));
    // Past failAfter: a member whose heartbeats did not reach someone would now be failed there.
    await holdFor(FAIL_AFTER_MS + 1_000);
    for (const [i, node] of nodes.entries()) {
      expect(await metric(node, 'hearsay_probes_total'), `${node.name} still probing`).toBe(probes[i]);
      expect(await metric(node, 'hearsay_heartbeat_tables_received_total')).toBeGreaterThan(tables[i]!);
    }

    // heartbeat → SWIM, asked of node-7.
    const toSwim = await putProtocol(nodes[7]!, 'swim');
    expect(toSwim).toEqual({ protocol: 'swim', epoch: expect.any(Number), origin: 'node-7' });
    expect(toSwim.epoch).toBeGreaterThan(toHeartbeat.epoch);
    await everyoneOn('swim', toSwim.epoch, 'node-7');
    const swimProbes = await Promise.all(nodes.map((node) => metric(node, 'hearsay_probes_total')));
    // Past the minimum SWIM suspicion timeout (3 × 500 ms) several times over.
    await holdFor(5_000);
    for (const [i, node] of nodes.entries()) expect(await metric(node, 'hearsay_probes_total')).toBeGreaterThan(swimProbes[i]!);
    await waitFor(`${SIZE} alive in every agent at the end`, allAlive, { ...CLI_POLL, timeoutMs: 10_000 });

    expect(ended).toEqual([]);
    expect(events.filter((e) => e.type === 'failed' || e.type === 'left')).toEqual([]);
    for (const name of NAMES) {
      const switches = events.filter((e) => e.observer === name && e.type === 'protocol').map((e) => e.member);
      expect(switches, `protocol events at ${name}`).toEqual(['heartbeat', 'swim']);
    }
  }, 90_000);
});
