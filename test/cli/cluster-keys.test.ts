/**
 * An encrypted local cluster and key rotation through the CLI: `cluster up --encrypt` gives each
 * agent a keyring file of its own, `hearsay keys` rotates every agent's keys (and files), an
 * agent added afterwards starts from its peer's current keys and joins, and `cluster down`
 * removes the key files with the rest of the state.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchMembers } from '../../packages/agent/src/cli/cluster/api.js';
import { waitFor } from '../helpers/wait.js';
import { CLI_POLL, freeBasePort, TestHome } from './cluster-harness.js';

const FIRST = Buffer.alloc(32, 21).toString('base64');
const SECOND = Buffer.alloc(16, 22).toString('base64');
const home = new TestHome();
afterAll(() => home.cleanup());

describe('cluster up --encrypt, hearsay keys, cluster add', () => {
  it('rotates the key of a running cluster, and a node added later joins on the new key', async () => {
    const base = await freeBasePort(4);
    const up = await home.run('cluster', 'up', '--size', '2', '--base-port', String(base), '--encrypt', FIRST, '--profile', 'local');
    expect(up.code, up.stderr).toBe(0);
    const keyFile = (name: string) => join(home.dir, 'keys', `${name}.json`);
    expect(JSON.parse(readFileSync(keyFile('node-0'), 'utf8'))).toEqual([FIRST]);
    expect(statSync(keyFile('node-0')).mode & 0o777).toBe(0o600);
    const http = `127.0.0.1:${base + 10_000}`;
    await waitFor('both agents to list 2 alive', async () => (await fetchMembers(`http://${http}`)).filter((m) => m.status === 'alive').length === 2, {
      ...CLI_POLL,
      timeoutMs: 20_000,
    });

    for (const step of [
      ['--install', SECOND],
      ['--use', SECOND],
      ['--remove', FIRST],
    ]) {
      const run = await home.run('keys', '--http', http, ...step);
      expect(run.code, run.stderr).toBe(0);
    }
    await waitFor('node-1’s keyring file to hold only the new key', async () => JSON.parse(readFileSync(keyFile('node-1'), 'utf8')).join() === SECOND, {
      ...CLI_POLL,
      timeoutMs: 10_000,
    });

    const add = await home.run('cluster', 'add', '--peer', 'node-1');
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(readFileSync(keyFile('node-2'), 'utf8'))).toEqual([SECOND]);
    await waitFor('3 alive at node-0', async () => (await fetchMembers(`http://${http}`)).filter((m) => m.status === 'alive').length === 3, {
      ...CLI_POLL,
      timeoutMs: 20_000,
    });
    const listed = await home.run('keys', '--http', http, '--list');
    expect(listed.stdout).toBe(`${SECOND}  [3/3]  primary on 3\n`);

    const down = await home.run('cluster', 'down');
    expect(down.code, down.stderr).toBe(0);
    expect(existsSync(join(home.dir, 'keys'))).toBe(false);
  });
});
