/**
 * The Serf layer against a fake host: queries (docs/wire-format.md §9.3: dedup, rebroadcast, filters, acks, relays,
 * internal queries, ask()), its uint64 Lamport clocks at 2^53, 2^64 − 1 and across the wrap, and
 * the bound on every queue a peer can fill.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Address } from '../../packages/hearsay/src/core/index.js';
import { QueryError } from '../../packages/hearsay/src/serf/errors.js';
import { tallyKeyResponses } from '../../packages/hearsay/src/serf/key-results.js';
import { IncomingQuery, LamportClock, MAX_USER_EVENT_BYTES, SerfLayer, type QueryCollector, type SerfHost } from '../../packages/hearsay/src/serf/index.js';
import { OptionError } from '../../packages/hearsay/src/core/errors.js';
import {
  Keyring,
  QueryFlag,
  decodeSerfKeyResponse,
  decodeSerfQuery,
  decodeSerfQueryResponse,
  decodeSerfRelay,
  encodeSerfConflictResponse,
  encodeSerfJoin,
  encodeSerfKeyRequest,
  encodeSerfKeyResponse,
  encodeSerfQuery,
  encodeSerfQueryResponse,
  encodeSerfRelay,
  encodeSerfUserEvent,
  encodeSerfLeave,
  encodeSerfUserState,
  decodeSerfMessage,
  parseSerfUserState,
  type QueryFilter,
  type SerfConflictMember,
  type SerfKeyResponse,
  type SerfQuery,
  type SerfQueryResponse,
} from '../../packages/hearsay/src/wire/index.js';
import { createRandom } from '../../packages/hearsay/src/core/index.js';
import { MsgpackWriter, readObject } from '../../packages/hearsay/src/wire/msgpack.js';
import { RUNS } from '../wire/helpers.js';

/** A seeded generator, uniform in [0, 1): the core's own. */
function seeded(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.float();
}

const ASKER = { name: 'asker', address: { host: '10.0.0.9', port: 7000 } };
const PEERS = [ASKER, ...[1, 2, 3, 4].map((i) => ({ name: `p${i}`, address: { host: `10.0.1.${i}`, port: 7946 } }))];

class FakeHost implements SerfHost {
  readonly name = 'me';
  readonly address: Address = { host: '10.0.0.1', port: 7946 };
  readonly sent: { to: Address; payload: Uint8Array }[] = [];
  readonly broadcasts: { key: string; payload: Uint8Array }[] = [];
  readonly members = new Map<string, SerfConflictMember>();
  tagValues: Record<string, string> = {};
  peerList: { name: string; address: Address }[] = PEERS;
  keysChangedCalls = 0;
  clock = 1_000_000;
  readonly random: () => number;

  constructor(
    readonly keyring: Keyring | undefined = undefined,
    seed = 1,
  ) {
    this.random = seeded(seed);
  }

  tags(): Readonly<Record<string, string>> {
    return this.tagValues;
  }
  sendTo(to: Address, payload: Uint8Array): void {
    this.sent.push({ to, payload });
  }
  broadcast(key: string, payload: Uint8Array): void {
    this.broadcasts.push({ key, payload });
  }
  peers(): readonly { name: string; address: Address }[] {
    return this.peerList;
  }
  /** Addresses that are no member: answers and relays to them are refused. */
  readonly strangers = new Set<string>();
  isMemberAddress(address: Address): boolean {
    return !this.strangers.has(`${address.host}:${address.port}`);
  }
  member(name: string): SerfConflictMember | undefined {
    return this.members.get(name);
  }
  /** Makes these names members: only members' acks and answers are collected. */
  know(...names: string[]): void {
    for (const name of names) this.members.set(name, { name, host: '10.0.2.1', port: 7946, tags: {}, status: 'alive', vsn: Uint8Array.of(1, 5, 2, 2, 5, 4) });
  }
  keysChanged(): void {
    this.keysChangedCalls++;
  }
  readonly userStates: Uint8Array[] = [];
  setUserState(state: Uint8Array): void {
    this.userStates.push(state);
  }
  now(): number {
    return this.clock;
  }

  /** The query responses sent straight to an address (relays left out). */
  responsesTo(address: Address): SerfQueryResponse[] {
    return this.sent
      .filter((s) => s.payload[0] === 5 && s.to.host === address.host && s.to.port === address.port)
      .map((s) => decodeSerfQueryResponse(s.payload));
  }

  relays(): { to: Address; host: string; port: number; inner: Uint8Array; destName: string }[] {
    return this.sent
      .filter((s) => s.payload[0] === 9)
      .map((s) => {
        const header = readObject(s.payload, 1, 'relay').value as { DestName: Uint8Array };
        return { to: s.to, ...decodeSerfRelay(s.payload), destName: new TextDecoder().decode(header.DestName) };
      });
  }
}

function makeQuery(overrides: Partial<SerfQuery> = {}): SerfQuery {
  return {
    ltime: 10n,
    id: 77,
    host: ASKER.address.host,
    port: ASKER.address.port,
    sourceNode: ASKER.name,
    filters: [],
    flags: 0,
    relayFactor: 0,
    timeoutMs: 5000,
    name: 'deploy',
    payload: Uint8Array.of(1, 2, 3),
    ...overrides,
  };
}

function setup(options: { keyring?: Keyring; seed?: number } = {}) {
  const host = new FakeHost(options.keyring, options.seed);
  return { host, layer: new SerfLayer(host) };
}

function incoming(arrival: ReturnType<SerfLayer['observe']>): IncomingQuery {
  expect(arrival.kind).toBe('query');
  if (arrival.kind !== 'query') throw new Error('not a query');
  return arrival.query;
}

