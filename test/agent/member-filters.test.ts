/**
 * GET /v1/members?status=&name=&tag= filters as `serf members` does: regular expressions in RE2
 * syntax matching the whole text, a missing tag matched as empty text, every filter at once; bad
 * filters refused with a 400 that says what is wrong. Real agents on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../packages/agent/src/agent/agent.js';
import { start } from '../attacks/agent-harness.js';
import { waitFor } from '../helpers/wait.js';

const agents: Agent[] = [];
let observer: Agent;

async function members(query: string): Promise<{ status: number; names: string[]; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${observer.http.port}/v1/members${query}`);
  const body = (await response.json()) as { name: string }[];
  return { status: response.status, names: response.ok ? body.map((m) => m.name).sort() : [], body };
}

beforeAll(async () => {
  observer = await start({ name: 'web-1', tags: { role: 'web', dc: 'east' } });
  agents.push(observer);
  const seed = [`127.0.0.1:${observer.node.address.port}`];
  for (const [name, tags] of [
    ['web-2', { role: 'web', dc: 'west' }],
    ['db-1', { role: 'db', dc: 'east' }],
    ['plain', {}],
    ['gone', { role: 'web' }],
    ['dead', { role: 'db' }],
  ] as const) {
    agents.push(await start({ name, tags, join: seed }));
  }
  await waitFor('6 members alive at web-1', () => observer.node.members().filter((m) => m.status === 'alive').length === 6, { timeoutMs: 30_000 });
  await agents.find((a) => a.node.name === 'gone')!.leave();
  await agents.find((a) => a.node.name === 'dead')!.close();
  await waitFor(
    'gone left and dead failed at web-1',
    () => observer.node.member('gone')?.status === 'left' && observer.node.member('dead')?.status === 'failed',
    {
      timeoutMs: 30_000,
    },
  );
}, 90_000);
afterAll(() => Promise.all(agents.map((agent) => agent.close())));

describe('GET /v1/members filters', () => {
  it('lists every member without filters, each with the versions it announces', async () => {
    const all = await members('');
    expect(all.names).toEqual(['db-1', 'dead', 'gone', 'plain', 'web-1', 'web-2']);
    const self = (all.body as { name: string; versions: unknown }[]).find((m) => m.name === 'web-1')!;
    expect(self.versions).toEqual({ protocol: { min: 1, max: 5, current: 2 }, delegate: { min: 2, max: 5, current: 4 } });
  });

  it('filters by status, a comma list or repeated', async () => {
    expect((await members('?status=failed')).names).toEqual(['dead']);
    expect((await members('?status=failed,left')).names).toEqual(['dead', 'gone']);
    expect((await members('?status=left&status=failed')).names).toEqual(['dead', 'gone']);
    expect((await members('?status=alive')).names).toEqual(['db-1', 'plain', 'web-1', 'web-2']);
  });

  it('matches the name as a whole, alternatives included', async () => {
    expect((await members('?name=web')).names).toEqual([]);
    expect((await members('?name=web-.*')).names).toEqual(['web-1', 'web-2']);
    // Grouped before anchoring: `db-1|plain` is ^(?:db-1|plain)$, not Serf's ^db-1|plain$ (which would also take "plainly").
    expect((await members(`?name=${encodeURIComponent('db-1|plain')}`)).names).toEqual(['db-1', 'plain']);
    expect((await members(`?name=${encodeURIComponent('eb-1|lai')}`)).names).toEqual([]);
  });

  it('matches tags as a whole, a missing tag as empty text, every filter at once', async () => {
    expect((await members('?tag=role=web')).names).toEqual(['gone', 'web-1', 'web-2']);
    expect((await members('?tag=role=w')).names).toEqual([]);
    expect((await members('?tag=role=')).names).toEqual(['plain']);
    expect((await members(`?tag=role=${encodeURIComponent('web|db')}&tag=dc=east`)).names).toEqual(['db-1', 'web-1']);
    expect((await members(`?tag=role=${encodeURIComponent('web|db')}&status=alive&name=${encodeURIComponent('.*-2')}`)).names).toEqual(['web-2']);
    expect((await members('?tag=role=db&status=failed')).names).toEqual(['dead']);
  });

  it('refuses what RE2 does not compile, unknown statuses and malformed filters with a 400 that says why', async () => {
    const cases: [string, string][] = [
      [
        `?name=${encodeURIComponent('(?=x)')}`,
        'the name filter: "(?=x)" is not a regular expression in RE2 syntax (as Go\'s and Serf\'s): error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
      ],
      [
        `?name=${encodeURIComponent('(')}`,
        'the name filter: "(" is not a regular expression in RE2 syntax (as Go\'s and Serf\'s): error parsing regexp: missing closing ): `(`',
      ],
      [`?tag=role=${encodeURIComponent('a(?<=b)')}`, 'the filter for tag "role": "a(?<=b)" is not a regular expression in RE2 syntax'],
      ['?status=zombie', 'status "zombie" is unknown: use alive, suspect, failed, left (a comma list)'],
      ['?status=alive,', 'status "" is unknown'],
      ['?tag=role', 'tag filter "role" is not key=regexp, like role=web.*'],
      ['?name=a&name=b', 'give name once: one regular expression (alternatives as a|b)'],
      [`?name=${'a'.repeat(300)}`, 'the name filter: at most 256 characters, got 300'],
    ];
    for (const [query, message] of cases) {
      const answer = await members(query);
      expect(answer.status, query).toBe(400);
      expect((answer.body as { error: string }).error, query).toContain(message);
    }
  });
});
