/** The pure parts of Serf's event handlers: the filter parser, the environment and stdin, the coalescers. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Member } from '../../packages/hearsay/src/index.js';
import { MemberCoalescer, UserEventCoalescer } from '../../packages/agent/src/agent/event-handler-coalescer.js';
import { handlerEnvironment, handlerStdin, memberLines, tagVariable, type HandlerEvent } from '../../packages/agent/src/agent/event-handler-invocation.js';
import { handlerMatches, parseEventHandler } from '../../packages/agent/src/agent/event-handler-spec.js';
import { parseQueryHandler } from '../../packages/agent/src/agent/query-handlers.js';

const member = (name: string, tags: Record<string, string> = {}, address = '10.0.0.1'): Member => ({
  name,
  address,
  port: 7946,
  status: 'alive',
  incarnation: 1,
  tags,
  meta: new Uint8Array(0),
  since: 0,
  versions: { protocol: { min: 1, max: 5, current: 2 }, delegate: { min: 2, max: 5, current: 4 } },
});

describe('parseEventHandler', () => {
  it("reads Serf's filters: types, names, comma lists, * and none", () => {
    expect(parseEventHandler('true').filters).toEqual([{ event: '*', name: '' }]);
    const spec = parseEventHandler('member-join,user:deploy,query=echo hi');
    expect(spec.command).toBe('echo hi');
    expect(spec.filters).toEqual([
      { event: 'member-join', name: '' },
      { event: 'user', name: 'deploy' },
      { event: 'query', name: '' },
    ]);
    expect(handlerMatches(spec, { type: 'member-join' })).toBe(true);
    expect(handlerMatches(spec, { type: 'member-leave' })).toBe(false);
    expect(handlerMatches(spec, { type: 'user', name: 'deploy' })).toBe(true);
    expect(handlerMatches(spec, { type: 'user', name: 'other' })).toBe(false);
    expect(handlerMatches(spec, { type: 'query', name: 'any' })).toBe(true);
    expect(handlerMatches(parseEventHandler('*=true'), { type: 'member-reap' })).toBe(true);
    expect(parseEventHandler('=true').filters).toEqual([{ event: '*', name: '' }]);
    expect(parseEventHandler('*=env X=1 true').command).toBe('env X=1 true');
  });

  it('refuses unknown types, names on member events, empty commands and commands that do not exist, precisely', () => {
    expect(() => parseEventHandler('member-joined=true')).toThrow(
      'event handler "member-joined=true": unknown event type "member-joined"; use member-join, member-leave, member-failed, member-update, member-reap, user, query, user:NAME, query:NAME or *, comma-separated',
    );
    expect(() => parseEventHandler('member-join,=true')).toThrow(/an empty event type/);
    expect(() => parseEventHandler('member-join:web=true')).toThrow('"member-join:web": only user:NAME and query:NAME take a name');
    expect(() => parseEventHandler('user=  ')).toThrow(/has no command/);
    expect(() => parseEventHandler('user=no-such-command-hearsay --x')).toThrow(
      /command "no-such-command-hearsay" is neither a shell builtin nor found on PATH/,
    );
    expect(() => parseEventHandler('user=/nonexistent/handler.sh')).toThrow(
      'event handler "user=/nonexistent/handler.sh": /nonexistent/handler.sh is not an executable file',
    );
    expect(() => parseQueryHandler('load=no-such-command-hearsay')).toThrow(/no-such-command-hearsay/);
    // Builtins, keywords and words the shell expands first are not judged.
    for (const command of ['exit 3', 'if true; then :; fi', '"$HOME/x"', 'cd /tmp && ls']) expect(parseEventHandler(`user=${command}`).command).toBe(command);
  });

  it('--query-handler is the event handler query:NAME; * answers what no other takes', () => {
    expect(parseQueryHandler('load=uptime')).toMatchObject({ filters: [{ event: 'query', name: 'load' }], command: 'uptime' });
    expect(parseQueryHandler('*=uptime')).toMatchObject({ filters: [{ event: 'query', name: '' }], fallback: true });
  });
});

describe("a handler's environment and stdin, as Serf's agent gives them", () => {
  const self = member('web-1', { role: 'web', 'dc.name': 'east-1', 'x y': 'v' });

  it('names the event, this node, its role and every tag (names sanitised as Serf does)', () => {
    expect(tagVariable('dc.name')).toBe('SERF_TAG_DC_NAME');
    expect(tagVariable('Ünï-x')).toBe('SERF_TAG__N__X');
    const env = handlerEnvironment(self, { kind: 'user', name: 'deploy\u0000', payload: new Uint8Array(0), ltime: 42n });
    expect(env).toEqual({
      SERF_EVENT: 'user',
      SERF_SELF_NAME: 'web-1',
      SERF_SELF_ROLE: 'web',
      HEARSAY_NODE: 'web-1',
      SERF_TAG_ROLE: 'web',
      SERF_TAG_DC_NAME: 'east-1',
      SERF_TAG_X_Y: 'v',
      SERF_USER_EVENT: 'deploy\\x00',
      SERF_USER_LTIME: '42',
    });
    expect(handlerEnvironment(member('bare'), { kind: 'member', type: 'member-reap', members: [] })).toMatchObject({
      SERF_EVENT: 'member-reap',
      SERF_SELF_ROLE: '',
    });
  });

  it('writes one line per member, NAME\\tADDRESS\\tROLE\\tTAGS, tabs and newlines escaped; a payload gets its newline', () => {
    expect(memberLines([member('a\tb', { role: 'db\nx', z: '1', a: '2' }, '10.0.0.9'), member('c')])).toBe(
      'a\\tb\t10.0.0.9\tdb\\nx\ta=2,role=db\\nx,z=1\nc\t10.0.0.1\t\t\n',
    );
    const user = (payload: string): HandlerEvent => ({ kind: 'user', name: 'n', payload: Buffer.from(payload), ltime: 1n });
    expect(handlerStdin(user('v1')).toString()).toBe('v1\n');
    expect(handlerStdin(user('v1\n')).toString()).toBe('v1\n');
    expect(handlerStdin(user('')).toString()).toBe('');
  });
});

describe('coalescing', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("batches member events per type within the period, the latest per member, dropping repeats as Serf's coalescer", () => {
    const out: string[] = [];
    const coalescer = new MemberCoalescer(200, (event) => out.push(`${event.type}:${event.members.map((m) => m.name).join(',')}`));
    coalescer.push('member-join', member('a'));
    coalescer.push('member-join', member('b'));
    coalescer.push('member-failed', member('c'));
    coalescer.push('member-join', member('c'));
    expect(out).toEqual([]);
    vi.advanceTimersByTime(100); // quiet for half the period
    expect(out).toEqual(['member-join:a,b,c']);
    coalescer.push('member-join', member('a')); // delivered already
    coalescer.push('member-update', member('b', { v: '2' }));
    coalescer.push('member-failed', member('c'));
    vi.advanceTimersByTime(100);
    expect(out).toEqual(['member-join:a,b,c', 'member-update:b', 'member-failed:c']);
    coalescer.push('member-update', member('b', { v: '2' })); // nothing a handler sees changed
    coalescer.push('member-update', member('b', { v: '3' }));
    vi.advanceTimersByTime(100);
    expect(out.at(-1)).toBe('member-update:b');
    expect(out).toHaveLength(4);
  });

  it('a steady stream flushes at the end of the period, and an update folds into a join still held', () => {
    const out: string[] = [];
    const coalescer = new MemberCoalescer(200, (event) =>
      out.push(`${event.type}:${event.members.map((m) => `${m.name}${JSON.stringify(m.tags)}`).join(',')}`),
    );
    coalescer.push('member-join', member('a'));
    vi.advanceTimersByTime(90);
    coalescer.push('member-update', member('a', { v: '2' }));
    vi.advanceTimersByTime(90);
    coalescer.push('member-join', member('b'));
    vi.advanceTimersByTime(20);
    expect(out).toEqual(['member-join:a{"v":"2"},b{}']);
  });

  it('keeps only the newest user event of a name sent with coalesce; others pass at once', () => {
    const out: string[] = [];
    const coalescer = new UserEventCoalescer(200, (event) => out.push(`${event.name}@${event.ltime}`));
    const user = (name: string, ltime: bigint) => ({ kind: 'user' as const, name, payload: new Uint8Array(0), ltime });
    coalescer.push(user('deploy', 5n), true);
    coalescer.push(user('deploy', 7n), true);
    coalescer.push(user('deploy', 6n), true);
    coalescer.push(user('now', 8n), false);
    expect(out).toEqual(['now@8']);
    vi.advanceTimersByTime(100);
    expect(out).toEqual(['now@8', 'deploy@7']);
  });

  it('a period of 0 passes everything at once', () => {
    const out: string[] = [];
    const coalescer = new MemberCoalescer(0, (event) => out.push(event.type));
    coalescer.push('member-join', member('a'));
    coalescer.push('member-join', member('a'));
    expect(out).toEqual(['member-join', 'member-join']);
  });
});
