import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import pc from 'picocolors';
import { afterEach, describe, expect, it } from 'vitest';
import { addAgentFlags, agentFlagsFrom } from '../../packages/agent/src/cli/cluster/agent-flags.js';
import { parseHttpAddress, type Member } from '../../packages/agent/src/cli/cluster/api.js';
import { diffEvents, EventStreamParser } from '../../packages/agent/src/cli/cluster/events.js';
import { groupEvents, matrixColumns, matrixLetters, renderMatrix } from '../../packages/agent/src/cli/cluster/matrix.js';
import { checkPortRange, nextFreePort, portBusy, portsFor, requireFreePorts } from '../../packages/agent/src/cli/cluster/ports.js';
import { clusterTables, formatRtt, formatSince, membersTable, stripAnsi, type ObserverView } from '../../packages/agent/src/cli/cluster/render.js';
import { fitLine } from '../../packages/agent/src/cli/cluster/screen.js';
import { agentArgs } from '../../packages/agent/src/cli/cluster/spawn.js';
import {
  hearsayHome,
  logPath,
  nextNodeName,
  readState,
  removeState,
  statePath,
  writeState,
  type ClusterState,
} from '../../packages/agent/src/cli/cluster/state.js';
import { UsageError } from '../../packages/agent/src/cli/usage-error.js';
import { freeBasePort } from './cluster-harness.js';

const plain = pc.createColors(false);
const colour = pc.createColors(true);

const member = (name: string, status: string, extra: Partial<Member> = {}): Member => ({
  name,
  address: '127.0.0.1',
  port: 7946 + Number(name.replace(/\D/g, '') || 0),
  status,
  incarnation: 1,
  tags: {},
  since: '2026-01-01T00:00:00.000Z',
  ...extra,
});

const temporary: string[] = [];
afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hearsay-unit-'));
  temporary.push(dir);
  return join(dir, 'home');
}

function sampleState(home: string): ClusterState {
  return {
    version: 1,
    host: '127.0.0.1',
    base_port: 7946,
    agent_flags: ['--profile', 'local'],
    nodes: [0, 1, 2].map((i) => ({
      name: `node-${i}`,
      pid: 1000 + i,
      port: 7946 + i,
      http: `127.0.0.1:${17946 + i}`,
      log: logPath(home, `node-${i}`),
      seed: i === 0 ? null : '127.0.0.1:7946',
      down: false,
      started_at: '2026-01-01T00:00:00.000Z',
    })),
  };
}

describe('state file', () => {
  it('uses $HEARSAY_HOME, else ./.hearsay', () => {
    expect(hearsayHome({ HEARSAY_HOME: '/tmp/x' })).toBe('/tmp/x');
    expect(hearsayHome({})).toBe(join(process.cwd(), '.hearsay'));
  });

  it('round-trips, and reads nothing when none is recorded', () => {
    const home = tempHome();
    expect(readState(home)).toBeNull();
    const state = sampleState(home);
    writeState(home, state);
    expect(readState(home)).toEqual(state);
    expect(JSON.parse(readFileSync(statePath(home), 'utf8')).nodes[1]).toMatchObject({ name: 'node-1', pid: 1001, port: 7947, http: '127.0.0.1:17947' });
  });

  it('refuses a file that is not a cluster state, saying what to do', () => {
    const home = tempHome();
    mkdirSync(home, { recursive: true });
    writeFileSync(statePath(home), '{"nodes": 3');
    expect(() => readState(home)).toThrow(/is not valid JSON .*remove it/);
    writeFileSync(statePath(home), '{"version": 2, "nodes": []}');
    expect(() => readState(home)).toThrow(/is not a hearsay cluster state/);
  });

  it('names the next node one past the highest index, down nodes included', () => {
    const state = sampleState('/x');
    expect(nextNodeName(state)).toBe('node-3');
    state.nodes[2]!.down = true;
    state.nodes.push({ ...state.nodes[0]!, name: 'node-11' });
    expect(nextNodeName(state)).toBe('node-12');
    expect(nextNodeName({ ...state, nodes: [] })).toBe('node-0');
  });

  it('removes its files and the directory, but nothing it did not create', () => {
    const home = tempHome();
    const state = sampleState(home);
    writeState(home, state);
    mkdirSync(join(home, 'logs'));
    for (const node of state.nodes) writeFileSync(node.log, 'log\n');
    removeState(home, state);
    expect(existsSync(home)).toBe(false);

    writeState(home, state);
    writeFileSync(join(home, 'mine.txt'), 'keep me');
    removeState(home, state);
    expect(existsSync(statePath(home))).toBe(false);
    expect(readFileSync(join(home, 'mine.txt'), 'utf8')).toBe('keep me');
  });

  it('keeps the logs when asked', () => {
    const home = tempHome();
    const state = sampleState(home);
    writeState(home, state);
    mkdirSync(join(home, 'logs'));
    writeFileSync(state.nodes[0]!.log, 'log\n');
    removeState(home, state, true);
    expect(existsSync(statePath(home))).toBe(false);
    expect(existsSync(state.nodes[0]!.log)).toBe(true);
  });
});

