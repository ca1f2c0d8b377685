/**
 * One Serf-style event handler script, given both to Debian's `serf agent -event-handler` and to
 * a hearsay agent's --event-handler, in ONE cluster (so both see the same events, with the same
 * Lamport times): serf peers join, one changes its tags, one fires user events, one leaves, one is
 * SIGKILLed (failed), both departed ones are reaped after a short reconnect/tombstone timeout, and
 * a query is answered by the script's output. What the two handlers received (SERF_* variables
 * and stdin, per member line) is compared line by line, the observers' own names normalised.
 * Skipped without `serf`.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../packages/agent/src/agent/agent.js';
import { waitFor } from '../helpers/wait.js';
import { serfAvailable, startSerfAgent, stopAllSerfAgents, type SerfAgent } from './serf-harness.js';

const HAVE_SERF = serfAvailable();

/** What one handler run recorded: its SERF_EVENT, its SERF_* variables, and stdin. */
interface Run {
  readonly file: string;
  readonly env: Record<string, string>;
  readonly stdin: string[];
}

/** The script an operator would write for Serf: each run leaves a file holding its SERF_* variables and stdin; a query is answered. */
function handlerScript(dir: string): string {
  return `#!/bin/sh
f="${dir}/$SERF_SELF_NAME.$(date +%s%N).$$"
{ env | grep '^SERF_' | grep -v '^SERF_BIN=' | sort; echo '--stdin--'; cat; } > "$f.tmp" && mv "$f.tmp" "$f"
if [ "$SERF_EVENT" = query ]; then printf 'answer from %s' "$SERF_SELF_NAME"; fi
`;
}

