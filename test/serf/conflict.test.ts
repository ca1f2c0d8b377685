/**
 * Serf's name conflict resolution, the pure part (issue 14): when another node claims this
 * node's name, Serf asks `_serf_conflict` with the name; each member answers with the member it
 * holds under it; the asker keeps running only if a majority of the answers name its own
 * address (Serf 0.9.4's resolveNodeConflict: matching ≥ ⌊answers / 2⌋ + 1).
 */
import { describe, expect, it } from 'vitest';
import type { Input } from '../../packages/hearsay/src/core/index.js';
import { ConflictAnswers, tallyConflictAnswers, type ConflictAnswer } from '../../packages/hearsay/src/serf/index.js';
import {
  decodeSerfConflictResponse,
  decodeSerfQuery,
  encodeSerfConflictResponse,
  encodeSerfQueryResponse,
  QueryFlag,
  type SerfConflictMember,
} from '../../packages/hearsay/src/wire/index.js';
import { serfMemberOn } from './member-on.js';
import { Harness, PORT, profileOf } from '../core/harness.js';

const SELF = { host: '10.0.0.1', port: PORT };
const VSN = Uint8Array.of(1, 5, 2, 2, 5, 4);

function holder(host: string, port = PORT): SerfConflictMember {
  return { name: 'me', host, port, tags: {}, status: 'alive', vsn: VSN };
}
function answer(from: string, member: SerfConflictMember | undefined): ConflictAnswer {
  return { from, payload: encodeSerfConflictResponse(member) };
}
const mine = (from: string) => answer(from, holder(SELF.host));
const theirs = (from: string) => answer(from, holder('10.0.0.77'));

describe('tallyConflictAnswers (Serf’s count)', () => {
  it('keeps the name with a majority of answers naming this node’s address', () => {
    expect(tallyConflictAnswers(SELF, [mine('b'), mine('c'), theirs('d')])).toEqual({ matching: 2, total: 3, keep: true });
  });

  it('shuts down without one: a minority, a tie, or no answer at all', () => {
    expect(tallyConflictAnswers(SELF, [mine('b'), theirs('c'), theirs('d')])).toEqual({ matching: 1, total: 3, keep: false });
    expect(tallyConflictAnswers(SELF, [mine('b'), theirs('c')])).toEqual({ matching: 1, total: 2, keep: false });
    expect(tallyConflictAnswers(SELF, [])).toEqual({ matching: 0, total: 0, keep: false });
  });

  it('counts a nil answer (the name unknown there) as an answer that does not match', () => {
    expect(tallyConflictAnswers(SELF, [mine('b'), answer('c', undefined)])).toEqual({ matching: 1, total: 2, keep: false });
    expect(tallyConflictAnswers(SELF, [mine('b'), mine('c'), answer('d', undefined)])).toMatchObject({ total: 3, keep: true });
  });

  it('counts one answer per responder, its first, and skips malformed ones', () => {
    expect(tallyConflictAnswers(SELF, [theirs('b'), mine('b'), mine('b'), mine('c')])).toEqual({ matching: 1, total: 2, keep: false });
    const malformed = [
      { from: 'x', payload: Uint8Array.of(5, 0xc0) },
      { from: 'y', payload: Uint8Array.of(6, 0xc1) },
      { from: 'z', payload: new Uint8Array(0) },
    ];
    expect(tallyConflictAnswers(SELF, [mine('b'), ...malformed])).toEqual({ matching: 1, total: 1, keep: true });
  });

  it('compares addresses as Go’s net.IP.Equal: the port must match, a v4-mapped IPv6 equals its IPv4', () => {
    expect(tallyConflictAnswers(SELF, [answer('b', holder(SELF.host, PORT + 1))]).matching).toBe(0);
    expect(tallyConflictAnswers(SELF, [answer('b', holder(`::ffff:${SELF.host}`))]).matching).toBe(1);
    expect(tallyConflictAnswers({ host: '::ffff:10.0.0.1', port: PORT }, [mine('b')]).matching).toBe(1);
  });

  it('reads what it needs of an answer: name and address', () => {
    expect(decodeSerfConflictResponse(encodeSerfConflictResponse(holder('10.0.0.77')))).toEqual({ name: 'me', host: '10.0.0.77', port: PORT });
    expect(decodeSerfConflictResponse(Uint8Array.of(6, 0xc0))).toBeUndefined();
  });
});

describe('SerfMember.askConflict', () => {
  function asker() {
    const h = new Harness({ name: 'me', host: SELF.host, seed: 3 });
    h.node.preload(['b', 'c', 'd', 'e'].map((name, i) => ({ profile: profileOf(name, `10.0.0.${i + 2}`), incarnation: 1 })));
    const { member, stepped } = serfMemberOn(h);
    return { h, member, stepped };
  }

  it('gossips `_serf_conflict` with this node’s name, as Serf does: no acks asked, the default timeout', () => {
    const { member, stepped } = asker();
    const started = member.askConflict(new ConflictAnswers());
    const broadcast = stepped.find((input): input is Extract<Input, { kind: 'broadcast' }> => input.kind === 'broadcast');
    const query = decodeSerfQuery(broadcast!.payload);
    expect(query).toMatchObject({ name: '_serf_conflict', sourceNode: 'me', host: SELF.host, port: PORT, filters: [] });
    expect(new TextDecoder().decode(query.payload)).toBe('me');
    expect(query.flags & QueryFlag.ack).toBe(0);
    // Serf's default timeout: gossip interval × 16 × ceil(log10(n + 1)), 5 live members.
    expect(started.timeoutMs).toBe(200 * 16 * 1);
    expect(started.local).toBeUndefined();
  });

  it('collects the members’ answers for the tally; the driver shuts down unless it keeps the name', () => {
    const { member, stepped } = asker();
    const answers = new ConflictAnswers();
    const started = member.askConflict(answers);
    const broadcast = stepped.find((input): input is Extract<Input, { kind: 'broadcast' }> => input.kind === 'broadcast');
    const { ltime, id } = decodeSerfQuery(broadcast!.payload);
    const respond = (from: string, holderHost: string) =>
      member.receiveUser(encodeSerfQueryResponse({ ltime, id, from, flags: 0, payload: encodeSerfConflictResponse(holder(holderHost)) }));
    respond('b', '10.0.0.77');
    respond('c', '10.0.0.77');
    respond('d', SELF.host);
    respond('stranger', SELF.host); // not a member: not taken
    expect(answers.tally(SELF)).toEqual({ matching: 1, total: 3, keep: false });
    started.finish();
    respond('e', SELF.host);
    expect(answers.tally(SELF).total).toBe(3);
  });
});
