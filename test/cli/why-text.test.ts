/**
 * The words of `hearsay why` (cli/verdict-text.ts, the phrases `hearsay sim --trace` uses too) and
 * the views footer of `hearsay cluster members`, from fixed records: every kind of episode, exactly.
 */
import { describe, expect, it } from 'vitest';
import type { VerdictRecord } from '../../packages/hearsay/src/index.js';
import { viewsFooter } from '../../packages/agent/src/cli/cluster/render.js';
import { episodeParts, explainVerdict, isoTime, type MemberHistory, verdictSummary, whyText } from '../../packages/agent/src/cli/verdict-text.js';

const T0 = Date.parse('2026-12-06T06:30:01.120Z');
const base: VerdictRecord = {
  member: 'web-3',
  incarnation: 4,
  suspectedAt: T0,
  accuser: 'web-1',
  own: true,
  healthScore: 0,
  timeout: { minMs: 4000, maxMs: 24000, confirmationsExpected: 2 },
  probe: {
    sentAt: T0 - 1000,
    directTimeoutMs: 500,
    waitedMs: 1000,
    helpers: [
      { name: 'h1', answer: 'nack' },
      { name: 'h2', answer: 'nack' },
      { name: 'h3', answer: 'none' },
    ],
    tcp: 'no answer',
  },
  heartbeat: null,
  confirmations: [{ from: 'h2', at: T0 + 1200, deadline: T0 + 9800 }],
  outcome: { kind: 'failed', at: T0 + 9800, by: 'web-1', incarnation: 4 },
  returnedAt: null,
};
/** How the agent web-1 tells its records. */
const view = { observer: 'web-1', observerName: 'this node', time: isoTime };
const answer = (history: VerdictRecord[], status: string | null = 'failed', degradedSince: string | null = null): MemberHistory => ({
  member: 'web-3',
  node: 'web-1',
  status,
  degradedSince,
  history,
});

