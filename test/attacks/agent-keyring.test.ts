/**
 * Secrets at rest (issue 11, item 9): a --keyring-file readable by others was used as it was, and
 * stayed 0644 after a rotation rewrote it. Now it is tightened to 0600 at start (with a warning)
 * and replaced atomically, 0600, on every rotation.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { capturedLog, start } from './agent-harness.js';

const KEY_1 = Buffer.alloc(32, 21).toString('base64');
const KEY_2 = Buffer.alloc(32, 22).toString('base64');

describe('a keyring file open to others', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hearsay-attack-keyring-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('is tightened to 0600 with a warning, and stays 0600 through a rotation written atomically', async () => {
    const file = join(scratch, 'keyring.json');
    writeFileSync(file, JSON.stringify([KEY_1]));
    chmodSync(file, 0o644);
    const captured = capturedLog();
    const agent = await start({ name: 'keeper', keyringFile: file }, captured.log);
    try {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const warning = captured.lines().find((line) => line.msg.startsWith('keyring file was open to its group or others: tightened to 0600'));
      expect(warning).toMatchObject({ file, was: '0644' });

      // Someone loosens it again while the agent runs; the rotation's rewrite is 0600 all the same.
      chmodSync(file, 0o664);
      const post = (path: string, key: string) =>
        fetch(`http://127.0.0.1:${agent.http.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
      expect((await post('/v1/keys/install', KEY_2)).status).toBe(200);
      expect((await post('/v1/keys/use', KEY_2)).status).toBe(200);
      await waitFor('the file to follow', () => JSON.parse(readFileSync(file, 'utf8'))[0] === KEY_2);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([KEY_2, KEY_1]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // No temporary file left beside it.
      expect(readdirSync(scratch)).toEqual(['keyring.json']);
    } finally {
      await agent.close();
    }
  });

  it('a group-readable file is tightened too; a file that cannot be read is refused clearly', async () => {
    const file = join(scratch, 'group.json');
    writeFileSync(file, JSON.stringify([KEY_1]), { mode: 0o640 });
    chmodSync(file, 0o640);
    const agent = await start({ name: 'grouped', keyringFile: file });
    await agent.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await expect(start({ name: 'nothing', keyringFile: join(scratch, 'missing.json') })).rejects.toThrow(/cannot read keyring file .*missing\.json: ENOENT/);
  });
});