describe('port checks', () => {
  it('sees a port busy for TCP and for UDP, and free once released', async () => {
    const base = await freeBasePort(2);
    expect(await portBusy(base)).toBeNull();

    const server = createServer();
    await new Promise<void>((done) => server.listen(base, '127.0.0.1', done));
    expect(await portBusy(base)).toBe('TCP: in use');
    await expect(requireFreePorts(portsFor([{ name: 'node-0', port: base }]))).rejects.toThrow(
      `port ${base} on 127.0.0.1 (gossip port of node-0) is busy (TCP: in use): pick another --base-port, or stop what uses it`,
    );
    await expect(requireFreePorts(portsFor([{ name: 'node-3', port: base - 10_000 }]))).rejects.toThrow(
      `port ${base} on 127.0.0.1 (HTTP port of node-3) is busy (TCP: in use)`,
    );
    await new Promise((done) => server.close(done));

    const socket = createSocket('udp4');
    await new Promise<void>((done) => socket.bind(base + 1, '127.0.0.1', done));
    expect(await portBusy(base + 1)).toBe('UDP: in use');
    expect(await nextFreePort(base + 1, new Set())).toBeGreaterThan(base + 1);
    expect(await nextFreePort(base, new Set([base]))).not.toBe(base);
    await new Promise<void>((done) => socket.close(done));
    expect(await portBusy(base)).toBeNull();
  });

  it('pairs each gossip port with its HTTP port', () => {
    expect(portsFor([{ name: 'node-0', port: 7946 }])).toEqual([
      { node: 'node-0', port: 7946, use: 'gossip' },
      { node: 'node-0', port: 17946, use: 'HTTP' },
    ]);
  });

  it('rejects a range whose HTTP ports pass 65535, as a usage error', () => {
    expect(() => checkPortRange(55_531, 5)).not.toThrow();
    expect(() => checkPortRange(55_532, 5)).toThrow(UsageError);
    expect(() => checkPortRange(55_532, 5)).toThrow('use a base port of at most 55531');
  });
});

describe('tables', () => {
  it('shows one node’s members, sorted by name, with status, tags and age', () => {
    const table = membersTable(
      [member('node-10', 'suspect'), member('node-2', 'alive', { tags: { role: 'web', dc: 'x' }, incarnation: 3, rttMs: 0.4183 })],
      plain,
      Date.parse('2026-01-01T00:01:05.000Z'),
    );
    const lines = table.split('\n');
    expect(lines[1]).toMatch(/Name .*Address .*Status .*Incarnation .*Tags .*Since .*RTT/);
    expect(table.indexOf('node-2')).toBeLessThan(table.indexOf('node-10'));
    expect(table).toMatch(/node-2 +│ 127\.0\.0\.1:7948 +│ alive +│ 3 +│ role=web,dc=x +│ 1m05s ago +│ 0\.42ms +│/);
    expect(table).toMatch(/node-10 .*suspect .*│ - +│$/m);
  });

  it('colours the status: green alive, yellow suspect, red failed', () => {
    const table = membersTable([member('a', 'alive'), member('b', 'suspect'), member('c', 'failed')], colour);
    expect(table).toContain(colour.green('alive'));
    expect(table).toContain(colour.yellow('suspect'));
    expect(table).toContain(colour.red('failed'));
    expect(stripAnsi(table)).not.toContain('\x1b');
  });

  it('formats a round-trip time, or - while there is none', () => {
    expect(formatRtt(0.4183)).toBe('0.42ms');
    expect(formatRtt(123.6)).toBe('124ms');
    expect(formatRtt(undefined)).toBe('-');
  });

  it('formats since as an age, from an ISO date or epoch milliseconds', () => {
    const now = Date.parse('2026-01-01T02:00:00.000Z');
    expect(formatSince('2026-01-01T01:59:58.000Z', now)).toBe('2s ago');
    expect(formatSince(now - 3_600_000 * 1.5, now)).toBe('1h30m ago');
    expect(formatSince(undefined, now)).toBe('-');
  });

  it('shows every node’s view under `Node: NAME` and a rule, and a down node as down', () => {
    const views: ObserverView[] = [
      { node: 'node-0', up: true, members: [member('node-0', 'alive'), member('node-1', 'failed')] },
      { node: 'node-1', up: false, members: [], reason: 'killed' },
    ];
    const text = clusterTables(views, plain);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Node: node-0');
    expect(lines[1]).toMatch(/^─{12,}$/);
    expect(lines[2]).toMatch(/^┌/);
    const second = lines.indexOf('Node: node-1');
    expect(second).toBeGreaterThan(2);
    expect(lines[second + 1]).toMatch(/^─+$/);
    expect(lines[second + 2]).toBe('down (killed)');
  });
});

