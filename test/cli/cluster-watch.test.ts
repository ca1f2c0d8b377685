/**
 * `hearsay cluster watch` on real agents: `--once` without a terminal, and the live view in a
 * pseudo-terminal (a detached tmux session of fixed size, read with `tmux capture-pane -p`).
 * The tmux part skips, saying so, where tmux is not installed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { CLI, CLI_POLL, freeBasePort, TestHome } from './cluster-harness.js';

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
if (!hasTmux) console.warn('tmux is not installed: skipping the live `cluster watch` test (apt-get install -y tmux)');

const NODES = ['node-0', 'node-1', 'node-2', 'node-3'];
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** The matrix rows of a frame: observer name → the letters of its row (or ['down']). */
function rows(frame: string): Map<string, string[]> {
  const lines = frame.split('\n');
  const header = lines.findIndex((line) => line.startsWith('observer \\ member'));
  const result = new Map<string, string[]>();
  if (header < 0) return result;
  for (const line of lines.slice(header + 1)) {
    const cells = line.trim().split(/\s+/);
    if (!/^node-\d+$/.test(cells[0] ?? '')) break;
    result.set(cells[0]!, cells.slice(1));
  }
  return result;
}

describe('hearsay cluster watch', () => {
  const home = new TestHome();
  const socket = `hearsay-test-${process.pid}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });

  beforeAll(async () => {
    const base = await freeBasePort(6);
    const up = await home.run('cluster', 'up', '--size', '4', '--base-port', String(base), '--profile', 'local', '--probe-interval', '500ms');
    expect(up.code, up.stderr).toBe(0);
    await waitFor(
      'every node to list 4 alive',
      async () => {
        const run = await home.run('cluster', 'members', '--json');
        const views = JSON.parse(run.stdout) as { up: boolean; members: { status: string }[] }[];
        return views.every((v) => v.up && v.members.filter((m) => m.status === 'alive').length === 4);
      },
      { ...CLI_POLL, timeoutMs: 30_000 },
    );
  }, 90_000);

  afterAll(async () => {
    if (hasTmux) tmux('kill-server');
    await home.cleanup();
  });

  it('prints one frame with --once without a terminal', async () => {
    const run = await home.run('cluster', 'watch', '--once');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\x1b');
    expect(run.stdout).toMatch(/^hearsay cluster watch {2}4 nodes \(4 up\)/);
    const matrix = rows(run.stdout);
    expect([...matrix.keys()]).toEqual(NODES);
    for (const letters of matrix.values()) expect(letters).toEqual(['A', 'A', 'A', 'A']);
    expect(run.stdout).toContain('A alive  S suspect  F failed  L left  ? unknown');
  });

  it.skipIf(!hasTmux)('redraws the matrix in place in a terminal and shows a killed node going S/F (needs tmux)', async () => {
    const exitFile = join(home.dir, '..', 'watch-exit');
    const command =
      `HEARSAY_HOME=${quote(home.dir)} ${quote(process.execPath)} ${quote(CLI)} cluster watch --interval 250ms; ` + `echo $? > ${quote(exitFile)}`;
    const started = tmux('new-session', '-d', '-s', 'watch', '-x', '150', '-y', '40', command);
    expect(started.status, started.stderr).toBe(0);
    const screen = () => tmux('capture-pane', '-p', '-t', 'watch').stdout;

    const first = await waitFor(
      'the matrix with 4 rows of A',
      async () => {
        const frame = screen();
        const matrix = rows(frame);
        return NODES.every((name) => matrix.get(name)?.join('') === 'AAAA') ? frame : undefined;
      },
      { ...CLI_POLL, timeoutMs: 15_000 },
    );
    expect(first).toMatch(/^hearsay cluster watch {2}4 nodes \(4 up\) {2}\d\d:\d\d:\d\d {2}every 250ms {2}Ctrl-C to stop/);
    expect(first).toMatch(/observer \\ member +node-0 +node-1 +node-2 +node-3/);
    // Drawn in place: one frame on the screen, however many were drawn.
    await new Promise((done) => setTimeout(done, 1_000));
    expect(screen().match(/hearsay cluster watch/g)).toHaveLength(1);

    const kill = await home.run('cluster', 'kill', '--node', 'node-3');
    expect(kill.code).toBe(0);
    const after = await waitFor(
      'node-3 suspect or failed in every live row',
      async () => {
        const frame = screen();
        const matrix = rows(frame);
        const live = ['node-0', 'node-1', 'node-2'].map((name) => matrix.get(name) ?? []);
        return matrix.get('node-3')?.[0] === 'down' && live.every((letters) => letters.length === 4 && /^[SF]$/.test(letters[3]!)) ? frame : undefined;
      },
      { ...CLI_POLL, timeoutMs: 30_000 },
    );
    expect(after).toMatch(/4 nodes \(3 up\)/);
    expect(after).toMatch(/node-3 +down \(killed\)/);
    for (const name of ['node-0', 'node-1', 'node-2']) expect(rows(after).get(name)!.slice(0, 3)).toEqual(['A', 'A', 'A']);
    await waitFor(
      'the suspicion of node-3 among the recent events',
      async () => /Recent events:\n(?:.*\n)*\s+\d\d:\d\d:\d\d {2}node-3 (suspect|failed) {2}\(seen by node-\d/.test(screen()),
      { ...CLI_POLL, timeoutMs: 15_000 },
    );
    expect(screen().match(/hearsay cluster watch/g)).toHaveLength(1);

    // Ctrl-C ends it with exit code 0.
    tmux('send-keys', '-t', 'watch', 'C-c');
    const code = await waitFor(
      'watch to exit after Ctrl-C',
      async () => {
        try {
          return readFileSync(exitFile, 'utf8').trim();
        } catch {
          return undefined;
        }
      },
      { ...CLI_POLL, timeoutMs: 5_000 },
    );
    expect(code).toBe('0');
  });
});
