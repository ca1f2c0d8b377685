/**
 * The snapshot file as a node keeps it (`snapshotPath`): members and clocks appended as they
 * change, the file 0600, compacted when it outgrows its members, the last lines flushed at
 * shutdown, a graceful leave recorded, a corrupt file told as notices naming the line and never
 * fatal, and paths it cannot use refused with an OptionError.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createNode, OptionError, type HearsayNode, type NodeOptions } from '../../packages/hearsay/src/index.js';
import { MIN_COMPACT_BYTES, parseSnapshot } from '../../packages/hearsay/src/serf/snapshot.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

describe('the snapshot file', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hearsay-snapshot-file-'));
  const nodes: HearsayNode[] = [];
  let files = 0;
  const freshPath = () => join(scratch, `node-${++files}.snapshot`);
  const start = async (options: NodeOptions) => {
    const node = await createNode({ bind: '127.0.0.1:0', config: FAST, ...options });
    nodes.push(node);
    return node;
  };
  const read = (path: string) => readFileSync(path, 'utf8');
  const mode = (path: string) => statSync(path).mode & 0o777;

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('appends members as they come and go, mode 0600', async () => {
    const path = freshPath();
    const a = await start({ name: 'a', snapshotPath: path });
    const b = await start({ name: 'b', join: [`127.0.0.1:${a.address.port}`] });
    await waitFor('b saved alive in a’s snapshot', () => read(path).includes(`alive: b 127.0.0.1:${b.address.port}\n`));
    expect(mode(path)).toBe(0o600);
    await b.leave();
    await waitFor('b saved not alive', () => read(path).includes('not-alive: b\n'));
    expect(parseSnapshot(read(path), path).alive.has('b')).toBe(false);
  });

  it('flushes the clocks at shutdown: an event broadcast just before is saved', async () => {
    const path = freshPath();
    const a = await start({ name: 'a', snapshotPath: path });
    a.broadcast(new TextEncoder().encode('hi'), 'deploy');
    a.broadcast(new TextEncoder().encode('again'), 'deploy');
    await a.shutdown();
    expect(parseSnapshot(read(path), path).clocks.event).toBe(2n);
  });

  it('tightens an existing file to 0600 and compacts one grown past the bound into its state, atomically', async () => {
    const path = freshPath();
    let churn = '';
    for (let i = 0; churn.length <= MIN_COMPACT_BYTES; i++) churn += `alive: gone-${i} 10.0.0.${i % 250}:7946\nnot-alive: gone-${i}\n`;
    writeFileSync(path, `${churn}alive: kept 10.0.0.1:7946\nevent-clock: 40\n`);
    chmodSync(path, 0o644);
    const a = await start({ name: 'a', snapshotPath: path });
    await waitFor('the file compacted', () => statSync(path).size < 1024);
    expect(mode(path)).toBe(0o600);
    expect(existsSync(`${path}.compact`)).toBe(false);
    const restored = parseSnapshot(read(path), path);
    expect([...restored.alive.keys()].sort()).toEqual(['a', 'kept']);
    expect(restored.clocks.event).toBe(40n);
    expect(restored.warnings).toEqual([]);
    // Appends go on into the new file.
    a.broadcast(new TextEncoder().encode('x'), 'deploy');
    await a.shutdown();
    expect(parseSnapshot(read(path), path).clocks.event).toBe(41n);
  });

  it('records a graceful leave: the members are forgotten and a restart does not rejoin', async () => {
    const path = freshPath();
    const a = await start({ name: 'a', snapshotPath: path });
    const b = await start({ name: 'b', join: [`127.0.0.1:${a.address.port}`] });
    await waitFor('b saved', () => read(path).includes('alive: b '));
    await a.leave();
    await a.shutdown();
    expect(read(path)).toMatch(/^leave$/m);
    const restored = parseSnapshot(read(path), path);
    expect(restored).toMatchObject({ left: true });
    expect(restored.alive.size).toBe(0);
    const again = await start({ name: 'a', snapshotPath: path, rejoin: true });
    const notices: string[] = [];
    again.on('notice', (_level, text) => notices.push(text));
    await waitFor('the not-rejoining notice', () => notices.some((text) => text.includes('not rejoining: it left gracefully last time')));
    expect(again.members().map((m) => m.name)).toEqual(['a']);
    expect(b.member('a')?.status).toBe('left');
  });

  it('reads past a corrupt file, telling each skipped line to the first notice listener', async () => {
    const path = freshPath();
    writeFileSync(path, 'alive: x 10.0.0.1:7946\n\u0000\u0007garbage\nevent-clock: 7\nclock: 1', { mode: 0o600 });
    const a = await start({ name: 'a', snapshotPath: path });
    const notices: string[] = [];
    a.on('notice', (level, text) => notices.push(`${level} ${text}`));
    await waitFor('both warnings told', () => notices.length >= 2);
    expect(notices).toEqual([
      `warn ${path}:2: line is not a snapshot line: skipped`,
      `warn ${path}:4: line is cut short (no newline: the write was interrupted): skipped`,
    ]);
  });

  it('refuses a path it cannot use, before the node runs', async () => {
    const directory = join(scratch, 'a-directory');
    mkdirSync(directory);
    await expect(createNode({ bind: '127.0.0.1:0', snapshotPath: directory })).rejects.toThrow(new OptionError(`snapshot ${directory} is not a file`));
    const missing = join(scratch, 'no-such-dir', 'serf.snapshot');
    await expect(createNode({ bind: '127.0.0.1:0', snapshotPath: missing })).rejects.toThrow(/^cannot write snapshot .*no-such-dir\/serf\.snapshot: ENOENT/);
    await expect(createNode({ bind: '127.0.0.1:0', rejoin: true })).rejects.toThrow(OptionError);
    await expect(createNode({ bind: '127.0.0.1:0', snapshotPath: 7 as unknown as string })).rejects.toThrow(
      /^option "snapshotPath" must be a file path string/,
    );
  });
});
