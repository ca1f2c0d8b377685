/**
 * `hearsay sim --trace` (issue 18): a simulated false positive explained as `hearsay why` explains
 * a real one, from the verdict records (core/verdicts.ts) in words (cli/verdict-text.ts).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { VerdictRecord } from '../../packages/hearsay/src/core/index.js';
import { traceLines } from '../../packages/agent/src/cli/sim-command.js';
import { duration, explainVerdict, groupLine, groupVerdicts, secondsSince } from '../../packages/agent/src/cli/verdict-text.js';

const cli = fileURLToPath(new URL('../../packages/agent/dist/cli/main.js', import.meta.url));

function hearsay(...args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const time = secondsSince(0);

function record(overrides: Partial<VerdictRecord>): VerdictRecord {
  return {
    member: 'n7',
    incarnation: 1,
    suspectedAt: 12_300,
    accuser: 'n4',
    own: false,
    healthScore: 0,
    timeout: null,
    probe: null,
    heartbeat: null,
    confirmations: [],
    outcome: null,
    returnedAt: null,
    ...overrides,
  };
}

const OWN = record({
  own: true,
  accuser: 'n4',
  probe: {
    sentAt: 11_300,
    directTimeoutMs: 500,
    waitedMs: 1000,
    helpers: [
      { name: 'n2', answer: 'nack' },
      { name: 'n9', answer: 'nack' },
      { name: 'n11', answer: 'none' },
    ],
    tcp: 'failed: connection refused',
  },
  timeout: { minMs: 4000, maxMs: 24_000, confirmationsExpected: 2 },
  confirmations: [{ from: 'n3', at: 13_100, deadline: 30_000 }],
  outcome: { kind: 'failed', at: 21_100, by: 'n4', incarnation: 1 },
});

describe('verdict records in words', () => {
  it('names the accuser, its own probe’s evidence, the confirmations and the verdict, as hearsay why does', () => {
    expect(groupLine({ text: explainVerdict(OWN, { observer: 'n4', time }), observers: ['n4'] })).toBe(
      'n4: suspected at 12.3 s, incarnation 1, by n4 (health 0): direct ping got no ack in 500 ms; indirect pings via n2 (nack), n9 (nack), n11 (no answer); TCP ping: failed: connection refused; waited 1.0 s — suspicion timeout 4.0 s–24.0 s, 2 confirmations expected; confirmed by n3 at +800 ms (deadline now +17.7 s) — declared failed after 8.8 s by n4',
    );
  });

  it('tells a rumour, a refutation, a failure heard of, a leave, a heartbeat silence, an own probe’s confirmation and a suspicion still running', () => {
    const opts = { observer: 'n5', time };
    expect(explainVerdict(record({ outcome: { kind: 'refuted', at: 12_700, incarnation: 2 } }), opts)).toBe(
      'suspected at 12.3 s, incarnation 1, on a rumour from n4 (health 0) — refuted after 400 ms: the member answered with incarnation 2',
    );
    expect(explainVerdict(record({ outcome: { kind: 'failed', at: 21_200, by: 'n4', incarnation: 1 } }), opts)).toBe(
      'suspected at 12.3 s, incarnation 1, on a rumour from n4 (health 0) — declared failed after 8.9 s by a rumour from n4',
    );
    expect(explainVerdict(record({ suspectedAt: null, outcome: { kind: 'failed', at: 21_200, by: 'n4', incarnation: 1 }, returnedAt: 40_000 }), opts)).toBe(
      'declared failed at 21.2 s, incarnation 1, by a rumour from n4 (no suspicion here) — came back alive at 40.0 s',
    );
    expect(explainVerdict(record({ suspectedAt: null, accuser: 'n7', outcome: { kind: 'left', at: 30_000 } }), opts)).toBe('left gracefully at 30.0 s');
    expect(explainVerdict(record({ own: true, accuser: 'n5', heartbeat: { silentForMs: 5000 }, healthScore: 2 }), { ...opts, now: 15_300 })).toBe(
      'suspected at 12.3 s, incarnation 1, by n5 (health 2): its heartbeat had not risen for 5.0 s — still suspected (3.0 s so far)',
    );
    const probe = { sentAt: 12_300, directTimeoutMs: 500, waitedMs: 1000, helpers: [], tcp: 'not tried' };
    expect(
      explainVerdict(
        record({ confirmations: [{ from: 'n5', at: 13_300, deadline: 20_000, probe }], outcome: { kind: 'dropped', at: 14_000, reason: 'forgotten' } }),
        opts,
      ),
    ).toBe(
      'suspected at 12.3 s, incarnation 1, on a rumour from n4 (health 0) — confirmed by n5’s own probe at +1.0 s (deadline now +7.7 s): direct ping got no ack in 500 ms; no helper to ask for indirect pings; TCP ping: not tried; waited 1.0 s — suspicion dropped after 1.7 s: forgotten',
    );
    expect(duration(1234)).toBe('1.2 s');
  });

  it('groups what many observers heard from the same accuser, and keeps each own verdict whole', () => {
    const heard = (observer: string, at: number, health = 0) => ({
      observer,
      record: record({
        suspectedAt: at,
        healthScore: health,
        confirmations: [{ from: observer === 'n3' ? 'n3' : 'n8', at: at + 500, deadline: at + 8000 }],
        outcome: { kind: 'failed', at: at + 8000, by: 'n4', incarnation: 1 },
      }),
    });
    const declared = { observer: 'n6', record: record({ outcome: { kind: 'failed', at: 20_300, by: 'n6', incarnation: 1 } }) };
    const groups = groupVerdicts([{ observer: 'n4', record: OWN }, heard('n2', 12_400), heard('n3', 12_600, 3), declared, heard('n5', 12_500)], time);
    expect(groups.map((group) => groupLine(group))).toEqual([
      `n4: ${explainVerdict(OWN, { observer: 'n4', time })}`,
      'n2, n3 and n5: suspected at 12.4 s–12.6 s, incarnation 1, on a rumour from n4 (health 0–3) — confirmed by n8, n3’s own probe — declared failed after 8.0 s by a rumour from n4',
      'n6: suspected at 12.3 s, incarnation 1, on a rumour from n4 (health 0) — declared failed after 8.0 s by n6',
    ]);
    expect(groupLine({ text: 'x', observers: ['a', 'b', 'c'] }, 2)).toBe('a, b and 1 more: x');
  });

  it('caps what --trace prints per member and counts the rest', () => {
    const episodes = Array.from({ length: 30 }, (_, i) => ({
      observer: `n${i + 10}`,
      record: record({ accuser: `n${i + 10}`, own: true, suspectedAt: 1000 * i, outcome: { kind: 'refuted', at: 1000 * i + 100, incarnation: i + 2 } }),
    }));
    const lines = traceLines([{ member: 'n7', episodes, degraded: [{ observer: 'n3', since: 5000 }] }], 20);
    expect(lines[0]).toBe('Verdicts about n7: 30 episodes at 30 nodes (times since the start of the run)');
    expect(lines).toHaveLength(1 + 20 + 1 + 1);
    expect(lines[21]).toBe('  … and 10 more episodes in 10 more groups (--json lists them all)');
    expect(lines[22]).toBe('  n3 reaches n7 only through helpers or TCP (a degraded pair) since 5.0 s');
    expect(traceLines([{ member: 'n1', episodes: [], degraded: [] }])).toEqual(['Verdicts about n1: none (no live node suspected it or heard it failed)']);
  });
});

describe('hearsay sim --trace', () => {
  // 30% loss without TCP pings: seed 8 makes one false failure in 30 s of 12 nodes.
  const scenario = ['sim', '--nodes', '12', '--seed', '8', '--duration', '30s', '--loss', '0.3', '--disable-tcp-pings'];

  it('explains a simulated false positive: who accused the member, on what evidence, and who declared it failed', () => {
    const everyone = Array.from({ length: 12 }, (_, i) => `n${i}`).join(',');
    const run = hearsay(...scenario, '--trace', everyone, '--json');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.false_positives).toBeGreaterThan(0);
    expect(result.traces.map((t: { member: string }) => t.member)).toEqual(everyone.split(','));
    // Nothing crashed: every failure verdict on record is a false one.
    type Episode = VerdictRecord & { observer: string };
    const traces = result.traces as { member: string; episodes: Episode[] }[];
    // The verdicts the observers reached themselves (the others took their word).
    const falseVerdicts = traces.flatMap((t) =>
      t.episodes.filter((e) => e.outcome?.kind === 'failed' && e.outcome.by === e.observer).map((e) => ({ ...e, member: t.member })),
    );
    expect(falseVerdicts.length).toBeGreaterThan(0);
    const verdict = falseVerdicts[0]!;
    expect(verdict.observer).not.toBe(verdict.member);
    expect(verdict.accuser).toMatch(/^n\d+$/);
    expect(verdict.accuser).not.toBe(verdict.member);
    // The accuser's own probe is on record, with the helpers it asked and no TCP (disabled).
    const episodes = traces.find((t) => t.member === verdict.member)!.episodes;
    const accusation = episodes.find((e) => e.observer === verdict.accuser && e.own && e.suspectedAt !== null && e.suspectedAt <= verdict.suspectedAt!);
    expect(accusation).toBeDefined();
    expect(accusation!.probe!.helpers.length).toBeGreaterThan(0);
    expect(accusation!.probe!.tcp).toBe('not tried');

    // The same story in words, with the accuser and the verdict.
    const text = hearsay(...scenario, '--trace', verdict.member);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines).toContain(
      `Verdicts about ${verdict.member}: ${episodes.length} episodes at ${new Set(episodes.map((e) => e.observer)).size} nodes (times since the start of the run)`,
    );
    // The observer's verdict, a line of its own, in the words of `hearsay why`.
    const explained = lines.find((line) => line.startsWith(`  ${verdict.observer}: `) && line.includes('declared failed'));
    expect(explained).toBeDefined();
    const suspected = `suspected at ${(verdict.suspectedAt! / 1000).toFixed(1)} s, incarnation ${verdict.incarnation}, `;
    expect(explained).toContain(suspected + (verdict.own ? `by ${verdict.observer} (health ` : `on a rumour from ${verdict.accuser} (health `));
    expect(explained).toContain(`declared failed after ${duration(verdict.outcome!.at - verdict.suspectedAt!)} by ${verdict.observer}`);
    expect(
      lines.some(
        (line) =>
          line.startsWith(`  ${verdict.accuser}: suspected at `) &&
          line.includes(`by ${verdict.accuser} (health `) &&
          line.includes('): direct ping got no ack in'),
      ),
    ).toBe(true);
  });

  it('leaves the JSON as it was without --trace, and refuses a name that is not a node of the run', () => {
    const run = hearsay('sim', '--nodes', '5', '--duration', '5s', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).not.toHaveProperty('traces');
    const bad = hearsay('sim', '--nodes', '5', '--duration', '5s', '--trace', 'n5');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('n5');
  });
});