function runsOf(dir: string, observer: string): Run[] {
  return readdirSync(dir)
    .filter((file) => file.startsWith(`${observer}.`) && !file.endsWith('.tmp'))
    .sort()
    .map((file) => {
      const [head = '', body = ''] = readFileSync(join(dir, file), 'utf8').split('--stdin--\n');
      const env = Object.fromEntries(
        head
          .split('\n')
          .filter(Boolean)
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      return { file, env, stdin: body.split('\n').filter(Boolean) };
    });
}

/**
 * A run as comparable lines: one per stdin line (member events arrive batched differently by the
 * two coalescers, so each member line stands alone), prefixed by the variables; the observer's
 * name becomes SELF, the other observer's OTHER; tags within a line sorted (Go's map order is random);
 * a member-update line once however often it came.
 */
function normalised(runs: Run[], self: string, other: string): string[] {
  const names = (text: string) => text.replaceAll(self, 'SELF').replaceAll(other, 'OTHER');
  const lines: string[] = [];
  for (const run of runs) {
    const env = Object.entries(run.env)
      .map(([key, value]) => `${key}=${names(value)}`)
      .join(' ');
    const stdin = run.stdin.length > 0 ? run.stdin : [''];
    for (const line of stdin) {
      const fields = line.split('\t');
      if (fields.length === 4) fields[3] = fields[3]!.split(',').sort().join(',');
      lines.push(`${env} | ${names(fields.join('\t'))}`);
    }
  }
  // Serf 0.9.4 neither coalesces nor de-duplicates member-update (it ran the script 4 times for one
  // tag change, each with the same line); newer Serf coalesces them as hearsay does: compared once.
  const updates = new Set(lines.filter((line) => line.startsWith('SERF_EVENT=member-update ')));
  return [...lines.filter((line) => !updates.has(line)), ...updates].sort();
}

describe.skipIf(!HAVE_SERF)('one handler script under serf agent -event-handler and hearsay --event-handler', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hearsay-serf-handlers-'));
  const out = join(scratch, 'runs');
  const script = join(scratch, 'handler.sh');
  let serfObserver: SerfAgent;
  let hearsay: Agent;
  const peers: Record<string, SerfAgent> = {};

  afterAll(async () => {
    await hearsay?.close();
    await stopAllSerfAgents();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('both observers run the script for joins, an update, user events, a query, a leave, a failure and two reaps', async () => {
    mkdirSync(out);
    writeFileSync(script, handlerScript(out));
    chmodSync(script, 0o755);
    const config = join(scratch, 'serf.json');
    // Serf reaps every 15 s (its ReapInterval, fixed): a departed member goes within 15 s of these timeouts.
    writeFileSync(config, JSON.stringify({ reconnect_timeout: '1s', tombstone_timeout: '1s' }));
    const tags = { role: 'observer', 'dc-name': 'east.1' };
    serfObserver = await startSerfAgent({ name: 'obs-serf', tags, profile: 'local', extraArgs: ['-event-handler', script, '-config-file', config] });
    hearsay = await startAgent(
      {
        name: 'obs-hearsay',
        bind: '127.0.0.1:0',
        http: '127.0.0.1:0',
        tags,
        profile: 'local',
        join: [serfObserver.addr],
        eventHandlers: [script],
        config: { reconnectTimeoutMs: 1000, tombstoneTimeoutMs: 1000 },
      },
      pino({ level: 'silent' }),
    );
    for (const [name, role] of [
      ['p-update', 'web'],
      ['p-leave', 'db'],
      ['p-fail', 'cache'],
    ] as const) {
      peers[name] = await startSerfAgent({ name, tags: { role }, profile: 'local', join: [serfObserver.addr] });
    }
    const allAlive = () => hearsay.node.members().filter((m) => m.status === 'alive').length === 5;
    await waitFor('five alive at hearsay', allAlive, { timeoutMs: 30_000 });
    await serfObserver.waitFor((ms) => ms.filter((m) => m.status === 'alive').length === 5, 30_000, 'five alive at serf');

    // The joins handled before the update: within one coalescing window they would make one event.
    const joined = (observer: string) =>
      new Set(runsOf(out, observer).flatMap((run) => (run.env.SERF_EVENT === 'member-join' ? run.stdin.map((line) => line.split('\t')[0]) : []))).size === 5;
    await waitFor('both handlers ran for five joins', () => joined('obs-serf') && joined('obs-hearsay'), { timeoutMs: 30_000 });
    await peers['p-update']!.cli(['tags', '-set', 'version=2', '-delete', 'role']);
    await waitFor('the update at hearsay', () => hearsay.node.member('p-update')?.tags.version === '2', { timeoutMs: 30_000 });
    await peers['p-update']!.event('deploy', 'v1 payload', false);
    await peers['p-update']!.event('greet', 'hello');
    // Each handler runs one event at a time: the query must not wait behind these on a loaded machine,
    // and a script's start (a shell, Serf's own) takes seconds there: the query waits 10 s for answers.
    const handled = (observer: string) => {
      const runs = runsOf(out, observer);
      const userEvents = new Set(runs.filter((run) => run.env.SERF_EVENT === 'user').map((run) => run.env.SERF_USER_EVENT));
      return runs.some((run) => run.env.SERF_EVENT === 'member-update') && userEvents.has('deploy') && userEvents.has('greet');
    };
    await waitFor('both handlers ran for the update and both user events', () => handled('obs-serf') && handled('obs-hearsay'), { timeoutMs: 30_000 });
    // The asker must know both observers, or an answer may come from a member it has not heard of yet.
    await peers['p-update']!.waitFor((ms) => ms.filter((m) => m.status === 'alive').length === 5, 30_000, 'five alive at p-update');
    const answers = JSON.parse(await peers['p-update']!.cli(['query', '-format=json', '-timeout=10s', 'ask', 'question'], 20_000));
    expect(answers.Responses).toEqual({ 'obs-serf': 'answer from obs-serf', 'obs-hearsay': 'answer from obs-hearsay' });

    await peers['p-leave']!.leave();
    await peers['p-fail']!.kill('SIGKILL');
    const gone = (names: string[]) => names.every((name) => !hearsay.node.member(name));
    await waitFor('both departed reaped at hearsay', () => gone(['p-leave', 'p-fail']), { timeoutMs: 60_000 });
    await serfObserver.waitFor((ms) => !ms.some((m) => m.name === 'p-leave' || m.name === 'p-fail'), 60_000, 'both departed reaped at serf');

    // Every run has written its file (a run is over when both have the same count of reaps, 2).
    const reaps = (observer: string) =>
      runsOf(out, observer)
        .filter((run) => run.env.SERF_EVENT === 'member-reap')
        .flatMap((run) => run.stdin).length;
    await waitFor('both handlers ran for both reaps', () => reaps('obs-serf') === 2 && reaps('obs-hearsay') === 2, { timeoutMs: 30_000 });

    const atSerf = normalised(runsOf(out, 'obs-serf'), 'obs-serf', 'obs-hearsay');
    const atHearsay = normalised(runsOf(out, 'obs-hearsay'), 'obs-hearsay', 'obs-serf');
    expect(atHearsay).toEqual(atSerf);
    // What they agree on, spelled out: every event type, Serf's variables and stdin.
    const self = 'SERF_SELF_NAME=SELF SERF_SELF_ROLE=observer SERF_TAG_DC_NAME=east.1 SERF_TAG_ROLE=observer';
    expect(atSerf).toEqual(
      expect.arrayContaining([
        `SERF_EVENT=member-join ${self} | SELF\t127.0.0.1\tobserver\tdc-name=east.1,role=observer`,
        `SERF_EVENT=member-join ${self} | p-fail\t127.0.0.1\tcache\trole=cache`,
        `SERF_EVENT=member-update ${self} | p-update\t127.0.0.1\t\tversion=2`,
        expect.stringMatching(new RegExp(`^SERF_EVENT=user ${self} SERF_USER_EVENT=deploy SERF_USER_LTIME=\\d+ \\| v1 payload$`)),
        expect.stringMatching(/^SERF_EVENT=query SERF_QUERY_LTIME=\d+ SERF_QUERY_NAME=ask .* \| question$/),
        `SERF_EVENT=member-leave ${self} | p-leave\t127.0.0.1\tdb\trole=db`,
        `SERF_EVENT=member-failed ${self} | p-fail\t127.0.0.1\tcache\trole=cache`,
        `SERF_EVENT=member-reap ${self} | p-fail\t127.0.0.1\tcache\trole=cache`,
        `SERF_EVENT=member-reap ${self} | p-leave\t127.0.0.1\tdb\trole=db`,
      ]),
    );
  }, 180_000);
});
