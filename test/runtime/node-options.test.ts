/**
 * createNode's options as a plain-JS caller may get them wrong: unknown options, values of the
 * wrong type, an empty name, keys that are not base64. Each is an OptionError naming what is
 * wrong, thrown before any socket is bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeKey } from '../../packages/hearsay/src/wire/index.js';
import { createNode, OptionError, type HearsayNode, type NodeOptions } from '../../packages/hearsay/src/index.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

/** Options as untyped JavaScript could pass them. */
const untyped = (options: unknown) => options as NodeOptions;

describe('createNode options', () => {
  const nodes: HearsayNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
  });

  it.each([
    [{ bind: '127.0.0.1:0', binds: '127.0.0.1:7946' }, /^unknown option "binds": createNode takes name, bind, advertise, join, /],
    [
      { bind: '127.0.0.1:0', join: '127.0.0.1:7946' },
      /^option "join" must be a list of "host:port" strings, like \["10\.0\.0\.1:7946"\], not "127\.0\.0\.1:7946"$/,
    ],
    [{ bind: '127.0.0.1:0', name: 7 }, /^option "name" must be a string, not 7$/],
    [{ bind: '127.0.0.1:0', tags: { rack: 1 } }, /^option "tags" must be an object of strings, like \{ role: "web" \}, not \{"rack":1\}$/],
    [{ bind: '127.0.0.1:0', keys: KEY }, /^option "keys" must be a list of keys \(base64 strings or bytes\)/],
    [{ bind: '127.0.0.1:0', dropRate: '0.1' }, /^option "dropRate" must be a number from 0 to 1, not "0\.1"$/],
    [{ bind: '127.0.0.1:0', profile: 'fast' }, /^option "profile" must be one of "lan", "local", "wan", not "fast"$/],
    [{ bind: '127.0.0.1:0', protocol: 'tcp' }, /^option "protocol" must be one of "swim", "heartbeat", "hybrid", not "tcp"$/],
    [{ bind: '127.0.0.1:0', config: 'fast' }, /^option "config" must be an object of protocol settings/],
    [{ bind: '127.0.0.1:0', name: '' }, /^name must be 1 to 255 characters$/],
    ['web-1', /^createNode takes an options object, like \{ name: "web-1" \}, not "web-1"$/],
  ])('refuses %j with an OptionError', async (options, message) => {
    const created = createNode(untyped(options));
    await expect(created).rejects.toThrow(OptionError);
    await expect(created).rejects.toThrow(message);
  });

  it('takes an option given as undefined as absent', async () => {
    const node = await createNode(untyped({ name: 'plain', bind: '127.0.0.1:0', join: undefined, tags: undefined }));
    nodes.push(node);
    expect(node.name).toBe('plain');
  });

  it('refuses a key that is not base64, or not 16, 24 or 32 bytes, saying which and never quoting it', async () => {
    const refusal = (keys: (string | Uint8Array)[]) => createNode({ name: 'k', bind: '127.0.0.1:0', keys }).catch((error: Error) => error);
    const notBase64 = await refusal([KEY, 'correct horse battery staple']);
    expect(notBase64).toBeInstanceOf(OptionError);
    expect((notBase64 as Error).message).toBe('keys[1]: encryption key is not base64: give it as `serf keygen` prints one');
    expect(((await refusal([KEY.replace(/=$/, '')])) as Error).message).toMatch(/^keys\[0\]: encryption key is not base64/);
    expect(((await refusal(['AAAA'])) as Error).message).toBe('keys[0]: encryption key decodes to 3 bytes: it must be 16, 24 or 32 (serf keygen makes 32)');
    expect(((await refusal([new Uint8Array(5)])) as Error).message).toBe('keys[0]: encryption key of 5 bytes: it must be 16, 24 or 32 (serf keygen makes 32)');
  });

  it('decodeKey reads standard base64 only', () => {
    expect(decodeKey(KEY)).toEqual(new Uint8Array(32).fill(7));
    expect(decodeKey(Buffer.alloc(16, 1).toString('base64'))).toHaveLength(16);
    for (const text of ['', ' ', `${KEY} `, '#'.repeat(44), Buffer.alloc(32, 0xfb).toString('base64url')]) {
      expect(() => decodeKey(text), text).toThrow(/^encryption key is not base64/);
    }
  });

  it('join refuses seeds that are not a list', async () => {
    const node = await createNode({ name: 'joiner', bind: '127.0.0.1:0' });
    nodes.push(node);
    await expect(node.join(untyped('127.0.0.1:7946') as unknown as string[])).rejects.toThrow(
      /^join takes a list of "host:port" seeds, like \["10\.0\.0\.1:7946"\], not "127\.0\.0\.1:7946"$/,
    );
  });
});
