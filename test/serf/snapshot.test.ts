/**
 * Serf's snapshot format, pure: reading it back (truncated, garbled, huge, Serf's own files),
 * rendering it compacted, when to compact, and the Serf layer resuming the saved clocks so that
 * what was handled before a restart is not handled again.
 */
import { describe, expect, it } from 'vitest';
import type { SerfHost } from '../../packages/hearsay/src/serf/host.js';
import { SerfLayer } from '../../packages/hearsay/src/serf/layer.js';
import {
  clockLines,
  MAX_SNAPSHOT_LINE,
  MAX_SNAPSHOT_MEMBERS,
  MAX_SNAPSHOT_WARNINGS,
  MIN_COMPACT_BYTES,
  parseSnapshot,
  renderSnapshot,
  shouldCompact,
  SnapshotReader,
  writableName,
} from '../../packages/hearsay/src/serf/snapshot.js';
import { encodeSerfQuery, encodeSerfUserEvent } from '../../packages/hearsay/src/wire/index.js';

const SERF_FILE = `alive: web-1 10.0.0.1:7946
alive: web 2 10.0.0.2:7946
clock: 5
event-clock: 9
query-clock: 3
coordinate: {"Vec":[0,0,0,0,0,0,0,0],"Error":1.5,"Adjustment":0,"Height":0.00001}
alive: db-1 [fd00::1]:7946
not-alive: web-1
clock: 7
# written by hand
`;

describe('reading a snapshot', () => {
  it("reads Serf's lines: members alive by their last word, the greatest clocks, coordinates and comments ignored", () => {
    const restored = parseSnapshot(SERF_FILE, 'serf.snapshot');
    expect([...restored.alive]).toEqual([
      ['web 2', '10.0.0.2:7946'],
      ['db-1', '[fd00::1]:7946'],
    ]);
    expect(restored.clocks).toEqual({ member: 7n, event: 9n, query: 3n });
    expect(restored).toMatchObject({ left: false, warnings: [], skippedLines: 0 });
  });

  it('a leave forgets the members (not with rejoinAfterLeave); an alive after it is a later run that joined again', () => {
    const left = parseSnapshot(`${SERF_FILE}leave\n`, 's');
    expect(left.alive.size).toBe(0);
    expect(left.left).toBe(true);
    expect(left.clocks.event).toBe(9n);
    expect(parseSnapshot(`${SERF_FILE}leave\n`, 's', { rejoinAfterLeave: true }).alive.size).toBe(2);
    const rejoined = parseSnapshot(`${SERF_FILE}leave\nalive: web-3 10.0.0.3:7946\n`, 's');
    expect([...rejoined.alive.keys()]).toEqual(['web-3']);
    expect(rejoined.left).toBe(false);
  });

  it('skips a last line cut short by a crash, naming the file and the line', () => {
    const restored = parseSnapshot('alive: a 10.0.0.1:7946\nevent-clock: 12\nevent-clock: 1', '/var/lib/hearsay/serf.snapshot');
    expect(restored.clocks.event).toBe(12n);
    expect(restored.skippedLines).toBe(1);
    expect(restored.warnings).toEqual(['/var/lib/hearsay/serf.snapshot:3: line is cut short (no newline: the write was interrupted): skipped']);
  });

  it('skips garbage line by line and counts it, without throwing', () => {
    const text = [
      'alive: a 10.0.0.1:7946',
      'hello world',
      'alive: nameonly',
      'alive: b 10.0.0.300:7946',
      'alive: c 10.0.0.3',
      'clock: -4',
      'event-clock: 99999999999999999999999',
      'query-clock: 18446744073709551615',
      '\u0000\u0001binary',
      'not-alive: nobody',
      'alive: d 10.0.0.4:7946\r',
      '',
    ].join('\n');
    const restored = parseSnapshot(text, 'f');
    expect([...restored.alive.keys()]).toEqual(['a', 'd']);
    expect(restored.clocks).toEqual({ member: 0n, event: 0n, query: 18446744073709551615n });
    expect(restored.skippedLines).toBe(7);
    expect(restored.warnings.map((w) => w.slice(0, w.indexOf(' ')))).toEqual(['f:2:', 'f:3:', 'f:4:', 'f:5:', 'f:6:', 'f:7:', 'f:9:']);
    expect(restored.warnings[0]).toBe('f:2: line is not a snapshot line: skipped');
  });

  it('reads a huge file in bounded memory: long lines dropped as they stream, members and warnings capped', () => {
    const reader = new SnapshotReader('big');
    reader.push('alive: a 10.0.0.1:');
    reader.push(`7946\nalive: ${'x'.repeat(MAX_SNAPSHOT_LINE)}`);
    for (let i = 0; i < 100; i++) reader.push('y'.repeat(64 * 1024));
    reader.push(' 10.0.0.9:7946\nclock: 3\n');
    for (let i = 0; i < MAX_SNAPSHOT_MEMBERS + 50; i++) reader.push(`alive: m${i} 10.1.${(i >> 8) & 255}.${i & 255}:7946\n`);
    for (let i = 0; i < 100; i++) reader.push('junk\n');
    const restored = reader.end();
    expect(restored.alive.size).toBe(MAX_SNAPSHOT_MEMBERS);
    expect(restored.alive.get('a')).toBe('10.0.0.1:7946');
    expect(restored.clocks.member).toBe(3n);
    expect(restored.warnings[0]).toBe('big:2: line is over 1024 characters: skipped');
    expect(restored.warnings).toHaveLength(MAX_SNAPSHOT_WARNINGS);
    expect(restored.skippedLines).toBe(1 + 51 + 100);
  });

  it('a line split across chunks anywhere reads the same', () => {
    const whole = parseSnapshot(SERF_FILE, 's');
    for (const size of [1, 2, 7, 64]) {
      const reader = new SnapshotReader('s');
      for (let at = 0; at < SERF_FILE.length; at += size) reader.push(SERF_FILE.slice(at, at + size));
      expect(reader.end()).toEqual(whole);
    }
  });
});

