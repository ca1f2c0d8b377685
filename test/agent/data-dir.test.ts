/**
 * The agent's --data-dir: one directory (0700) for the snapshot and the keyring (0600 each), the
 * --encrypt key kept there so that a restart needs none, explicit --snapshot winning; and the
 * persistence flags' bad values refused by `hearsay agent` with a precise message and exit 2.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Agent, AgentOptions } from '../../packages/agent/src/agent/agent.js';
import { OptionError } from '../../packages/hearsay/src/index.js';
import { start } from '../attacks/agent-harness.js';
import { hearsay } from '../cli/cluster-harness.js';
import { waitFor } from '../helpers/wait.js';

const KEY = Buffer.alloc(32, 5).toString('base64');

describe('--data-dir', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hearsay-data-dir-'));
  const agents: Agent[] = [];
  const launch = async (options: AgentOptions) => {
    const agent = await start(options);
    agents.push(agent);
    return agent;
  };
  const mode = (path: string) => statSync(path).mode & 0o777;

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('holds the snapshot and the keyring, private, and a restart needs no key', async () => {
    const dir = join(scratch, 'state', 'web-1');
    const first = await launch({ name: 'web-1', dataDir: dir, encrypt: KEY });
    expect(mode(dir)).toBe(0o700);
    const keyring = join(dir, 'keyring.json');
    await waitFor('the keyring kept', () => {
      try {
        return JSON.parse(readFileSync(keyring, 'utf8'))[0] === KEY;
      } catch {
        return false;
      }
    });
    expect(mode(keyring)).toBe(0o600);
    expect(mode(join(dir, 'serf.snapshot'))).toBe(0o600);
    await first.close();
    const again = await launch({ name: 'web-1', dataDir: dir });
    expect(again.node.keys).toEqual([KEY]);
  });

  it('gives way to an explicit --snapshot', async () => {
    const dir = join(scratch, 'explicit');
    const snapshot = join(scratch, 'elsewhere.snapshot');
    await launch({ name: 'web-2', dataDir: dir, snapshot });
    expect(statSync(snapshot).isFile()).toBe(true);
    expect(() => statSync(join(dir, 'serf.snapshot'))).toThrow(/ENOENT/);
  });

  it('refuses a data directory that is a file, and a rejoin with no snapshot', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, '');
    await expect(start({ dataDir: file })).rejects.toThrow(new OptionError(`--data-dir ${file} is a file (or under one), not a directory`));
    await expect(start({ rejoin: true })).rejects.toThrow(new OptionError('--rejoin needs a snapshot to rejoin from: give --snapshot or --data-dir'));
  });

  it.each([
    [['--data-dir', 'FILE'], /^hearsay: --data-dir .*a-file is a file \(or under one\), not a directory\n$/],
    [['--snapshot', 'MISSING/serf.snapshot'], /^hearsay: cannot write snapshot .*no-such-dir\/serf\.snapshot: ENOENT/],
    [['--snapshot', 'DIR'], /^hearsay: snapshot .*a-dir is not a file\n$/],
    [['--rejoin'], /^hearsay: --rejoin needs a snapshot to rejoin from: give --snapshot or --data-dir\n$/],
  ])('hearsay agent %j exits 2 with a precise message', async (flags, message) => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, '');
    const dir = join(scratch, 'a-dir');
    mkdirSync(dir, { recursive: true });
    const paths: Record<string, string> = { FILE: file, DIR: dir, MISSING: join(scratch, 'no-such-dir') };
    const args = flags.map((flag) => flag.replace(/^(FILE|DIR|MISSING)/, (word) => paths[word]!));
    const run = await hearsay({}, ['agent', '--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', '--log-level', 'silent', ...args], 20_000);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
  });
});