describe('hearsay why’s words', () => {
  it('explains the node’s own failed probe, its confirmations and its verdict', () => {
    expect(whyText(answer([base]), T0 + 20_000)).toBe(
      [
        'web-3 is failed: declared failed by this node at 2026-12-06T06:30:10.920Z, after its own probes failed',
        '',
        '1. suspected at 2026-12-06T06:30:01.120Z, incarnation 4, by this node (health 0): direct ping got no ack in 500 ms; indirect pings via h1 (nack), h2 (nack), h3 (no answer); TCP ping: no answer; waited 1.0 s',
        '   suspicion timeout 4.0 s–24.0 s, 2 confirmations expected; confirmed by h2 at +1.2 s (deadline now +9.8 s)',
        '   declared failed after 9.8 s by this node',
        '',
      ].join('\n'),
    );
    // `sim --trace` tells the same record in the same words, on one line.
    expect(explainVerdict(base, view)).toBe(
      [
        'suspected at 2026-12-06T06:30:01.120Z, incarnation 4, by this node (health 0): direct ping got no ack in 500 ms; indirect pings via h1 (nack), h2 (nack), h3 (no answer); TCP ping: no answer; waited 1.0 s',
        'suspicion timeout 4.0 s–24.0 s, 2 confirmations expected; confirmed by h2 at +1.2 s (deadline now +9.8 s)',
        'declared failed after 9.8 s by this node',
      ].join(' — '),
    );
  });

  it('gives the evidence of the node’s own probe that confirmed a rumour, and tells a heartbeat’s silence', () => {
    const confirmedByOwnProbe: VerdictRecord = {
      ...base,
      own: false,
      accuser: 'h3',
      probe: null,
      healthScore: 1,
      confirmations: [
        { from: 'h2', at: T0 + 1200, deadline: T0 + 9800 },
        {
          from: 'web-1',
          at: T0 + 2500,
          deadline: T0 + 6000,
          probe: { sentAt: T0 + 1500, directTimeoutMs: 500, waitedMs: 1000, helpers: [{ name: 'h1', answer: 'ack' }], tcp: 'failed: ECONNREFUSED' },
        },
      ],
      outcome: { kind: 'failed', at: T0 + 6000, by: 'web-1', incarnation: 4 },
    };
    expect(episodeParts(confirmedByOwnProbe, view)).toEqual([
      'suspected at 2026-12-06T06:30:01.120Z, incarnation 4, on a rumour from h3 (health 1)',
      'suspicion timeout 4.0 s–24.0 s, 2 confirmations expected; confirmed by h2 at +1.2 s (deadline now +9.8 s), this node’s own probe at +2.5 s (deadline now +6.0 s): direct ping got no ack in 500 ms; indirect pings via h1 (ack); TCP ping: failed: ECONNREFUSED; waited 1.0 s',
      'declared failed after 6.0 s by this node',
    ]);
    expect(verdictSummary(answer([confirmedByOwnProbe]))).toBe(
      'web-3 is failed: declared failed by this node at 2026-12-06T06:30:07.120Z, after a rumour from h3 raised the suspicion',
    );
    const silent: VerdictRecord = {
      ...base,
      probe: null,
      heartbeat: { silentForMs: 5000 },
      timeout: null,
      confirmations: [],
      outcome: { kind: 'dropped', at: T0 + 300, reason: 'the detector changed' },
    };
    expect(episodeParts(silent, view)).toEqual([
      'suspected at 2026-12-06T06:30:01.120Z, incarnation 4, by this node (health 0): its heartbeat had not risen for 5.0 s',
      'suspicion dropped after 300 ms: the detector changed',
    ]);
    expect(episodeParts({ ...silent, heartbeat: null, outcome: null }, { ...view, now: T0 + 1500 })).toEqual([
      'suspected at 2026-12-06T06:30:01.120Z, incarnation 4, by this node (health 0): no probe evidence on record (taken from a peer’s state in a push/pull exchange)',
      'still suspected (1.5 s so far)',
    ]);
  });

  it('explains a refuted rumour, a failure heard without suspicion, a graceful leave, a return and a degraded pair', () => {
    const refuted: VerdictRecord = {
      ...base,
      own: false,
      accuser: 'h3',
      probe: null,
      confirmations: [],
      outcome: { kind: 'refuted', at: T0 + 600, incarnation: 5 },
    };
    expect(episodeParts(refuted, view)).toEqual([
      'suspected at 2026-12-06T06:30:01.120Z, incarnation 4, on a rumour from h3 (health 0)',
      'suspicion timeout 4.0 s–24.0 s, 2 confirmations expected; no confirmation',
      'refuted after 600 ms: the member answered with incarnation 5',
    ]);
    const heard: VerdictRecord = {
      ...base,
      suspectedAt: null,
      own: false,
      accuser: 'h3',
      timeout: null,
      probe: null,
      confirmations: [],
      outcome: { kind: 'failed', at: T0, by: 'h3', incarnation: 4 },
      returnedAt: T0 + 60_000,
    };
    expect(episodeParts(heard, view)).toEqual([
      'declared failed at 2026-12-06T06:30:01.120Z, incarnation 4, by a rumour from h3 (no suspicion here)',
      'came back alive at 2026-12-06T06:31:01.120Z',
    ]);
    const left: VerdictRecord = { ...heard, accuser: 'web-3', outcome: { kind: 'left', at: T0 }, returnedAt: null };
    expect(episodeParts(left, view)).toEqual(['left gracefully at 2026-12-06T06:30:01.120Z']);
    expect(episodeParts({ ...left, accuser: 'h3' }, view)).toEqual([
      'left at 2026-12-06T06:30:01.120Z, heard from h3 (a forced leave, or its own leave relayed)',
    ]);
    const declared: VerdictRecord = { ...heard, accuser: 'web-1', outcome: { kind: 'failed', at: T0, by: 'web-1', incarnation: 4 }, returnedAt: null };
    expect(episodeParts(declared, view)).toEqual(['declared failed at 2026-12-06T06:30:01.120Z, incarnation 4, by this node (no suspicion on record here)']);
    expect(verdictSummary(answer([heard], 'alive'))).toBe(
      'web-3 is alive: declared failed by h3 (its rumour reached this node) at 2026-12-06T06:30:01.120Z, no suspicion here; it came back alive at 2026-12-06T06:31:01.120Z',
    );
    expect(verdictSummary(answer([left], 'left'))).toBe('web-3 is left: it left at 2026-12-06T06:30:01.120Z (gracefully)');
    expect(verdictSummary(answer([refuted], 'alive'))).toBe(
      'web-3 is alive: last suspected 2026-12-06T06:30:01.120Z by a rumour from h3, refuted after 600 ms (incarnation 5)',
    );
    const open: VerdictRecord = { ...refuted, outcome: null };
    expect(verdictSummary(answer([open], 'suspect'), T0 + 3000)).toBe(
      'web-3 is suspect: suspected since 2026-12-06T06:30:01.120Z (3.0 s) by a rumour from h3, 0 confirmations so far',
    );
    expect(episodeParts(open, { ...view, now: T0 + 3000 }).at(-1)).toBe('still suspected (3.0 s so far)');
    expect(verdictSummary(answer([], 'alive'))).toBe('web-3 is alive: web-1 has no suspicion or verdict about it on record');
    expect(whyText(answer([], 'alive', '2026-12-06T06:29:00.000Z')).split('\n')[1]).toBe(
      'degraded: web-1 reaches web-3 only through helpers or TCP since 2026-12-06T06:29:00.000Z (its direct pings fail)',
    );
  });
});

describe('cluster members’ views footer', () => {
  it('says whether the agents’ view digests agree, and names those that differ', () => {
    expect(viewsFooter([])).toBe('');
    expect(
      viewsFooter([
        { node: 'a', digest: 0x1a2b },
        { node: 'b', digest: 0x1a2b },
      ]),
    ).toBe('views: all 2 agents agree (digest 0x00001a2b)\n');
    expect(
      viewsFooter([
        { node: 'a', digest: 1 },
        { node: 'b', digest: 2 },
        { node: 'c', digest: 1 },
        { node: 'd', digest: 3 },
      ]),
    ).toBe('views: 3 distinct digests across 4 agents (b, d differ)\n');
    expect(
      viewsFooter([
        { node: 'a', digest: 1 },
        { node: 'b', digest: 2 },
        { node: 'c', digest: 2 },
      ]),
    ).toBe('views: 2 distinct digests across 3 agents (a differs)\n');
  });
});