describe('writing a snapshot', () => {
  it('renders compacted content that reads back the same', () => {
    const state = {
      alive: new Map([
        ['web 2', '10.0.0.2:7946'],
        ['db-1', '[fd00::1]:7946'],
      ]),
      clocks: { member: 7n, event: 9n, query: 0n },
      left: false,
    };
    const text = renderSnapshot(state);
    expect(text).toBe('alive: web 2 10.0.0.2:7946\nalive: db-1 [fd00::1]:7946\nclock: 7\nevent-clock: 9\nquery-clock: 0\n');
    expect(parseSnapshot(text, 's')).toMatchObject({ alive: state.alive, clocks: state.clocks, left: false });
    expect(parseSnapshot(renderSnapshot({ ...state, alive: new Map(), left: true }), 's').left).toBe(true);
  });

  it('writes only the clocks that moved on', () => {
    expect(clockLines({ member: 1n, event: 5n, query: 2n }, { member: 1n, event: 6n, query: 3n })).toBe('event-clock: 6\nquery-clock: 3\n');
    expect(clockLines({ member: 1n, event: 5n, query: 2n }, { member: 1n, event: 5n, query: 2n })).toBe('');
  });

  it("compacts past twice the members' estimated size, never below the floor", () => {
    expect(shouldCompact(MIN_COMPACT_BYTES, 10)).toBe(false);
    expect(shouldCompact(MIN_COMPACT_BYTES + 1, 10)).toBe(true);
    expect(shouldCompact(MIN_COMPACT_BYTES + 1, 10_000)).toBe(false);
    expect(shouldCompact(2 * 128 * 10_000 + 1, 10_000)).toBe(true);
  });

  it('refuses names that would write lines of their own', () => {
    expect(writableName('web 2')).toBe(true);
    expect(writableName('evil 10.0.0.1:7946\nleave')).toBe(false);
    expect(writableName('a\rb')).toBe(false);
    expect(writableName('')).toBe(false);
  });
});

describe('the Serf layer resuming saved clocks', () => {
  const layerWith = () => {
    const host: SerfHost = {
      name: 'n1',
      address: { host: '127.0.0.1', port: 7946 },
      keyring: undefined,
      tags: () => ({}),
      sendTo: () => {},
      broadcast: () => {},
      peers: () => [],
      isMemberAddress: () => true,
      member: () => undefined,
      keysChanged: () => {},
      setUserState: () => {},
      now: () => 1_000_000,
      random: Math.random,
    };
    return new SerfLayer(host);
  };
  const event = (ltime: bigint, name: string) => encodeSerfUserEvent({ ltime, name, payload: new Uint8Array([1]), coalesce: false });

  it('reads the last time each clock has seen, as Serf saves it', () => {
    const layer = layerWith();
    expect(layer.clocks).toEqual({ member: 0n, event: 0n, query: 0n });
    layer.observe(event(41n, 'deploy'));
    expect(layer.clocks.event).toBe(41n);
  });

  it('does not act again on events and queries up to the saved times, and takes the later ones', () => {
    const layer = layerWith();
    layer.restoreClocks({ member: 3n, event: 41n, query: 7n });
    expect(layer.clocks).toEqual({ member: 3n, event: 41n, query: 7n });
    expect(layer.observe(event(41n, 'deploy'))).toMatchObject({ kind: 'event', fresh: false });
    expect(layer.observe(event(30n, 'older'))).toMatchObject({ kind: 'event', fresh: false });
    expect(layer.observe(event(42n, 'deploy'))).toMatchObject({ kind: 'event', fresh: true });
    const query = (ltime: bigint) =>
      encodeSerfQuery({
        ltime,
        id: 1,
        host: '127.0.0.1',
        port: 9,
        sourceNode: 'n2',
        filters: [],
        flags: 0,
        relayFactor: 0,
        timeoutMs: 1000,
        name: 'q',
        payload: new Uint8Array(0),
      });
    expect(layer.observe(query(7n))).toEqual({ kind: 'handled' });
    expect(layer.observe(query(8n)).kind).toBe('query');
    expect(layer.stats.dropped).toEqual({ 'event-seen-before-restart': 2, 'query-seen-before-restart': 1 });
  });

  it('never moves a clock back', () => {
    const layer = layerWith();
    layer.observe(event(100n, 'x'));
    layer.restoreClocks({ member: 0n, event: 5n, query: 0n });
    expect(layer.clocks.event).toBe(100n);
  });
});
