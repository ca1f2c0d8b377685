/**
 * The inspection commands in a cluster mixed with Debian's `serf` 0.9.4: reachability both ways
 * (a Serf agent acks hearsay's `_serf_ping`, a hearsay agent acks `serf reachability`'s), member
 * filters agreeing with `serf members -tag -name -status`, and `--detailed` showing the versions
 * the Serf agent announces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAgents, spawnAgent, type AgentProcess } from '../cli/agent-processes.js';
import { hearsay } from '../cli/cluster-harness.js';
import { waitFor } from '../helpers/wait.js';
import { serfAvailable, startSerfAgent, stopAllSerfAgents, type SerfAgent } from './serf-harness.js';

describe.skipIf(!serfAvailable())('inspection commands with Serf agents', () => {
  let serf: SerfAgent;
  let agent: AgentProcess;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    serf = await startSerfAgent({ name: 'serf-db', tags: { role: 'db' } });
    agent = await spawnAgent('hearsay-web', ['--tag', 'role=web', '--join', serf.addr]);
    env = { HEARSAY_HTTP_ADDR: agent.http };
    await serf.waitFor((members) => members.filter((m) => m.status === 'alive').length === 2, 30_000, 'both alive at the Serf agent');
    await waitFor(
      'both alive at the hearsay agent',
      async () => {
        const run = await hearsay(env, ['members', '--status', 'alive', '--json']);
        return run.code === 0 && (JSON.parse(run.stdout) as unknown[]).length === 2;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  }, 90_000);
  afterAll(async () => {
    await killAgents(agent ? [agent] : []);
    await stopAllSerfAgents();
  });

  it('hearsay reachability gets the Serf agent’s ack, and serf reachability the hearsay agent’s', async () => {
    const ours = await hearsay(env, ['reachability', '--timeout', '3s', '--json']);
    expect(ours.code).toBe(0);
    expect((JSON.parse(ours.stdout) as { acks: string[] }).acks.sort()).toEqual(['hearsay-web', 'serf-db']);
    const theirs = await serf.cli(['reachability', '-verbose'], 30_000);
    expect(theirs).toContain("Ack from 'hearsay-web'");
    expect(theirs).toContain('Successfully contacted all live nodes');
  });

  it('filters as serf members does, and shows the Serf agent’s versions with --detailed', async () => {
    const names = async (args: string[]) =>
      (JSON.parse((await hearsay(env, ['members', ...args, '--json'])).stdout) as { name: string }[]).map((m) => m.name).sort();
    const serfNames = async (args: string[]) => {
      const parsed = JSON.parse(await serf.cli(['members', '-format', 'json', ...args])) as { members: { name: string }[] | null };
      return (parsed.members ?? []).map((m) => m.name).sort();
    };
    for (const [ours, theirs] of [
      [
        ['--tag', 'role=db'],
        ['-tag', 'role=db'],
      ],
      [
        ['--tag', 'role=web|db'],
        ['-tag', 'role=(web|db)'],
      ],
      [
        ['--name', 'serf-.*'],
        ['-name', 'serf-.*'],
      ],
      [
        ['--name', 'serf'],
        ['-name', 'serf'],
      ],
      [
        ['--status', 'alive'],
        ['-status', 'alive'],
      ],
    ] as const) {
      expect(await names([...ours]), ours.join(' ')).toEqual(await serfNames([...theirs]));
    }
    const serfSelf = (await serf.member('serf-db'))!;
    const detailed = await hearsay(env, ['members', '--detailed', '--name', 'serf-db']);
    expect(detailed.code).toBe(0);
    const { min, max, version } = serfSelf.protocol;
    expect(detailed.stdout).toMatch(new RegExp(`│ serf-db .*│ \\d \\[\\d, \\d\\] +│ ${version} \\[${min}, ${max}\\] +│`));
  });
});