function recorder(): QueryCollector & { acks: string[]; responses: { from: string; payload: Uint8Array }[] } {
  const acks: string[] = [];
  const responses: { from: string; payload: Uint8Array }[] = [];
  return { acks, responses, onAck: (from) => acks.push(from), onResponse: (from, payload) => responses.push({ from, payload }) };
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const base64 = (key: Uint8Array) => Buffer.from(key).toString('base64');

describe('SerfLayer: receiving a query', () => {
  it('acts on a query once: the same ltime:id again is "handled", with no second broadcast', () => {
    const { host, layer } = setup();
    const bytes = encodeSerfQuery(makeQuery());
    expect(layer.observe(bytes).kind).toBe('query');
    expect(host.broadcasts).toHaveLength(1);
    expect(host.broadcasts[0]!.key).toBe('query:10:77');
    expect(host.broadcasts[0]!.payload).toEqual(bytes);
    expect(layer.observe(bytes)).toEqual({ kind: 'handled' });
    expect(layer.observe(encodeSerfQuery(makeQuery({ name: 'other', payload: new Uint8Array(0) })))).toEqual({ kind: 'handled' });
    expect(host.broadcasts).toHaveLength(1);
    // Another ID at the same LTime, or another LTime, is another query.
    expect(layer.observe(encodeSerfQuery(makeQuery({ id: 78 }))).kind).toBe('query');
    expect(layer.observe(encodeSerfQuery(makeQuery({ ltime: 11n }))).kind).toBe('query');
    expect(host.broadcasts.map((b) => b.key)).toEqual(['query:10:77', 'query:10:78', 'query:11:77']);
  });

  it('rebroadcasts the bytes as received (unknown fields kept)', () => {
    const { host, layer } = setup();
    const plain = encodeSerfQuery(makeQuery());
    // The same map with a 12th key that this version does not know.
    const extended = Uint8Array.of(4, 0x8c, ...plain.subarray(2), ...new MsgpackWriter().text('Zzz').uint(1).finish());
    expect(decodeSerfQuery(extended)).toEqual(makeQuery());
    expect(layer.observe(extended).kind).toBe('query');
    expect(host.broadcasts[0]!.payload).toEqual(extended);
  });

  it('does not rebroadcast a query flagged noBroadcast, but still acts on it', () => {
    const { host, layer } = setup();
    expect(layer.observe(encodeSerfQuery(makeQuery({ flags: QueryFlag.noBroadcast }))).kind).toBe('query');
    expect(layer.observe(encodeSerfQuery(makeQuery({ id: 2, flags: QueryFlag.noBroadcast | QueryFlag.ack }))).kind).toBe('query');
    expect(host.broadcasts).toHaveLength(0);
    expect(host.responsesTo(ASKER.address)).toEqual([{ ltime: 10n, id: 2, from: 'me', flags: QueryFlag.ack, payload: new Uint8Array(0) }]);
  });

  it('without the ack flag, receiving a query sends nothing', () => {
    const { host, layer } = setup();
    layer.observe(encodeSerfQuery(makeQuery({ relayFactor: 3 })));
    expect(host.sent).toHaveLength(0);
  });

  describe('filters', () => {
    /** Whether the node acts on a query with these filters; checks the non-matching behaviour too. */
    function passes(filters: QueryFilter[], tags: Record<string, string> = {}): boolean {
      const { host, layer } = setup();
      host.tagValues = tags;
      const arrival = layer.observe(encodeSerfQuery(makeQuery({ filters, flags: QueryFlag.ack, relayFactor: 2 })));
      // Passing or not, a first sighting is gossiped on.
      expect(host.broadcasts).toHaveLength(1);
      if (arrival.kind === 'handled') {
        expect(host.sent).toHaveLength(0); // no ack, no relay
        return false;
      }
      expect(arrival.kind).toBe('query');
      expect(host.responsesTo(ASKER.address)).toHaveLength(1); // the ack
      return true;
    }

    it('node filter: only the named nodes act', () => {
      expect(passes([{ kind: 'nodes', names: ['a', 'me', 'b'] }])).toBe(true);
      expect(passes([{ kind: 'nodes', names: ['a', 'b'] }])).toBe(false);
      expect(passes([{ kind: 'nodes', names: ['Me', 'me '] }])).toBe(false);
      expect(passes([{ kind: 'nodes', names: [] }])).toBe(false);
    });

    it('tag filter: an unanchored RE2 match of the tag value', () => {
      const tags = { role: 'web-1', dc: 'eu' };
      expect(passes([{ kind: 'tag', tag: 'role', expr: '^web' }], tags)).toBe(true);
      expect(passes([{ kind: 'tag', tag: 'role', expr: 'b-\\d' }], tags)).toBe(true);
      expect(passes([{ kind: 'tag', tag: 'role', expr: '^db' }], tags)).toBe(false);
      expect(passes([{ kind: 'tag', tag: 'role', expr: '^web$' }], tags)).toBe(false);
      expect(passes([{ kind: 'tag', tag: 'Role', expr: 'web' }], tags)).toBe(false);
    });

    it('tag filter: an invalid expression (or one RE2 lacks, like a lookahead) matches nothing', () => {
      const tags = { role: 'web' };
      expect(passes([{ kind: 'tag', tag: 'role', expr: '(' }], tags)).toBe(false);
      expect(passes([{ kind: 'tag', tag: 'role', expr: '[' }], tags)).toBe(false);
      expect(passes([{ kind: 'tag', tag: 'role', expr: '(?=w)web' }], tags)).toBe(false);
      expect(passes([{ kind: 'tag', tag: 'role', expr: '(a)\\1' }], tags)).toBe(false);
    });

    it('tag filter: a missing tag is the empty string', () => {
      expect(passes([{ kind: 'tag', tag: 'dc', expr: '^$' }], { role: 'web' })).toBe(true);
      expect(passes([{ kind: 'tag', tag: 'dc', expr: '' }], {})).toBe(true);
      expect(passes([{ kind: 'tag', tag: 'dc', expr: '.' }], { role: 'web' })).toBe(false);
    });

    it('an unknown filter type fails; every filter must pass', () => {
      expect(passes([{ kind: 'unknown', type: 2 }])).toBe(false);
      expect(
        passes([
          { kind: 'nodes', names: ['me'] },
          { kind: 'unknown', type: 9 },
        ]),
      ).toBe(false);
      const tags = { role: 'web' };
      expect(
        passes(
          [
            { kind: 'nodes', names: ['me'] },
            { kind: 'tag', tag: 'role', expr: 'web' },
          ],
          tags,
        ),
      ).toBe(true);
      expect(
        passes(
          [
            { kind: 'nodes', names: ['me'] },
            { kind: 'tag', tag: 'role', expr: 'db' },
          ],
          tags,
        ),
      ).toBe(false);
      expect(
        passes(
          [
            { kind: 'tag', tag: 'role', expr: 'w' },
            { kind: 'tag', tag: 'role', expr: 'b$' },
          ],
          tags,
        ),
      ).toBe(true);
    });

    it('a non-matching query flagged noBroadcast is neither gossiped nor answered', () => {
      const { host, layer } = setup();
      const q = makeQuery({ filters: [{ kind: 'nodes', names: ['x'] }], flags: QueryFlag.noBroadcast | QueryFlag.ack });
      expect(layer.observe(encodeSerfQuery(q))).toEqual({ kind: 'handled' });
      expect(host.broadcasts).toHaveLength(0);
      expect(host.sent).toHaveLength(0);
    });
  });

  it('acks to the query’s host:port with flags 1, relayed through min(relayFactor, peers but the asker) distinct peers', () => {
    for (const relayFactor of [0, 1, 2, 3, 4, 5, 255]) {
      for (let seed = 1; seed <= 10; seed++) {
        const { host, layer } = setup({ seed });
        const q = makeQuery({ flags: QueryFlag.ack, relayFactor });
        layer.observe(encodeSerfQuery(q));
        const ackBytes = encodeSerfQueryResponse({ ltime: 10, id: 77, from: 'me', flags: QueryFlag.ack, payload: new Uint8Array(0) });
        // The first send is the ack, straight to the asker.
        expect(host.sent[0]).toEqual({ to: ASKER.address, payload: ackBytes });
        const relays = host.relays();
        expect(host.sent).toHaveLength(1 + relays.length);
        expect(relays).toHaveLength(Math.min(relayFactor, PEERS.length - 1));
        const targets = relays.map((r) => r.to);
        expect(new Set(targets.map((t) => `${t.host}:${t.port}`)).size).toBe(targets.length);
        for (const relay of relays) {
          expect(relay.to).not.toEqual(ASKER.address);
          expect(PEERS.map((p) => p.address)).toContainEqual(relay.to);
          expect(relay).toMatchObject({ host: ASKER.address.host, port: ASKER.address.port, destName: ASKER.name });
          expect(relay.inner).toEqual(ackBytes);
          expect(decodeSerfQueryResponse(relay.inner)).toEqual({ ltime: 10n, id: 77, from: 'me', flags: QueryFlag.ack, payload: new Uint8Array(0) });
        }
      }
    }
  });

  it('picks the relays at random: over many queries, every peer but the asker serves', () => {
    const { host, layer } = setup({ seed: 42 });
    for (let id = 0; id < 60; id++) layer.observe(encodeSerfQuery(makeQuery({ id, flags: QueryFlag.ack, relayFactor: 1 })));
    const used = new Set(host.relays().map((r) => r.to.host));
    expect([...used].sort()).toEqual(
      PEERS.slice(1)
        .map((p) => p.address.host)
        .sort(),
    );
  });

  it('relays through fewer peers when there are not enough, and none when the asker is the only one', () => {
    const { host, layer } = setup();
    host.peerList = [ASKER, PEERS[1]!];
    layer.observe(encodeSerfQuery(makeQuery({ flags: QueryFlag.ack, relayFactor: 3 })));
    expect(host.relays().map((r) => r.to)).toEqual([PEERS[1]!.address]);
    host.peerList = [ASKER];
    layer.observe(encodeSerfQuery(makeQuery({ id: 1, flags: QueryFlag.ack, relayFactor: 3 })));
    expect(host.relays()).toHaveLength(1);
    host.peerList = [];
    layer.observe(encodeSerfQuery(makeQuery({ id: 2, flags: QueryFlag.ack, relayFactor: 3 })));
    expect(host.relays()).toHaveLength(1);
    expect(host.responsesTo(ASKER.address)).toHaveLength(3);
  });
});

describe('SerfLayer: answering an application query', () => {
  it('returns the query, whose respond() sends one answer to the asker', () => {
    const { host, layer } = setup();
    const query = incoming(layer.observe(encodeSerfQuery(makeQuery())));
    expect(query).toBeInstanceOf(IncomingQuery);
    expect(query).toMatchObject({ name: 'deploy', payload: Uint8Array.of(1, 2, 3), from: 'asker', ltime: 10n, id: 77, deadline: host.clock + 5000 });
    query.respond(utf8('done'));
    expect(host.sent).toEqual([{ to: ASKER.address, payload: encodeSerfQueryResponse({ ltime: 10, id: 77, from: 'me', flags: 0, payload: utf8('done') }) }]);
    expect(() => query.respond(utf8('again'))).toThrow(QueryError);
    expect(() => query.respond(utf8('again'))).toThrow(/already been answered/);
    expect(host.sent).toHaveLength(1);
  });

  it('an answer is relayed like an ack', () => {
    const { host, layer } = setup();
    const query = incoming(layer.observe(encodeSerfQuery(makeQuery({ relayFactor: 2 }))));
    query.respond(utf8('ok'));
    const answer = encodeSerfQueryResponse({ ltime: 10, id: 77, from: 'me', flags: 0, payload: utf8('ok') });
    expect(host.sent[0]).toEqual({ to: ASKER.address, payload: answer });
    const relays = host.relays();
    expect(relays).toHaveLength(2);
    for (const relay of relays) expect(relay.inner).toEqual(answer);
  });

  it('after the deadline, respond() throws and sends nothing; at the deadline it still answers', () => {
    const late = setup();
    const q1 = incoming(late.layer.observe(encodeSerfQuery(makeQuery())));
    late.host.clock += 5001;
    expect(() => q1.respond(utf8('late'))).toThrow(QueryError);
    expect(() => q1.respond(utf8('late'))).toThrow(/deadline/);
    expect(late.host.sent).toHaveLength(0);

    const onTime = setup();
    const q2 = incoming(onTime.layer.observe(encodeSerfQuery(makeQuery())));
    onTime.host.clock += 5000;
    q2.respond(utf8('just in time'));
    expect(onTime.host.sent).toHaveLength(1);
  });

  it('an answer over 1024 bytes encoded throws (and may then be retried smaller)', () => {
    const { host, layer } = setup();
    const query = incoming(layer.observe(encodeSerfQuery(makeQuery())));
    // 05 + {Flags 0, From "me", ID 77, LTime 10, Payload da xxxx …}: 39 bytes around the payload.
    const overhead = encodeSerfQueryResponse({ ltime: 10, id: 77, from: 'me', flags: 0, payload: new Uint8Array(100) }).length - 100;
    expect(overhead).toBe(39);
    expect(() => query.respond(new Uint8Array(1024 - 39 + 1))).toThrow(QueryError);
    expect(() => query.respond(new Uint8Array(1024 - 39 + 1))).toThrow(/1025 bytes.*1024/);
    expect(host.sent).toHaveLength(0);
    query.respond(new Uint8Array(1024 - 39));
    expect(host.sent).toHaveLength(1);
    expect(host.sent[0]!.payload).toHaveLength(1024);
  });
});

describe('SerfLayer: internal queries', () => {
  /** Observes an internal query asking for an ack and returns the one answer (not the ack), if any. */
  function internal(layer: SerfLayer, host: FakeHost, name: string, payload: Uint8Array, id = 1): Uint8Array | undefined {
    const before = host.sent.length;
    expect(layer.observe(encodeSerfQuery(makeQuery({ id, name, payload, flags: QueryFlag.ack })))).toEqual({ kind: 'handled' });
    const responses = host.sent.slice(before).map((s) => decodeSerfQueryResponse(s.payload));
    expect(responses[0]).toMatchObject({ flags: QueryFlag.ack, from: 'me', id });
    expect(responses.length).toBeLessThanOrEqual(2);
    if (responses.length === 1) return undefined;
    expect(responses[1]).toMatchObject({ flags: 0, from: 'me', id, ltime: 10n });
    expect(host.sent[before + 1]!.to).toEqual(ASKER.address);
    return responses[1]!.payload;
  }

  const keyAnswer = (layer: SerfLayer, host: FakeHost, name: string, payload: Uint8Array, id: number): SerfKeyResponse => {
    const answer = internal(layer, host, name, payload, id);
    expect(answer).toBeDefined();
    return decodeSerfKeyResponse(answer!);
  };

  it('_serf_ping: only the ack; never reaches the application', () => {
    const { host, layer } = setup();
    expect(internal(layer, host, '_serf_ping', new Uint8Array(0))).toBeUndefined();
    expect(host.sent).toHaveLength(1);
    expect(layer.observe(encodeSerfQuery(makeQuery({ id: 2, name: '_serf_ping' })))).toEqual({ kind: 'handled' });
    expect(host.sent).toHaveLength(1);
    // Unknown internal queries (later Serf versions) likewise.
    expect(internal(layer, host, '_serf_future', new Uint8Array(0), 3)).toBeUndefined();
  });

  it('_serf_conflict about another name answers with that member (or nil); about our own name, nothing', () => {
    const { host, layer } = setup();
    const other: SerfConflictMember = {
      name: 'other',
      host: '10.0.0.3',
      port: 7946,
      tags: { role: 'db' },
      status: 'alive',
      vsn: Uint8Array.of(1, 5, 2, 2, 5, 4),
    };
    host.members.set('other', other);
    expect(internal(layer, host, '_serf_conflict', utf8('other'), 1)).toEqual(encodeSerfConflictResponse(other));
    expect(internal(layer, host, '_serf_conflict', utf8('nobody'), 2)).toEqual(Uint8Array.of(6, 0xc0));
    expect(internal(layer, host, '_serf_conflict', utf8('me'), 3)).toBeUndefined();
  });

  it('key queries change a real keyring, call keysChanged, and answer Result true', () => {
    const [k1, k2] = [new Uint8Array(32).fill(1), new Uint8Array(16).fill(2)];
    const keyring = new Keyring([k1]);
    const { host, layer } = setup({ keyring });
    const ok = { result: true, message: '', keys: [], primaryKey: '' };

    expect(keyAnswer(layer, host, '_serf_install-key', encodeSerfKeyRequest(k2), 1)).toEqual(ok);
    expect(keyring.keys).toEqual([k1, k2]);
    expect(host.keysChangedCalls).toBe(1);

    expect(keyAnswer(layer, host, '_serf_list-keys', new Uint8Array(0), 2)).toEqual({
      result: true,
      message: '',
      keys: [base64(k1), base64(k2)],
      primaryKey: base64(k1),
    });
    expect(host.keysChangedCalls).toBe(1);

    expect(keyAnswer(layer, host, '_serf_use-key', encodeSerfKeyRequest(k2), 3)).toEqual(ok);
    expect(keyring.primaryKey).toEqual(k2);
    expect(host.keysChangedCalls).toBe(2);

    expect(keyAnswer(layer, host, '_serf_remove-key', encodeSerfKeyRequest(k1), 4)).toEqual(ok);
    expect(keyring.keys).toEqual([k2]);
    expect(host.keysChangedCalls).toBe(3);

    expect(keyAnswer(layer, host, '_serf_list-keys', new Uint8Array(0), 5)).toEqual({ result: true, message: '', keys: [base64(k2)], primaryKey: base64(k2) });
  });

  it('key queries that fail answer Result false with the reason, and leave the keyring alone', () => {
    const [k1, k2] = [new Uint8Array(32).fill(1), new Uint8Array(16).fill(2)];
    const keyring = new Keyring([k1]);
    const { host, layer } = setup({ keyring });
    const failed = (answer: SerfKeyResponse, message: RegExp) => {
      expect(answer).toMatchObject({ result: false, keys: [], primaryKey: '' });
      expect(answer.message).toMatch(message);
    };
    failed(keyAnswer(layer, host, '_serf_use-key', encodeSerfKeyRequest(k2), 1), /not in the keyring/);
    failed(keyAnswer(layer, host, '_serf_remove-key', encodeSerfKeyRequest(k1), 2), /primary/);
    failed(keyAnswer(layer, host, '_serf_install-key', encodeSerfKeyRequest(new Uint8Array(15)), 3), /16, 24 or 32 bytes/);
    failed(keyAnswer(layer, host, '_serf_install-key', new Uint8Array(0), 4), /.+/);
    failed(keyAnswer(layer, host, '_serf_install-key', Uint8Array.of(8, 0x80), 5), /type byte/);
    expect(keyring.keys).toEqual([k1]);
    expect(host.keysChangedCalls).toBe(0);
  });

  it('key queries without a keyring answer with Serf’s messages', () => {
    const { host, layer } = setup();
    const key = encodeSerfKeyRequest(new Uint8Array(16));
    const noRing = { result: false, message: 'No keyring to modify (encryption not enabled)', keys: [], primaryKey: '' };
    expect(keyAnswer(layer, host, '_serf_install-key', key, 1)).toEqual(noRing);
    expect(keyAnswer(layer, host, '_serf_use-key', key, 2)).toEqual(noRing);
    expect(keyAnswer(layer, host, '_serf_remove-key', key, 3)).toEqual(noRing);
    expect(keyAnswer(layer, host, '_serf_list-keys', new Uint8Array(0), 4)).toEqual({
      result: false,
      message: 'Keyring is empty (encryption not enabled)',
      keys: [],
      primaryKey: '',
    });
    expect(host.keysChangedCalls).toBe(0);
  });

  it('an internal query this node is filtered out of changes nothing', () => {
    const keyring = new Keyring([new Uint8Array(16)]);
    const { host, layer } = setup({ keyring });
    const q = makeQuery({
      name: '_serf_install-key',
      payload: encodeSerfKeyRequest(new Uint8Array(16).fill(9)),
      filters: [{ kind: 'nodes', names: ['x'] }],
      flags: QueryFlag.ack,
    });
    expect(layer.observe(encodeSerfQuery(q))).toEqual({ kind: 'handled' });
    expect(keyring.keys).toHaveLength(1);
    expect(host.sent).toHaveLength(0);
  });

  it('the answer to an internal query is relayed when asked', () => {
    const { host, layer } = setup();
    layer.observe(encodeSerfQuery(makeQuery({ name: '_serf_list-keys', payload: new Uint8Array(0), relayFactor: 2 })));
    const answer = host.sent[0]!;
    expect(answer.to).toEqual(ASKER.address);
    const relays = host.relays();
    expect(relays).toHaveLength(2);
    for (const relay of relays) expect(relay.inner).toEqual(answer.payload);
  });
});

describe('SerfLayer: relays and responses arriving', () => {
  it('a relay message is forwarded: sendTo(dest, inner)', () => {
    const { host, layer } = setup();
    const inner = encodeSerfQueryResponse({ ltime: 3, id: 4, from: 'x', flags: 0, payload: Uint8Array.of(1) });
    expect(layer.observe(encodeSerfRelay({ host: 'fd00::5', port: 8000 }, 'dest', inner))).toEqual({ kind: 'handled' });
    expect(host.sent).toEqual([{ to: { host: 'fd00::5', port: 8000 }, payload: inner }]);
    expect(host.broadcasts).toHaveLength(0);
  });

  it('a relay towards an address that is no member is dropped (no reflection)', () => {
    const { host, layer } = setup();
    host.strangers.add('192.0.2.9:53');
    const inner = encodeSerfQueryResponse({ ltime: 3, id: 4, from: 'x', flags: 0, payload: Uint8Array.of(1) });
    expect(layer.observe(encodeSerfRelay({ host: '192.0.2.9', port: 53 }, 'victim', inner))).toEqual({ kind: 'handled' });
    expect(host.sent).toEqual([]);
    expect(layer.stats.relaysForwarded).toBe(0);
  });

  it('a query whose answer address is no member gets neither ack nor answer, but still spreads', () => {
    const { host, layer } = setup();
    host.strangers.add('192.0.2.9:53');
    const query = incoming(layer.observe(encodeSerfQuery(makeQuery({ host: '192.0.2.9', port: 53, flags: QueryFlag.ack, relayFactor: 2 }))));
    query.respond(utf8('hello'));
    expect(host.sent).toEqual([]);
    expect(host.broadcasts).toHaveLength(1);
  });

  it('a response to a query this node did not ask is ignored', () => {
    const { host, layer } = setup();
    expect(layer.observe(encodeSerfQueryResponse({ ltime: 3, id: 4, from: 'x', flags: 0, payload: Uint8Array.of(1) }))).toEqual({ kind: 'handled' });
    expect(host.sent).toHaveLength(0);
  });
});

describe('SerfLayer: ask()', () => {
  it('broadcasts its own query, handles it locally, and returns the local copy for an application query', () => {
    const { host, layer } = setup();
    host.tagValues = { role: 'web' };
    const collector = recorder();
    const asked = layer.ask(
      'deploy',
      Uint8Array.of(9),
      { timeoutMs: 2000, requestAck: true, relayFactor: 0, nodes: ['me', 'b'], tags: { role: '^web' } },
      collector,
    );
    expect(host.broadcasts).toHaveLength(1);
    const q = decodeSerfQuery(host.broadcasts[0]!.payload);
    expect(q).toMatchObject({
      host: '10.0.0.1',
      port: 7946,
      sourceNode: 'me',
      filters: [
        { kind: 'nodes', names: ['me', 'b'] },
        { kind: 'tag', tag: 'role', expr: '^web' },
      ],
      flags: QueryFlag.ack,
      relayFactor: 0,
      timeoutMs: 2000,
      name: 'deploy',
      payload: Uint8Array.of(9),
    });
    expect(q.id).toBeGreaterThanOrEqual(0);
    expect(q.id).toBeLessThan(2 ** 32);
    expect(host.broadcasts[0]!.key).toBe(`query:${q.ltime}:${q.id}`);
    // This node passes its own filters: it acks (to itself) and gets a local copy to answer.
    expect(host.responsesTo(host.address)).toEqual([{ ltime: q.ltime, id: q.id, from: 'me', flags: QueryFlag.ack, payload: new Uint8Array(0) }]);
    expect(asked.local).toBeInstanceOf(IncomingQuery);
    expect(asked.local).toMatchObject({ name: 'deploy', from: 'me', ltime: q.ltime, id: q.id, deadline: host.clock + 2000 });
    asked.local!.respond(utf8('mine'));
    expect(host.responsesTo(host.address).at(-1)).toMatchObject({ from: 'me', flags: 0, payload: utf8('mine') });
    // Our own query gossiped back to us is a repeat.
    expect(layer.observe(host.broadcasts[0]!.payload)).toEqual({ kind: 'handled' });
    expect(host.broadcasts).toHaveLength(1);
  });

  it('routes acks and answers with the matching ltime:id to the collector until finish()', () => {
    const { layer, host } = setup();
    host.know('b', 'c', 'd');
    const collector = recorder();
    const asked = layer.ask('q', new Uint8Array(0), { timeoutMs: 1000, requestAck: true }, collector);
    const q = decodeSerfQuery(host.broadcasts[0]!.payload);
    const response = (from: string, flags: number, payload = new Uint8Array(0), ltime = q.ltime, id = q.id) =>
      encodeSerfQueryResponse({ ltime, id, from, flags, payload });

    expect(layer.observe(response('b', QueryFlag.ack))).toEqual({ kind: 'handled' });
    expect(layer.observe(response('b', 0, utf8('hi')))).toEqual({ kind: 'handled' });
    // A relayed copy arrives too: the layer passes it on (the node keeps the first of each).
    layer.observe(response('b', 0, utf8('hi')));
    // Other queries' responses are ignored.
    layer.observe(response('c', 0, utf8('x'), q.ltime, (q.id + 1) >>> 0));
    layer.observe(response('c', 0, utf8('x'), q.ltime + 1n, q.id));
    expect(collector.acks).toEqual(['b']);
    expect(collector.responses).toEqual([
      { from: 'b', payload: utf8('hi') },
      { from: 'b', payload: utf8('hi') },
    ]);
    asked.finish();
    layer.observe(response('d', QueryFlag.ack));
    layer.observe(response('d', 0, utf8('late')));
    expect(collector.acks).toEqual(['b']);
    expect(collector.responses).toHaveLength(2);
  });

  it('collects for several queries at once, each its own', () => {
    const { layer, host } = setup();
    host.know('x', 'y');
    const [one, two] = [recorder(), recorder()];
    layer.ask('one', new Uint8Array(0), { timeoutMs: 1000 }, one);
    layer.ask('two', new Uint8Array(0), { timeoutMs: 1000 }, two);
    const [q1, q2] = host.broadcasts.map((b) => decodeSerfQuery(b.payload));
    expect(q2!.ltime).toBeGreaterThan(q1!.ltime);
    layer.observe(encodeSerfQueryResponse({ ltime: q2!.ltime, id: q2!.id, from: 'x', flags: 0, payload: Uint8Array.of(2) }));
    layer.observe(encodeSerfQueryResponse({ ltime: q1!.ltime, id: q1!.id, from: 'y', flags: 0, payload: Uint8Array.of(1) }));
    expect(one.responses).toEqual([{ from: 'y', payload: Uint8Array.of(1) }]);
    expect(two.responses).toEqual([{ from: 'x', payload: Uint8Array.of(2) }]);
  });

  it('no local copy when this node is filtered out or the query is internal; no ack unless asked', () => {
    const { host, layer } = setup();
    expect(layer.ask('q', new Uint8Array(0), { timeoutMs: 1000, requestAck: true, nodes: ['b'] }, recorder()).local).toBeUndefined();
    expect(layer.ask('q', new Uint8Array(0), { timeoutMs: 1000, requestAck: true, tags: { role: 'web' } }, recorder()).local).toBeUndefined();
    expect(host.sent).toHaveLength(0);
    expect(host.broadcasts).toHaveLength(2);
    expect(layer.ask('_serf_ping', new Uint8Array(0), { timeoutMs: 1000 }, recorder()).local).toBeUndefined();
    expect(layer.ask('q', new Uint8Array(0), { timeoutMs: 1000 }, recorder()).local).toBeDefined();
    expect(host.sent).toHaveLength(0);
    // Without filters the wire carries nil Filters and flags 0.
    const last = decodeSerfQuery(host.broadcasts.at(-1)!.payload);
    expect(last).toMatchObject({ filters: [], flags: 0, relayFactor: 0 });
    const bytes = Buffer.from(host.broadcasts.at(-1)!.payload);
    expect(bytes[bytes.indexOf('Filters') + 'Filters'.length]).toBe(0xc0);
  });

  it('an internal query asked here is answered by this node too (list-keys)', () => {
    const key = new Uint8Array(16).fill(3);
    const { host, layer } = setup({ keyring: new Keyring([key]) });
    layer.ask('_serf_list-keys', new Uint8Array(0), { timeoutMs: 1000 }, recorder());
    const [answer] = host.responsesTo(host.address);
    expect(decodeSerfKeyResponse(answer!.payload)).toEqual({ result: true, message: '', keys: [base64(key)], primaryKey: base64(key) });
  });

  it('stamps its query after every query LTime seen (received queries and push/pull state)', () => {
    const { host, layer } = setup();
    layer.observe(encodeSerfQuery(makeQuery({ ltime: 41n })));
    layer.ask('q', new Uint8Array(0), { timeoutMs: 1000 }, recorder());
    const first = decodeSerfQuery(host.broadcasts.at(-1)!.payload).ltime;
    expect(first).toBeGreaterThanOrEqual(42);

    // A query older than the clock does not move it back.
    layer.observe(encodeSerfQuery(makeQuery({ ltime: 3n, id: 1 })));
    layer.ask('q', new Uint8Array(0), { timeoutMs: 1000 }, recorder());
    const second = decodeSerfQuery(host.broadcasts.at(-1)!.payload).ltime;
    expect(second).toBeGreaterThan(first);

    const state = new MsgpackWriter().byte(2).struct({ EventLTime: 1, LTime: 1, QueryLTime: 500 }).finish();
    layer.observeState({ type: 'pushPull', join: false, states: [], userState: state });
    layer.ask('q', new Uint8Array(0), { timeoutMs: 1000 }, recorder());
    // As Serf: a state's clock is one the peer has not stamped a message with yet.
    expect(decodeSerfQuery(host.broadcasts.at(-1)!.payload).ltime).toBe(500n);
  });

  it('a query filtered out or not, its LTime is witnessed', () => {
    const { host, layer } = setup();
    layer.observe(encodeSerfQuery(makeQuery({ ltime: 99n, filters: [{ kind: 'nodes', names: ['x'] }], flags: QueryFlag.noBroadcast })));
    layer.ask('q', new Uint8Array(0), { timeoutMs: 1000 }, recorder());
    expect(decodeSerfQuery(host.broadcasts.at(-1)!.payload).ltime).toBeGreaterThanOrEqual(100);
  });
});

describe('SerfLayer: malformed input', () => {
  it('malformed payloads are {kind: "other"}: nothing remembered, sent or gossiped', () => {
    const { host, layer } = setup();
    const bad = [
      new Uint8Array(0),
      Uint8Array.of(4),
      Uint8Array.of(4, 0xc1),
      Uint8Array.of(4, 0x80), // no Addr
      encodeSerfQuery(makeQuery()).subarray(0, 30),
      Uint8Array.of(5),
      Uint8Array.of(5, 0x93),
      Uint8Array.of(5, 0x81, 0xa4, 0x46, 0x72, 0x6f, 0x6d, 0x01), // From: 1
      Uint8Array.of(9),
      Uint8Array.of(9, 0x80),
      encodeSerfRelay({ host: '10.0.0.1', port: 1 }, 'a', Uint8Array.of(5)).subarray(0, 20),
      Uint8Array.of(3, 0x91),
      Uint8Array.of(0),
    ];
    for (const payload of bad) expect(layer.observe(payload)).toEqual({ kind: 'other' });
    expect(layer.stats.malformed).toBe(bad.length);
    // Hostile fields in an otherwise good query: Addr of 5 bytes, ID over uint32, Filters not an array.
    const fields = (overrides: Record<string, (w: MsgpackWriter) => unknown>) => {
      const all: Record<string, (w: MsgpackWriter) => unknown> = {
        Addr: (w) => w.raw(Uint8Array.of(10, 0, 0, 1)),
        Flags: (w) => w.uint(QueryFlag.ack),
        ID: (w) => w.uint(1),
        LTime: (w) => w.uint(1),
        Name: (w) => w.text('q'),
        Port: (w) => w.uint(1),
        ...overrides,
      };
      const keys = Object.keys(all).sort();
      const w = new MsgpackWriter().byte(4).mapHeader(keys.length);
      for (const key of keys) all[key]!(w.text(key));
      return w.finish();
    };
    expect(layer.observe(fields({}))).toMatchObject({ kind: 'query' }); // the control
    const hostile: Record<string, (w: MsgpackWriter) => unknown>[] = [
      { Addr: (w) => w.raw(new Uint8Array(5)) },
      { ID: (w) => w.uint(2 ** 32) },
      { Filters: (w) => w.uint(1) },
    ];
    for (const overrides of hostile) {
      expect(layer.observe(fields({ ...overrides, LTime: (w) => w.uint(2) }))).toEqual({ kind: 'other' });
    }
    expect(host.broadcasts).toHaveLength(1);
    expect(host.sent).toHaveLength(1); // the control's ack
  });

  it('other Serf messages pass through: intents, and nested-only types are "other"', () => {
    const { layer } = setup();
    expect(layer.observe(encodeSerfJoin({ ltime: 3, node: 'x' }))).toEqual({ kind: 'intent' });
    // Witnessed as Serf does: one past the intent's time.
    expect(layer.ltime).toBe(4n);
    for (const type of [2, 6, 7, 8, 10, 255]) expect(layer.observe(Uint8Array.of(type, 0x80))).toEqual({ kind: 'other' });
    // Types this layer does not read are not malformed: Serf itself ignores them.
    expect(layer.stats.malformed).toBe(0);
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 3, 4, 5, 9, 200), fc.uint8Array({ maxLength: 80 }), (type, tail) => {
        const { layer } = setup();
        const arrival = layer.observe(Uint8Array.of(type, ...tail));
        expect(['intent', 'event', 'query', 'handled', 'other']).toContain(arrival.kind);
      }),
      RUNS,
    );
  });
});

