/**
 * --event-handler with real processes: a handler that hangs and one that floods its output never
 * stall the agent (its API answers, it sees joins, other handlers run in order); the hung one is
 * killed at the time limit with everything it started, the flood is cut and counted; a command
 * that does not exist is refused at start (exit 2 from the CLI).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../packages/agent/src/agent/agent.js';
import { OptionError } from '../../packages/hearsay/src/index.js';
import { capturedLog, droppedMetric, start } from '../attacks/agent-harness.js';
import { waitFor } from '../helpers/wait.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('event handlers that hang and flood beside one that records', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hearsay-event-handlers-'));
  const record = join(scratch, 'record');
  const hung = join(scratch, 'hung');
  const agents: Agent[] = [];
  const captured = capturedLog();
  const recorded = () => readFileSync(record, { encoding: 'utf8', flag: 'a+' }).trimEnd().split('\n').filter(Boolean);

  beforeAll(async () => {
    agents.push(
      await start(
        {
          name: 'watcher',
          eventHandlers: [
            `member-join=echo $$ >> ${hung}; sleep 1000 & sleep 1000`,
            '*=head -c 3000000 /dev/zero | tr "\\0" "x" | fold -w 100',
            `member-join,member-leave,user:deploy=while IFS="$(printf '\\t')" read -r name addr role tags; do echo "$SERF_EVENT $name $role $tags" >> ${record}; done`,
          ],
          eventHandlerTimeoutMs: 2000,
          eventHandlerCoalesceMs: 100,
        },
        captured.log,
      ),
    );
  });
  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('the agent answers, sees joins and runs the other handlers in order while one hangs and one floods', async () => {
    const seed = [`127.0.0.1:${agents[0]!.node.address.port}`];
    for (const name of ['m1', 'm2', 'm3']) {
      agents.push(await start({ name, join: seed, tags: { role: name === 'm2' ? 'db' : 'web' } }));
      await waitFor(`${name} handled`, () => recorded().some((line) => line.startsWith(`member-join ${name} `)), { timeoutMs: 30_000 });
    }
    const members = (await (await fetch(`http://127.0.0.1:${agents[0]!.http.port}/v1/members`)).json()) as { name: string }[];
    expect(members.map((m) => m.name).sort()).toEqual(['m1', 'm2', 'm3', 'watcher']);
    agents[1]!.node.broadcast(Buffer.from('v7'), 'deploy');
    await agents[2]!.leave();
    await waitFor('the leave handled', () => recorded().some((line) => line.startsWith('member-leave m2')), { timeoutMs: 30_000 });
    expect(recorded()).toEqual([
      'member-join watcher  ',
      'member-join m1 web role=web',
      'member-join m2 db role=db',
      'member-join m3 web role=web',
      'user v7  ',
      'member-leave m2 db role=db',
    ]);
  }, 60_000);

  it('the hung handler is killed at its time limit with what it started; the flood is cut and counted', async () => {
    const agent = agents[0]!;
    await waitFor('two hung runs killed', async () => (await droppedMetric(agent, 'agent', 'event-handler-timeout')) >= 2, { timeoutMs: 30_000 });
    const pids = readFileSync(hung, 'utf8').trim().split('\n').map(Number);
    expect(pids.length).toBeGreaterThanOrEqual(2);
    // Every shell but the one running now is gone, with its background sleep (a process group each).
    await waitFor('killed runs gone', () => pids.slice(0, -1).every((pid) => !alive(pid)), { timeoutMs: 10_000 });
    expect(await droppedMetric(agent, 'agent', 'event-handler-output-cut')).toBeGreaterThanOrEqual(1);
    const logged = captured.lines().filter((line) => line.msg === 'event handler output' && String(line.handler).startsWith('*='));
    // 100 lines per run at most, each the 100 characters fold printed.
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.length % 100).toBe(0);
    expect(logged[0]!.line).toBe('x'.repeat(100));
    expect(captured.lines().some((line) => line.msg === 'event handler still running at its time limit: killed' && line.timeoutMs === 2000)).toBe(true);
  }, 60_000);
});

describe('handler commands refused at start', () => {
  it('startAgent throws an OptionError naming the command; the CLI exits 2 with the message', async () => {
    await expect(start({ name: 'x', eventHandlers: ['member-join=hearsay-no-such-handler arg'] })).rejects.toThrow(OptionError);
    await expect(start({ name: 'x', eventHandlers: ['member-jion=true'] })).rejects.toThrow(/unknown event type "member-jion"/);
    const cli = spawnSync(
      process.execPath,
      ['packages/agent/dist/cli/main.js', 'agent', '--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', '--event-handler', 'user:deploy=./no-such-script.sh'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain('event handler "user:deploy=./no-such-script.sh": ./no-such-script.sh is not an executable file');
  });
});
