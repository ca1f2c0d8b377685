/** `hearsay keygen`: a fresh key each run, which the agent and Serf accept. */
import { describe, expect, it } from 'vitest';
import { decodeKey } from '../../packages/hearsay/src/wire/index.js';
import { hearsay } from './cluster-harness.js';

describe('hearsay keygen', () => {
  it('prints a new 32-byte key in base64, different each time, that decodeKey accepts', async () => {
    const [first, second] = await Promise.all([hearsay({}, ['keygen']), hearsay({}, ['keygen'])]);
    for (const run of [first, second]) {
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
      expect(decodeKey(run.stdout.trim())).toHaveLength(32);
    }
    expect(first.stdout).not.toBe(second.stdout);
  });

  it('refuses arguments it does not take, with exit code 2', async () => {
    const run = await hearsay({}, ['keygen', 'extra']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/too many arguments/);
  });
});