describe('tallyKeyResponses', () => {
  const response = (r: SerfKeyResponse) => encodeSerfKeyResponse(r);
  const [k1, k2] = ['AQEBAQEBAQEBAQEBAQEBAQ==', 'AgICAgICAgICAgICAgICAg=='];

  it('counts keys and primary keys over the members that answered', () => {
    const result = tallyKeyResponses(4, [
      { from: 'a', payload: response({ result: true, message: '', keys: [k1, k2], primaryKey: k1 }) },
      { from: 'b', payload: response({ result: true, message: '', keys: [k1], primaryKey: k1 }) },
      { from: 'c', payload: response({ result: true, message: '', keys: [k2, k1], primaryKey: k2 }) },
    ]);
    expect(result).toEqual({ nodes: 4, responses: 3, errors: {}, keys: { [k1]: 3, [k2]: 2 }, primaryKeys: { [k1]: 2, [k2]: 1 } });
  });

  it('a modification answered with Result true counts no keys and no error', () => {
    expect(tallyKeyResponses(1, [{ from: 'a', payload: response({ result: true, message: '', keys: [], primaryKey: '' }) }])).toEqual({
      nodes: 1,
      responses: 1,
      errors: {},
      keys: {},
      primaryKeys: {},
    });
  });

  it('errors for Result false (with the message, or a default) and for unreadable answers', () => {
    const result = tallyKeyResponses(5, [
      { from: 'a', payload: response({ result: true, message: '', keys: [k1], primaryKey: k1 }) },
      { from: 'b', payload: response({ result: false, message: 'No keyring to modify (encryption not enabled)', keys: [], primaryKey: '' }) },
      { from: 'c', payload: response({ result: false, message: '', keys: [], primaryKey: '' }) },
      { from: 'd', payload: Uint8Array.of(8, 0xc1) },
      { from: 'e', payload: encodeSerfKeyRequest(new Uint8Array(16)) },
      { from: 'f', payload: new Uint8Array(0) },
    ]);
    expect(result.nodes).toBe(5);
    expect(result.responses).toBe(6);
    expect(result.errors.b).toBe('No keyring to modify (encryption not enabled)');
    expect(result.errors.c).toBe('failed without a reason');
    expect(result.errors.d).toMatch(/^unreadable answer: /);
    expect(result.errors.e).toMatch(/^unreadable answer: .*type byte 8/);
    expect(result.errors.f).toMatch(/^unreadable answer: /);
    expect(Object.keys(result.errors).sort()).toEqual(['b', 'c', 'd', 'e', 'f']);
    expect(result.keys).toEqual({ [k1]: 1 });
    expect(result.primaryKeys).toEqual({ [k1]: 1 });
  });

  it('no answers at all', () => {
    expect(tallyKeyResponses(3, [])).toEqual({ nodes: 3, responses: 0, errors: {}, keys: {}, primaryKeys: {} });
  });
});

