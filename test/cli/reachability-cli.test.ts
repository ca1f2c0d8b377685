/**
 * `hearsay reachability` (serf reachability) in a cluster of four `hearsay agent` processes:
 * every member acks the `_serf_ping` query (exit 0); one stopped with SIGSTOP is listed as not
 * answering (exit 1), and answers again once continued.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { killAgents, spawnAgent, type AgentProcess } from './agent-processes.js';
import { hearsay } from './cluster-harness.js';

const FAST_FLAGS = ['--probe-interval', '500ms', '--probe-timeout', '250ms', '--gossip-interval', '100ms'];
const NAMES = ['reach-1', 'reach-2', 'reach-3', 'reach-4'];
const agents: AgentProcess[] = [];
let env: NodeJS.ProcessEnv;

interface Reachability {
  members: number;
  acks: string[];
  silent: { name: string; status: string }[];
  unexpected: string[];
}

beforeAll(async () => {
  const first = await spawnAgent(NAMES[0]!, FAST_FLAGS);
  agents.push(first);
  for (const name of NAMES.slice(1)) agents.push(await spawnAgent(name, [...FAST_FLAGS, '--join', first.gossip]));
  env = { HEARSAY_HTTP_ADDR: first.http };
  await waitFor(
    'four members alive at reach-1',
    async () => {
      const run = await hearsay(env, ['members', '--status', 'alive', '--json']);
      return run.code === 0 && (JSON.parse(run.stdout) as unknown[]).length === 4;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}, 120_000);
afterAll(() => killAgents(agents));

describe('hearsay reachability', () => {
  it('exits 0 when every member acknowledges', async () => {
    const run = await hearsay(env, ['reachability', '--timeout', '5s', '--verbose']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const name of NAMES) expect(run.stdout).toContain(`\tAck from '${name}'\n`);
    expect(run.stdout).toMatch(/^Starting reachability test...\n/);
    expect(run.stdout).toContain('Members expected to answer: 4, acks: 4\nEvery member acknowledged.\n');

    const json = await hearsay(env, ['reachability', '--timeout', '5s', '--json']);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as Reachability;
    expect(result).toMatchObject({ members: 4, silent: [], unexpected: [] });
    expect([...result.acks].sort()).toEqual(NAMES);
  });

  it('lists a stopped member as not answering and exits 1; it answers again once continued', async () => {
    const stopped = agents[2]!;
    process.kill(stopped.pid, 'SIGSTOP');
    try {
      const run = await hearsay(env, ['reachability', '--timeout', '5s']);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('Members expected to answer: 4, acks: 3\nNo ack from:\n');
      expect(run.stdout).toMatch(new RegExp(`\\treach-3 \\(${stopped.gossip.replace(/\./g, '\\.')}, (alive|suspect|failed)\\): `));
      expect(run.stdout).toContain('Things to check:');
      const json = JSON.parse((await hearsay(env, ['reachability', '--timeout', '5s', '--json'])).stdout) as Reachability;
      expect(json.silent.map((m) => m.name)).toEqual(['reach-3']);
      expect([...json.acks].sort()).toEqual(['reach-1', 'reach-2', 'reach-4']);
    } finally {
      process.kill(stopped.pid, 'SIGCONT');
    }
    // Continued, it refutes the suspicion (or rejoins once declared failed) and acks again.
    await waitFor('every member acknowledging again', async () => (await hearsay(env, ['reachability', '--timeout', '3s'])).code === 0, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
  });

  it('refuses a bad timeout with exit 2', async () => {
    const unit = await hearsay(env, ['reachability', '--timeout', '5']);
    expect(unit.code).toBe(2);
    expect(unit.stderr).toContain('"5" has no unit');
    const long = await hearsay(env, ['reachability', '--timeout', '10m']);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('timeoutMs must be a number of milliseconds, above 0 and at most 300000 (5 minutes)');
  });
});
