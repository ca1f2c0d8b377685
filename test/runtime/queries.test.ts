/**
 * Serf-style queries and cluster-wide key rotation between hearsay nodes on 127.0.0.1: acks and
 * answers collected once each even with relays, filters, the answer rules, and a rotation of
 * the encryption key after which the cluster still gossips.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, QueryError, OptionError, type HearsayNode, type IncomingQuery } from '../../packages/hearsay/src/index.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';
const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(24, 2).toString('base64');

describe('queries between hearsay nodes', () => {
  const nodes: HearsayNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
  });

  async function cluster(size: number, keys?: string[]): Promise<HearsayNode[]> {
    const first = await createNode({ name: 'q0', bind: '127.0.0.1:0', config: FAST, keys, tags: { rack: 'r0' } });
    nodes.push(first);
    for (let i = 1; i < size; i++) {
      nodes.push(
        await createNode({ name: `q${i}`, bind: '127.0.0.1:0', config: FAST, keys, tags: { rack: `r${i % 2}` }, join: [`127.0.0.1:${first.address.port}`] }),
      );
    }
    await waitFor(`${size} alive everywhere`, () => nodes.every((n) => n.members().filter((m) => m.status === 'alive').length === size));
    return [...nodes];
  }

  it('collects one ack and one answer per member, relays notwithstanding, and the asker sees its own query', async () => {
    const members = await cluster(4);
    const seen: string[] = [];
    for (const node of members) {
      node.on('query', (query: IncomingQuery) => {
        seen.push(`${node.name}<-${query.from}`);
        query.respond(Buffer.from(node.name.toUpperCase()));
      });
    }
    const result = await members[1]!.query('name', Buffer.from('?'), { requestAck: true, relayFactor: 2, timeoutMs: 1500 });
    expect([...result.acks].sort()).toEqual(['q0', 'q1', 'q2', 'q3']);
    expect(result.responses.map((r) => `${r.from}=${Buffer.from(r.payload).toString()}`).sort()).toEqual(['q0=Q0', 'q1=Q1', 'q2=Q2', 'q3=Q3']);
    expect(seen.sort()).toEqual(['q0<-q1', 'q1<-q1', 'q2<-q1', 'q3<-q1']);
  });

  it('filters by name and by tag pattern; acks come unless requestAck is false, as with serf query', async () => {
    const members = await cluster(4);
    for (const node of members) node.on('query', (query: IncomingQuery) => query.respond(Buffer.from('x')));
    const byName = await members[0]!.query('f', undefined, { nodes: ['q2', 'q3'], requestAck: false, timeoutMs: 1000 });
    expect(byName.acks).toEqual([]);
    expect(byName.responses.map((r) => r.from).sort()).toEqual(['q2', 'q3']);
    const byTag = await members[0]!.query('f', undefined, { tags: { rack: '^r1$' }, timeoutMs: 1000 });
    expect([...byTag.acks].sort()).toEqual(['q1', 'q3']);
  });

  it('refuses a tag filter that is no regular expression, too long, or too many filters, before sending anything', async () => {
    const [a] = await cluster(1);
    const asked = a!.stats.serf.queriesAsked;
    expect(() => a!.query('f', undefined, { tags: { rack: '(' } })).toThrow(OptionError);
    expect(() => a!.query('f', undefined, { tags: { rack: '(?=r1)' } })).toThrow(
      /the filter for tag "rack" is not a regular expression \(RE2 syntax, as Go's\): .*Perl syntax/,
    );
    expect(() => a!.query('f', undefined, { tags: { rack: 'r'.repeat(257) } })).toThrow(/257 characters long: members try at most 256/);
    const many = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`t${i}`, 'x']));
    expect(() => a!.query('f', undefined, { tags: many, nodes: ['q0'] })).toThrow(/at most 16 filters/);
    expect(() => a!.query('f', undefined, { tags: { rack: 1 } as unknown as Record<string, string> })).toThrow(
      /tags must be an object of tag name → regular expression/,
    );
    expect(a!.stats.serf.queriesAsked).toBe(asked);
  });

  it('an answer is refused twice, too late or too large, with a QueryError', async () => {
    const [a, b] = await cluster(2);
    const errors: string[] = [];
    b!.on('query', (query: IncomingQuery) => {
      if (query.name === 'twice') {
        query.respond(Buffer.from('one'));
        try {
          query.respond(Buffer.from('two'));
        } catch (error) {
          errors.push(`${(error as Error).name}: ${(error as Error).message}`);
        }
      } else if (query.name === 'large') {
        try {
          query.respond(new Uint8Array(1100));
        } catch (error) {
          expect(error).toBeInstanceOf(QueryError);
          errors.push('large refused');
        }
      } else {
        setTimeout(() => {
          try {
            query.respond(Buffer.from('late'));
          } catch (error) {
            errors.push(`late: ${(error as Error).message}`);
          }
        }, 400);
      }
    });
    expect((await a!.query('twice', undefined, { timeoutMs: 800 })).responses.map((r) => Buffer.from(r.payload).toString())).toEqual(['one']);
    expect((await a!.query('large', undefined, { timeoutMs: 500 })).responses).toEqual([]);
    expect((await a!.query('late', undefined, { timeoutMs: 200 })).responses).toEqual([]);
    await waitFor('the late answer to be refused', () => errors.length === 3);
    expect(errors).toEqual([
      expect.stringMatching(/^QueryError: .*already been answered/),
      'large refused',
      expect.stringMatching(/late: .*past its deadline/),
    ]);
  });

  it('rejects bad query options before sending anything', async () => {
    const [a] = await cluster(1);
    expect(() => a!.query('')).toThrow(OptionError);
    expect(() => a!.query('x', undefined, { relayFactor: 9 })).toThrow(/relayFactor/);
    expect(() => a!.query('x', new Uint8Array(2000))).toThrow(/over Serf's limit/);
    expect(() => a!.query('x', undefined, { timeoutMs: 0 })).toThrow(/timeout/);
  });

  it('rotates the encryption key cluster-wide and keeps gossiping on the new key alone', async () => {
    const members = await cluster(3, [KEY_A]);
    expect(await members[0]!.listKeys()).toEqual({ nodes: 3, responses: 3, errors: {}, keys: { [KEY_A]: 3 }, primaryKeys: { [KEY_A]: 3 } });
    expect((await members[1]!.installKey(KEY_B)).errors).toEqual({});
    expect((await members[2]!.useKey(KEY_B)).errors).toEqual({});
    const refused = await members[0]!.removeKey(KEY_B);
    expect(Object.values(refused.errors)).toEqual(Array(3).fill(expect.stringMatching(/primary key/)));
    expect(await members[0]!.removeKey(KEY_A)).toMatchObject({ nodes: 3, responses: 3, errors: {} });
    for (const node of members) expect(node.keys).toEqual([KEY_B]);
    // A newcomer with only the old key is kept out; one with the new key gets in.
    await expect(
      createNode({ name: 'old', bind: '127.0.0.1:0', config: FAST, keys: [KEY_A], join: [`127.0.0.1:${members[0]!.address.port}`] }),
    ).rejects.toThrow(/no seed/);
    const fresh = await createNode({ name: 'new', bind: '127.0.0.1:0', config: FAST, keys: [KEY_B], join: [`127.0.0.1:${members[0]!.address.port}`] });
    nodes.push(fresh);
    await waitFor('4 alive everywhere on the new key', () => nodes.every((n) => n.members().filter((m) => m.status === 'alive').length === 4));
  });

  it('a node without encryption answers key queries with Serf’s refusal', async () => {
    const [a] = await cluster(2);
    expect(a!.keys).toBeUndefined();
    const listed = await a!.listKeys();
    expect(listed.errors).toEqual({ q0: 'Keyring is empty (encryption not enabled)', q1: 'Keyring is empty (encryption not enabled)' });
    await expect(a!.installKey('not base64!')).rejects.toThrow(/^encryption key is not base64/);
    await expect(a!.useKey('AAAA')).rejects.toThrow(/^encryption key decodes to 3 bytes: it must be 16, 24 or 32/);
  });
});