const TOP = 2n ** 64n - 1n;
const SAFE = 2n ** 53n;

describe('LamportClock: Serf’s uint64 clock', () => {
  it('starts at 1; stamp() gives the time, then ticks', () => {
    const clock = new LamportClock();
    expect(clock.time).toBe(1n);
    expect(clock.stamp()).toBe(1n);
    expect(clock.stamp()).toBe(2n);
    expect(clock.time).toBe(3n);
  });

  it('witnessing a time not older than the clock moves it one past; an older time changes nothing', () => {
    const clock = new LamportClock();
    clock.witness(10n);
    expect(clock.time).toBe(11n);
    clock.witness(5n);
    expect(clock.time).toBe(11n);
    clock.witness(11n);
    expect(clock.time).toBe(12n);
  });

  it('is exact past 2^53', () => {
    const clock = new LamportClock();
    clock.witness(SAFE - 1n);
    expect(clock.stamp()).toBe(SAFE);
    expect(clock.stamp()).toBe(SAFE + 1n);
    expect(clock.time).toBe(SAFE + 2n);
  });

  it('wraps at 2^64 as Go’s uint64: witness(2^64 − 1) gives 0, and so does a tick from 2^64 − 1', () => {
    const witnessed = new LamportClock();
    witnessed.witness(TOP);
    expect(witnessed.time).toBe(0n);
    const ticked = new LamportClock();
    ticked.witness(TOP - 1n);
    expect(ticked.stamp()).toBe(TOP);
    expect(ticked.time).toBe(0n);
    expect(ticked.increment()).toBe(1n);
  });
});