describe('watch matrix', () => {
  const views: ObserverView[] = [
    { node: 'node-0', up: true, members: [member('node-0', 'alive'), member('node-1', 'alive'), member('node-2', 'suspect'), member('node-10', 'left')] },
    { node: 'node-1', up: true, members: [member('node-0', 'alive'), member('node-1', 'alive'), member('node-2', 'failed')] },
    { node: 'node-2', up: false, members: [], reason: 'killed' },
    { node: 'node-10', up: true, members: [member('node-10', 'alive'), member('node-0', 'weird')] },
  ];

  it('has a column for every member anyone lists or the state records, in natural order', () => {
    expect(matrixColumns(views)).toEqual(['node-0', 'node-1', 'node-2', 'node-10']);
  });

  it('gives A S F L ? per observer, and no row of letters for a down observer', () => {
    expect(matrixLetters(views, matrixColumns(views))).toEqual([['A', 'A', 'S', 'L'], ['A', 'A', 'F', '?'], null, ['?', '?', '?', 'A']]);
  });

  it('renders rows of observers, letters under the member names, a down row, the legend and events', () => {
    const now = new Date(2026, 0, 1, 12, 0, 5).getTime();
    const events = [
      { at: now - 3000, observer: 'node-0', type: 'suspect', member: 'node-2' },
      { at: now - 2500, observer: 'node-1', type: 'suspect', member: 'node-2' },
      { at: now - 1000, observer: 'node-1', type: 'failed', member: 'node-2' },
    ];
    const lines = renderMatrix({ views, events, now, intervalMs: 500, eventLines: 6 }, plain);
    expect(lines[0]).toBe('hearsay cluster watch  4 nodes (3 up)  12:00:05  every 500ms  Ctrl-C to stop');
    const header = lines[2]!;
    expect(header).toMatch(/^observer \\ member +node-0 +node-1 +node-2 +node-10$/);
    const row0 = lines[3]!;
    expect(row0.startsWith('node-0 ')).toBe(true);
    // Each letter sits under its column's name.
    for (const [name, letter] of [
      ['node-0', 'A'],
      ['node-1', 'A'],
      ['node-2', 'S'],
      ['node-10', 'L'],
    ] as const) {
      const at = header.indexOf(name);
      expect(row0.slice(at, at + name.length).trim()).toBe(letter);
    }
    expect(lines[5]).toMatch(/^node-2 +down \(killed\)$/);
    expect(lines).toContain('A alive  S suspect  F failed  L left  ? unknown');
    expect(lines).toContain('Recent events:');
    expect(lines.at(-2)).toBe('  12:00:02  node-2 suspect  (seen by node-0, node-1)');
    expect(lines.at(-1)).toBe('  12:00:04  node-2 failed  (seen by node-1)');
  });

  it('prints one bare frame for --once (no events, no Ctrl-C hint)', () => {
    const lines = renderMatrix({ views, events: [], now: Date.now(), intervalMs: 500, eventLines: 0 }, plain);
    expect(lines[0]).not.toMatch(/Ctrl-C/);
    expect(lines.join('\n')).not.toMatch(/Recent events/);
    expect(lines.at(-1)).toBe('A alive  S suspect  F failed  L left  ? unknown');
  });

  it('colours letters by status', () => {
    const text = renderMatrix({ views, events: [], now: Date.now(), intervalMs: 500, eventLines: 0 }, colour).join('\n');
    expect(text).toContain(colour.green('A'));
    expect(text).toContain(colour.yellow('S'));
    expect(text).toContain(colour.red('F'));
  });

  it('groups the same change about the same member seen by several observers', () => {
    const groups = groupEvents([
      { at: 0, observer: 'b', type: 'failed', member: 'x' },
      { at: 500, observer: 'a', type: 'failed', member: 'x' },
      { at: 600, observer: 'a', type: 'suspect', member: 'y' },
      { at: 5000, observer: 'c', type: 'failed', member: 'x' },
    ]);
    expect(groups.map((g) => [g.member, g.type, g.observers])).toEqual([
      ['x', 'failed', ['b', 'a']],
      ['y', 'suspect', ['a']],
      ['x', 'failed', ['c']],
    ]);
  });

  it('cuts long lines to the terminal width, keeping colour codes', () => {
    expect(fitLine('abcdef', 10)).toBe('abcdef');
    expect(stripAnsi(fitLine(`${colour.green('abc')}def`, 4))).toBe('abcd');
    expect(fitLine(`${colour.green('abc')}def`, 4)).toContain('\x1b[32m');
  });
});

