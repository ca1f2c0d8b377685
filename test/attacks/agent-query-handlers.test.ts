/**
 * Forged Serf queries against an agent running --query-handler commands (issue 11, items 0 and
 * 6d): a member name holding a NUL byte once killed the agent (spawn threw on the environment),
 * and 1,000 queries in 25 datagrams once spawned 944 shells at once.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../packages/agent/src/agent/agent.js';
import { envSafe } from '../../packages/agent/src/agent/query-handlers.js';
import { waitFor } from '../helpers/wait.js';
import { capturedLog, droppedMetric, forgedQuery, sendDatagrams, start } from './agent-harness.js';

describe('a query from a member whose name holds NUL and control characters', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hearsay-attack-nul-'));
  const seen = join(scratch, 'seen');
  let agent: Agent;
  const captured = capturedLog();

  beforeAll(async () => {
    agent = await start(
      {
        name: 'handler-agent',
        queryHandlers: [`*=printf '%s|%s|%s\\n' "$HEARSAY_QUERY_FROM" "$HEARSAY_QUERY_NAME" "$SERF_QUERY_NAME" >> ${seen}; echo ok`, 'fail=exit 3'],
      },
      captured.log,
    );
  });
  afterAll(async () => {
    await agent.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('runs the handler with the name escaped; the agent stays up', async () => {
    const queries = [
      forgedQuery({ ltime: 1, from: 'evil\u0000x', name: 'uptime' }),
      forgedQuery({ ltime: 2, from: 'term\u001b]0;pwned\u0007\n', name: 'q\u0000\u009b' }),
      forgedQuery({ ltime: 3, from: 'n'.repeat(5000), name: 'long' }),
    ];
    await sendDatagrams(agent.node.address.port, [queries]);
    await waitFor('three handler runs', () => readFileSync(seen, { encoding: 'utf8', flag: 'a+' }).split('\n').length > 3);
    const lines = readFileSync(seen, 'utf8').trimEnd().split('\n').sort();
    expect(lines[0]).toBe('evil\\x00x|uptime|uptime');
    expect(lines[2]).toBe('term\\x1b]0;pwned\\x07\\x0a|q\\x00\\x9b|q\\x00\\x9b');
    // Cut to 512 characters, the last an ellipsis.
    expect(lines[1]).toBe(`${'n'.repeat(511)}…|long|long`);
    expect((await fetch(`http://127.0.0.1:${agent.http.port}/v1/self`)).status).toBe(200);
    expect(agent.node.members().map((m) => m.name)).toEqual(['handler-agent']);
  });

  it('a failing handler is contained, counted and logged', async () => {
    await sendDatagrams(agent.node.address.port, [[forgedQuery({ ltime: 10, from: 'x', name: 'fail' })]]);
    await waitFor('the failure counted', async () => (await droppedMetric(agent, 'agent', 'query-handler-failed')) === 1);
    expect(captured.lines().some((line) => line.msg === 'query handler failed: no answer sent' && line.code === 3)).toBe(true);
  });

  it('envSafe leaves ordinary text alone', () => {
    expect(envSafe('web-1.example')).toBe('web-1.example');
    expect(envSafe('naïve 🚀')).toBe('naïve 🚀');
    expect(envSafe('🚀'.repeat(600))).toBe(`${'🚀'.repeat(511)}…`);
  });
});

describe('a flood of queries to a handler-running agent', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hearsay-attack-flood-'));
  const pids = join(scratch, 'pids');
  const counts = join(scratch, 'counts');
  let agent: Agent;
  /** Handler processes still alive: a run killed at its deadline leaves its file behind. */
  const alive = () =>
    readdirSync(pids).filter((pid) => {
      try {
        process.kill(Number(pid), 0);
        return true;
      } catch {
        return false;
      }
    });

  beforeAll(async () => {
    mkdirSync(pids);
    // Each run notes how many runs are alive (itself included) as it starts.
    const count = `n=0; for p in $(ls ${pids}); do kill -0 $p 2>/dev/null && n=$((n+1)); done; echo $n >> ${counts}`;
    agent = await start({ name: 'flooded', queryHandlers: [`load=touch ${pids}/$$; ${count}; sleep 0.3; rm -f ${pids}/$$`], queryHandlerConcurrency: 8 });
  });
  afterAll(async () => {
    await agent.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('1,000 queries in 25 datagrams run at most 8 handlers at once; the rest are dropped and counted', async () => {
    const datagrams = Array.from({ length: 25 }, (_, d) =>
      Array.from({ length: 40 }, (_, i) => forgedQuery({ ltime: d * 40 + i + 1, from: `forger-${i}`, name: 'load', timeoutMs: 2000 })),
    );
    // Paced by what the agent has taken in, so that no datagram is lost in the socket buffer.
    await sendDatagrams(agent.node.address.port, datagrams, (index) =>
      waitFor(`datagram ${index} taken in`, () => agent.node.stats.serf.queriesReceived >= (index + 1) * 40),
    );
    const metric = async (name: string) =>
      Number(
        /^(\S+) (\d+)$/m.exec(
          (await (await fetch(`http://127.0.0.1:${agent.http.port}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${name} `)) ?? '',
        )?.[2] ?? 0,
      );
    const queueFull = () => droppedMetric(agent, 'agent', 'query-handler-queue-full');
    const expired = () => droppedMetric(agent, 'agent', 'query-handler-expired');
    // Every query ran or was dropped unrun, and every run has ended (done, or killed at the deadline).
    await waitFor(
      'every query accounted for',
      async () => (await metric('hearsay_query_handler_runs_total')) + (await queueFull()) + (await expired()) === 1000 && alive().length === 0,
      { timeoutMs: 20_000 },
    );
    const concurrent = readFileSync(counts, 'utf8').trim().split('\n').map(Number);
    expect(Math.max(...concurrent)).toBeLessThanOrEqual(8);
    expect(Math.max(...concurrent)).toBeGreaterThanOrEqual(2);
    // 8 at once for 2 s: some dozens ran, 64 waited, and most were refused as they came.
    expect(await metric('hearsay_query_handler_runs_total')).toBeGreaterThanOrEqual(16);
    expect(await queueFull()).toBeGreaterThanOrEqual(800);
    // Runs that started late in a query's 2 s were killed at its deadline.
    expect(await droppedMetric(agent, 'agent', 'query-handler-overran')).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${agent.http.port}/v1/self`)).status).toBe(200);
  }, 30_000);
});