describe('SerfLayer: clocks at the top of the range', () => {
  const event = (ltime: bigint, name = 'e', payload = Uint8Array.of(1)) => encodeSerfUserEvent({ ltime, name, payload, coalesce: false });
  const isFresh = (arrival: ReturnType<SerfLayer['observe']>) => arrival.kind === 'event' && arrival.fresh;
  const lastState = (host: FakeHost) => parseSerfUserState(host.userStates.at(-1)!)!;

  it('at 2^53 (where the old clamp stopped): events, queries, intents and the published state stay exact', () => {
    const { host, layer } = setup();
    host.know('b');
    expect(isFresh(layer.observe(event(SAFE - 1n)))).toBe(true);
    layer.observe(encodeSerfQuery(makeQuery({ ltime: SAFE - 1n })));
    layer.observe(encodeSerfJoin({ ltime: SAFE - 1n, node: 'x' }));
    const mine = layer.userEvent('next', Uint8Array.of(2));
    expect(decodeSerfMessage(mine.bytes)).toMatchObject({ type: 'event', ltime: SAFE });
    const collector = recorder();
    layer.ask('q', new Uint8Array(0), { timeoutMs: 1000 }, collector);
    const asked = decodeSerfQuery(host.broadcasts.at(-1)!.payload);
    expect(asked.ltime).toBe(SAFE);
    layer.observe(encodeSerfQueryResponse({ ltime: SAFE, id: asked.id, from: 'b', flags: 0, payload: utf8('ok') }));
    expect(collector.responses).toEqual([{ from: 'b', payload: utf8('ok') }]);
    expect(decodeSerfMessage(layer.leaveIntent())).toMatchObject({ type: 'leave', ltime: SAFE });
    // Two events an LTime apart past 2^53 are two events (as floats they would be one).
    expect(isFresh(layer.observe(event(SAFE + 1n, 'f')))).toBe(true);
    expect(isFresh(layer.observe(event(SAFE + 2n, 'f')))).toBe(true);
    const state = lastState(host);
    expect(state).toMatchObject({ ltime: SAFE + 1n, eventLTime: SAFE + 3n, queryLTime: SAFE + 1n });
    expect(state.events.map((slot) => slot.ltime)).toEqual(expect.arrayContaining([SAFE - 1n, SAFE, SAFE + 1n, SAFE + 2n]));
    expect(layer.stats.dropped).toEqual({});
  });

  it('at 2^64 − 1: a forged event, query and intent wrap the clocks to 0, and the node goes on stamping, encoding and publishing', () => {
    const { host, layer } = setup();
    host.know('b');
    expect(isFresh(layer.observe(event(TOP, 'forged')))).toBe(true);
    expect(layer.observe(encodeSerfQuery(makeQuery({ ltime: TOP, id: 5 }))).kind).toBe('query');
    expect(layer.observe(encodeSerfLeave({ ltime: TOP, node: 'ghost', prune: false })).kind).toBe('leave');
    expect(layer.ltime).toBe(0n);
    // Our own messages after the wrap: LTime 0, as Go's clock gives them.
    expect(decodeSerfMessage(layer.userEvent('after', Uint8Array.of(3)).bytes)).toMatchObject({ type: 'event', ltime: 0n });
    const collector = recorder();
    layer.ask('q', new Uint8Array(0), { timeoutMs: 1000, requestAck: true }, collector);
    const asked = decodeSerfQuery(host.broadcasts.at(-1)!.payload);
    expect(asked.ltime).toBe(0n);
    layer.observe(encodeSerfQueryResponse({ ltime: 0n, id: asked.id, from: 'b', flags: QueryFlag.ack, payload: new Uint8Array(0) }));
    expect(collector.acks).toEqual(['b']);
    expect(decodeSerfMessage(layer.leaveIntent())).toMatchObject({ type: 'leave', ltime: 0n });
    // Published with the event: the clocks as they stood then.
    expect(lastState(host)).toMatchObject({ ltime: 0n, eventLTime: 1n, queryLTime: 0n });
    expect(lastState(host).events.map((slot) => slot.ltime)).toEqual(expect.arrayContaining([TOP, 0n]));
    // The forged messages again, after the wrap: recognised as repeats, not delivered twice.
    expect(isFresh(layer.observe(event(TOP, 'forged')))).toBe(false);
    expect(layer.observe(encodeSerfQuery(makeQuery({ ltime: TOP, id: 5 })))).toEqual({ kind: 'handled' });
    expect(layer.stats.dropped).toEqual({});
  });

  it('a join exchange delivers its events unless this node is joining itself (Serf’s eventJoinIgnore)', async () => {
    const { layer } = setup();
    const stateWith = (name: string, ltime: bigint) =>
      encodeSerfUserState({ ltime: 1n, eventLTime: ltime, queryLTime: 0n, events: [{ ltime, events: [{ name, payload: new Uint8Array(0) }] }] });
    // A reconnect after a partition, or a peer joining this node: the events it missed are delivered.
    expect(layer.observeState({ type: 'pushPull', join: true, states: [], userState: stateWith('missed', 3n) }).map((e) => e.name)).toEqual(['missed']);
    // This node's own join, as Serf's agent without -replay: the cluster's past is recorded as seen, not delivered.
    let during: string[] = [];
    await layer.joining(async () => {
      during = layer.observeState({ type: 'pushPull', join: true, states: [], userState: stateWith('past', 4n) }).map((e) => e.name);
    });
    expect(during).toEqual([]);
    expect(layer.observeState({ type: 'pushPull', join: true, states: [], userState: stateWith('past', 4n) })).toEqual([]);
    expect(layer.observeState({ type: 'pushPull', join: true, states: [], userState: stateWith('later', 5n) }).map((e) => e.name)).toEqual(['later']);
  });

  it('a peer’s push/pull state at 2^64 − 1 is witnessed (one less, as Serf) and its events taken once', () => {
    const { host, layer } = setup();
    const events = [{ ltime: TOP, events: [{ name: 'forged', payload: Uint8Array.of(9) }] }];
    const state = encodeSerfUserState({ ltime: TOP, eventLTime: TOP, queryLTime: TOP, events });
    const pushPull = { type: 'pushPull', join: false, states: [], userState: state } as const;
    expect(layer.observeState(pushPull).map((e) => e.name)).toEqual(['forged']);
    expect(layer.observeState(pushPull)).toEqual([]);
    // Witnessing 2^64 − 2 sets the clocks to 2^64 − 1: the next stamps are the top, then 0.
    expect(decodeSerfMessage(layer.leaveIntent())).toMatchObject({ ltime: TOP });
    expect(decodeSerfMessage(layer.userEvent('a', new Uint8Array(0)).bytes)).toMatchObject({ ltime: 0n });
    expect(lastState(host)).toMatchObject({ ltime: 0n, eventLTime: 1n, queryLTime: TOP });
  });

  it('the “too old” window works at 2^64 − 1 and across the wrap', () => {
    const { layer } = setup();
    expect(isFresh(layer.observe(event(TOP - 600n, 'a')))).toBe(true);
    // More than 512 behind the clock (2^64 − 599): refused, counted.
    expect(isFresh(layer.observe(event(TOP - 1200n, 'old')))).toBe(false);
    expect(layer.stats.dropped).toEqual({ 'event-too-old': 1 });
    expect(isFresh(layer.observe(event(TOP - 100n, 'b')))).toBe(true);
    expect(isFresh(layer.observe(event(TOP, 'c')))).toBe(true);
    // The clock wrapped to 0: low times are new, the high ones already seen are still repeats.
    expect(isFresh(layer.observe(event(5n, 'd')))).toBe(true);
    expect(isFresh(layer.observe(event(TOP - 100n, 'b')))).toBe(false);
    expect(isFresh(layer.observe(event(TOP, 'c')))).toBe(false);
    expect(isFresh(layer.observe(event(5n, 'd')))).toBe(false);
    // Queries likewise.
    layer.observe(encodeSerfQuery(makeQuery({ ltime: TOP - 600n, id: 1 })));
    expect(layer.observe(encodeSerfQuery(makeQuery({ ltime: TOP - 1200n, id: 2 })))).toEqual({ kind: 'handled' });
    expect(layer.stats.dropped['query-too-old']).toBe(1);
    expect(layer.observe(encodeSerfQuery(makeQuery({ ltime: TOP, id: 3 }))).kind).toBe('query');
    expect(layer.observe(encodeSerfQuery(makeQuery({ ltime: 2n, id: 4 }))).kind).toBe('query');
    expect(layer.observe(encodeSerfQuery(makeQuery({ ltime: TOP, id: 3 })))).toEqual({ kind: 'handled' });
  });
});