describe('events', () => {
  it('parses Server-Sent Events across chunk boundaries, skipping comments', () => {
    const parser = new EventStreamParser();
    expect(parser.push(': membership events\n\nevent: fai')).toEqual([]);
    expect(parser.push('led\r\ndata: {"name":"node-2"}\r')).toEqual([]);
    expect(parser.push('\n\r\nevent: join\ndata: {"name":"node-5"}\n\n: keep-alive\n\n')).toEqual([
      { type: 'failed', data: '{"name":"node-2"}' },
      { type: 'join', data: '{"name":"node-5"}' },
    ]);
  });

  it('derives events from two polls', () => {
    const events = diffEvents(
      'node-0',
      [member('node-1', 'alive'), member('node-2', 'alive')],
      [member('node-1', 'alive'), member('node-2', 'suspect'), member('node-3', 'alive')],
      42,
    );
    expect(events).toEqual([
      { at: 42, observer: 'node-0', type: 'suspect', member: 'node-2' },
      { at: 42, observer: 'node-0', type: 'join', member: 'node-3' },
    ]);
  });
});

describe('agent command line', () => {
  it('passes the agent flags given to `cluster up` as typed, in order', () => {
    const command = addAgentFlags(new Command('up').exitOverride());
    command.parse(['--profile', 'local', '--probe-interval', '500ms', '--tag', 'a=1', '--tag', 'b=2', '--disable-tcp-pings'], { from: 'user' });
    expect(agentFlagsFrom(command)).toEqual(['--profile', 'local', '--tag', 'a=1', '--tag', 'b=2', '--probe-interval', '500ms', '--disable-tcp-pings']);
  });

  it('checks them with the agent’s own parsers', () => {
    const command = addAgentFlags(new Command('up').exitOverride().configureOutput({ writeErr: () => {} }));
    expect(() => command.parse(['--probe-interval', 'soon'], { from: 'user' })).toThrow(/"soon" is not a duration/);
    expect(() => command.parse(['--tag', 'x'], { from: 'user' })).toThrow(/is not a tag/);
  });

  it('does not take the flags the cluster decides per node', () => {
    const command = addAgentFlags(new Command('up'));
    const longs = command.options.map((o) => o.long);
    for (const flag of ['--name', '--bind', '--http', '--join', '--http-token']) expect(longs).not.toContain(flag);
  });

  it('starts an agent with its name, addresses, seeds and the pass-through flags', () => {
    expect(
      agentArgs({ name: 'node-1', bind: '127.0.0.1:7947', http: '127.0.0.1:17947', join: ['127.0.0.1:7946'], flags: ['--profile', 'local'], log: '/x' }),
    ).toEqual(['agent', '--name', 'node-1', '--bind', '127.0.0.1:7947', '--http', '127.0.0.1:17947', '--join', '127.0.0.1:7946', '--profile', 'local']);
  });

  it('reads --http as HOST:PORT or a URL', () => {
    expect(parseHttpAddress('127.0.0.1:17946')).toBe('http://127.0.0.1:17946');
    expect(parseHttpAddress('http://localhost:8080/')).toBe('http://localhost:8080');
    expect(parseHttpAddress('[::1]:17946')).toBe('http://[::1]:17946');
    expect(() => parseHttpAddress('http://h:1/v1')).toThrow(/not an address/);
    expect(() => parseHttpAddress('h:1#top')).toThrow(/not an address/);
    expect(() => parseHttpAddress('a b:1')).toThrow(/not an address/);
  });

  it('reads --http without a port as the agent’s default port, and an explicit :80 as port 80', () => {
    expect(parseHttpAddress('127.0.0.1')).toBe('http://127.0.0.1:17946');
    expect(parseHttpAddress('localhost')).toBe('http://localhost:17946');
    expect(parseHttpAddress('[::1]')).toBe('http://[::1]:17946');
    expect(parseHttpAddress('http://10.0.0.5/')).toBe('http://10.0.0.5:17946');
    expect(parseHttpAddress('127.0.0.1:80')).toBe('http://127.0.0.1');
  });
});