describe('SerfLayer: bounds on what a peer can fill', () => {
  const event = (ltime: bigint, name: string, payload: Uint8Array = Uint8Array.of(1)) => encodeSerfUserEvent({ ltime, name, payload, coalesce: false });
  const fresh = (layer: SerfLayer, bytes: Uint8Array) => {
    const arrival = layer.observe(bytes);
    return arrival.kind === 'event' && arrival.fresh;
  };

  it('a message larger than any UDP datagram is refused unread', () => {
    const { host, layer } = setup();
    expect(layer.observe(event(1n, 'e', new Uint8Array(65_508)))).toEqual({ kind: 'other' });
    expect(layer.stats.dropped).toEqual({ 'serf-message-oversized': 1 });
    expect(host.broadcasts).toHaveLength(0);
  });

  it('user events: name + payload at most 9 KiB (Serf’s ceiling), both ways', () => {
    const { layer } = setup();
    expect(fresh(layer, event(1n, 'e', new Uint8Array(MAX_USER_EVENT_BYTES - 1)))).toBe(true);
    expect(fresh(layer, event(2n, 'e', new Uint8Array(MAX_USER_EVENT_BYTES)))).toBe(false);
    expect(layer.stats.dropped).toEqual({ 'event-oversized': 1 });
    expect(() => layer.userEvent('e', new Uint8Array(MAX_USER_EVENT_BYTES))).toThrow(OptionError);
  });

  it('at most 64 distinct events at one LTime', () => {
    const { layer } = setup();
    const results = Array.from({ length: 100 }, (_, i) => fresh(layer, event(7n, `e${i}`)));
    expect(results.filter(Boolean)).toHaveLength(64);
    expect(layer.stats.dropped).toEqual({ 'event-ltime-full': 36 });
    // Repeats of those kept are repeats, not drops.
    expect(fresh(layer, event(7n, 'e0'))).toBe(false);
    expect(layer.stats.dropped).toEqual({ 'event-ltime-full': 36 });
  });

  it('the replay in push/pulls holds at most 256 KiB of events; the rest are delivered and recognised, not replayed', () => {
    const { host, layer } = setup();
    const payload = new Uint8Array(8 * 1024);
    for (let i = 0; i < 40; i++) expect(fresh(layer, event(BigInt(i + 1), 'big', payload))).toBe(true);
    expect(layer.stats.dropped['event-replay-full']).toBe(40 - Math.floor((256 * 1024) / (8 * 1024 + 3)));
    host.clock += 1000; // past the publishing budget (see below)
    expect(fresh(layer, event(40n, 'big', payload))).toBe(false);
    const state = parseSerfUserState(host.userStates.at(-1)!)!;
    expect(host.userStates.at(-1)!.length).toBeLessThan(256 * 1024 + 4096);
    expect(state.events.length).toBe(31);
  });

  it('the push/pull state is re-encoded within a byte budget per second, and catches up once time passes', () => {
    const { host, layer } = setup();
    const payload = new Uint8Array(8 * 1024);
    for (let i = 0; i < 200; i++) fresh(layer, event(BigInt(i + 1), `e${i % 7}`, payload));
    // 200 fresh events, each would re-encode up to 256 KiB: 2 MiB per second allows only a few.
    const published = host.userStates.reduce((sum, state) => sum + state.length, 0);
    expect(published).toBeLessThan(2 * 1024 * 1024 + 300 * 1024);
    expect(host.userStates.length).toBeLessThan(40);
    host.clock += 1000;
    fresh(layer, event(500n, 'late'));
    expect(parseSerfUserState(host.userStates.at(-1)!)!.eventLTime).toBe(501n);
  });

  it('a peer’s push/pull state: over 2 MiB is not read; past 512 event slots, or 64 events in one, the rest are skipped', () => {
    const { layer } = setup();
    const events = [{ ltime: 1, events: [{ name: 'x', payload: new Uint8Array(2 * 1024 * 1024) }] }];
    const huge = encodeSerfUserState({ ltime: 900, eventLTime: 900, queryLTime: 900, events });
    expect(layer.observeState({ type: 'pushPull', join: false, states: [], userState: huge })).toEqual([]);
    expect(layer.stats.dropped).toEqual({ 'state-oversized': 1 });
    expect(layer.ltime).toBe(1n);
    const slots = Array.from({ length: 600 }, (_, i) => ({ ltime: i + 1, events: [{ name: `s${i}`, payload: new Uint8Array(0) }] }));
    const many = encodeSerfUserState({ ltime: 1, eventLTime: 1, queryLTime: 1, events: slots });
    expect(layer.observeState({ type: 'pushPull', join: false, states: [], userState: many })).toHaveLength(512);
    expect(layer.stats.dropped['state-events-skipped']).toBe(1);
    // More events at one LTime than a slot here keeps: the rest are skipped unread.
    const crowded = Array.from({ length: 100 }, (_, i) => ({ name: `c${i}`, payload: new Uint8Array(0) }));
    const full = encodeSerfUserState({ ltime: 1, eventLTime: 1, queryLTime: 1, events: [{ ltime: 900, events: crowded }] });
    expect(layer.observeState({ type: 'pushPull', join: false, states: [], userState: full })).toHaveLength(64);
    expect(layer.stats.dropped['state-events-skipped']).toBe(2);
    expect(layer.stats.dropped['event-ltime-full']).toBeUndefined();
  });

  it('at most 256 distinct queries at one LTime', () => {
    const { host, layer } = setup();
    const kinds = Array.from({ length: 300 }, (_, id) => layer.observe(encodeSerfQuery(makeQuery({ id, flags: QueryFlag.noBroadcast }))));
    expect(kinds.filter((arrival) => arrival.kind === 'query')).toHaveLength(256);
    expect(layer.stats.dropped).toEqual({ 'query-ltime-full': 44 });
    expect(host.broadcasts).toHaveLength(0);
  });

  it('a query with more than 16 filters is refused whole', () => {
    const { host, layer } = setup();
    const filters: QueryFilter[] = Array.from({ length: 17 }, () => ({ kind: 'nodes', names: ['me'] }));
    expect(layer.observe(encodeSerfQuery(makeQuery({ filters, flags: QueryFlag.ack })))).toEqual({ kind: 'handled' });
    expect(layer.stats.dropped).toEqual({ 'query-filters': 1 });
    expect(host.broadcasts).toHaveLength(0);
    expect(host.sent).toHaveLength(0);
    expect(layer.observe(encodeSerfQuery(makeQuery({ filters: filters.slice(1), flags: QueryFlag.ack }))).kind).toBe('query');
  });

  it('tag filters: longer than 256 characters fail; compiling is budgeted per second and cached', () => {
    const { host, layer } = setup();
    host.tagValues = { role: 'web' };
    const ask = (id: number, expr: string) =>
      layer.observe(encodeSerfQuery(makeQuery({ id, filters: [{ kind: 'tag', tag: 'role', expr }], flags: QueryFlag.noBroadcast }))).kind;
    expect(ask(1, `web|${'x'.repeat(253)}`)).toBe('handled');
    expect(layer.stats.dropped).toEqual({ 'filter-too-long': 1 });
    expect(ask(2, `web|${'x'.repeat(252)}`)).toBe('query');
    expect(ask(3, '^web$')).toBe('query');
    // Costly patterns (about 1,000 RE2 instructions each), all different: the budget runs out.
    const costly = (i: number) => `web|(a{64}){15}${i}`;
    const kinds = Array.from({ length: 60 }, (_, i) => ask(100 + i, costly(i)));
    expect(kinds.filter((kind) => kind === 'query').length).toBeLessThanOrEqual(25);
    expect(layer.stats.dropped['filter-compile-budget']).toBeGreaterThanOrEqual(35);
    // A pattern compiled before is cached: it still works while the budget is spent.
    expect(ask(300, '^web$')).toBe('query');
    expect(ask(301, costly(0))).toBe('query');
    host.clock += 1000;
    expect(ask(302, costly(59))).toBe('query');
  });

  it('a relay factor over 5 relays through 5; a timeout over an hour keeps the answer wanted for an hour', () => {
    const { host, layer } = setup();
    host.peerList = [ASKER, ...Array.from({ length: 10 }, (_, i) => ({ name: `r${i}`, address: { host: `10.0.3.${i}`, port: 7946 } }))];
    const query = incoming(layer.observe(encodeSerfQuery(makeQuery({ flags: QueryFlag.ack, relayFactor: 255, timeoutMs: 2 ** 40 }))));
    expect(host.relays()).toHaveLength(5);
    expect(query.deadline).toBe(host.clock + 3_600_000);
    expect(layer.stats.dropped).toEqual({ 'query-relay-factor': 1, 'query-timeout': 1 });
  });

  it('acks and answers: only for a query asked here, only from members (one of each per member reaches the node)', () => {
    const { host, layer } = setup();
    host.know('b');
    const collector = recorder();
    layer.ask('q', new Uint8Array(0), { timeoutMs: 1000, requestAck: true }, collector);
    const q = decodeSerfQuery(host.broadcasts[0]!.payload);
    for (let i = 0; i < 100; i++) {
      layer.observe(encodeSerfQueryResponse({ ltime: q.ltime, id: q.id, from: `forged-${i}`, flags: i % 2, payload: utf8('x') }));
      layer.observe(encodeSerfQueryResponse({ ltime: q.ltime + 1n, id: q.id, from: 'b', flags: 0, payload: utf8('x') }));
    }
    layer.observe(encodeSerfQueryResponse({ ltime: q.ltime, id: q.id, from: 'b', flags: 0, payload: utf8('real') }));
    expect(collector.acks).toEqual([]);
    expect(collector.responses).toEqual([{ from: 'b', payload: utf8('real') }]);
    expect(layer.stats.dropped).toEqual({ 'response-from-stranger': 100, 'response-unmatched': 100 });
  });

  it('key answers must list a handful of real keys; unreadable ones pass on for the tally to report', () => {
    const { host, layer } = setup();
    host.know('a', 'b', 'c', 'd', 'e');
    const collector = recorder();
    layer.ask('_serf_list-keys', new Uint8Array(0), { timeoutMs: 1000 }, collector);
    const q = decodeSerfQuery(host.broadcasts[0]!.payload);
    const key = base64(new Uint8Array(16).fill(1));
    const answer = (from: string, payload: Uint8Array) => layer.observe(encodeSerfQueryResponse({ ltime: q.ltime, id: q.id, from, flags: 0, payload }));
    answer('a', encodeSerfKeyResponse({ result: true, message: '', keys: [key], primaryKey: key }));
    answer('b', encodeSerfKeyResponse({ result: true, message: '', keys: Array.from({ length: 65 }, () => key), primaryKey: key }));
    answer('c', encodeSerfKeyResponse({ result: true, message: '', keys: ['\u001b]0;owned\u0007'], primaryKey: key }));
    answer('d', encodeSerfKeyResponse({ result: true, message: '', keys: [key], primaryKey: 'not a key' }));
    answer('e', Uint8Array.of(8, 0xc1));
    expect(collector.responses.map((r) => r.from)).toEqual(['a', 'e']);
    expect(layer.stats.dropped).toEqual({ 'key-answer-invalid': 3 });
  });

  it('relays: only query answers, only to members', () => {
    const { host, layer } = setup();
    host.strangers.add('192.0.2.9:53');
    const answer = encodeSerfQueryResponse({ ltime: 3, id: 4, from: 'x', flags: 0, payload: Uint8Array.of(1) });
    layer.observe(encodeSerfRelay({ host: '10.0.0.7', port: 7946 }, 'm', encodeSerfQuery(makeQuery())));
    layer.observe(encodeSerfRelay({ host: '10.0.0.7', port: 7946 }, 'm', encodeSerfKeyRequest(new Uint8Array(16))));
    layer.observe(encodeSerfRelay({ host: '192.0.2.9', port: 53 }, 'victim', answer));
    expect(host.sent).toEqual([]);
    layer.observe(encodeSerfRelay({ host: '10.0.0.7', port: 7946 }, 'm', answer));
    expect(host.sent).toEqual([{ to: { host: '10.0.0.7', port: 7946 }, payload: answer }]);
    expect(layer.stats.dropped).toEqual({ 'relay-not-response': 2, 'relay-to-stranger': 1 });
  });

  it('intents leave no state behind but the clock: a flood of them sends, gossips and publishes nothing', () => {
    const { host, layer } = setup();
    for (let i = 0; i < 2000; i++) {
      const node = `ghost-${i}`;
      const intent = i % 2 ? encodeSerfJoin({ ltime: i, node }) : encodeSerfLeave({ ltime: i, node, prune: true });
      // A leave intent about another member is the member's to weigh (it takes those about members it lists).
      expect(layer.observe(intent)).toEqual(i % 2 ? { kind: 'intent' } : { kind: 'leave', ltime: BigInt(i), node, prune: true });
    }
    expect(layer.ltime).toBe(2000n);
    expect([host.sent, host.broadcasts, host.userStates]).toEqual([[], [], []]);
    expect(layer.stats.dropped).toEqual({});
  });
});
