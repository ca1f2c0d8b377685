/**
 * Failure provenance in words: the verdict records (`VerdictRecord`, `MemberNode.history`) as
 * `hearsay why NODE` tells them on a live agent and `hearsay sim --trace NODE` in a simulated run.
 * One set of phrases for both, so that a simulated false positive reads as a real one; only the
 * clock (the wall clock in UTC, or seconds since the run's start) and the observer's name ("this
 * node" on the agent, the node's name in the simulator) differ. `hearsay why` lays an episode out
 * a line per part; `sim --trace` puts its parts on one line and groups what many observers heard.
 */
import type { Confirmation, ProbeEvidence, VerdictRecord } from 'hearsay/core';

/** Whose records they are, and how their times read. */
export interface VerdictView {
  /** The node whose records they are: a verdict `by` it, or a confirmation `from` it, is its own. */
  readonly observer: string;
  /** How the observer is named in the text: `this node` on the agent; default `observer`. */
  readonly observerName?: string;
  /** How a time of the record (the observer's clock) is printed: `isoTime`, `secondsSince(start)`. */
  readonly time: (at: number) => string;
  /** The observer's time now, for how long a running suspicion has run; omitted: not said. */
  readonly now?: number;
}

/** Times as seconds since `origin`, to a tenth: `12.3 s`. */
export function secondsSince(origin: number): (at: number) => string {
  return (at) => `${((at - origin) / 1000).toFixed(1)} s`;
}

/** Times as ISO 8601 in UTC (epoch milliseconds): `2026-12-06T06:30:01.120Z`. */
export function isoTime(at: number): string {
  return new Date(at).toISOString();
}

/** A stretch of time: `420 ms` below a second, else seconds to a tenth (`1.3 s`). */
export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `7.6 s` or `7.6 s–7.9 s`: the span of some values, each printed by `format`. */
function span(values: readonly number[], format: (value: number) => string): string {
  const first = format(Math.min(...values));
  const last = format(Math.max(...values));
  return first === last ? first : `${first}–${last}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const nameOf = (view: VerdictView) => view.observerName ?? view.observer;
/** `this node` for the observer's own doing, else `a rumour from X`. */
const byWhom = (who: string, view: VerdictView) => (who === view.observer ? nameOf(view) : `a rumour from ${who}`);

const HELPER_ANSWER = { ack: 'ack', nack: 'nack', none: 'no answer' } as const;

/** What a failed probe saw: `direct ping got no ack in 500 ms; indirect pings via h1 (nack), h2 (no answer); TCP ping: no answer; waited 1.0 s`. */
function probeEvidenceText(probe: ProbeEvidence): string {
  const helpers =
    probe.helpers.length === 0
      ? 'no helper to ask for indirect pings'
      : `indirect pings via ${probe.helpers.map((h) => `${h.name} (${HELPER_ANSWER[h.answer]})`).join(', ')}`;
  return `direct ping got no ack in ${duration(probe.directTimeoutMs)}; ${helpers}; TCP ping: ${probe.tcp}; waited ${duration(probe.waitedMs)}`;
}

/** The evidence of a suspicion the observer raised itself. */
function ownEvidenceText(record: VerdictRecord): string {
  if (record.probe) return probeEvidenceText(record.probe);
  if (record.heartbeat) return `its heartbeat had not risen for ${duration(record.heartbeat.silentForMs)}`;
  // Raised in the observer's name without a probe of its own: a push/pull merge marks a peer's suspects so.
  return 'no probe evidence on record (taken from a peer’s state in a push/pull exchange)';
}

/** `suspected at T, incarnation 4, on a rumour from h3 (health 0)`: times, health as given (spans in groups). */
function suspectedPhrase(at: string, incarnation: number, by: string, health: string): string {
  return `suspected at ${at}, incarnation ${incarnation}, ${by} (health ${health})`;
}

/** A verdict heard of (or reached) without a suspicion first. */
function unsuspectedPhrase(record: VerdictRecord, at: string, view: VerdictView): string {
  const outcome = record.outcome;
  if (outcome?.kind === 'left') {
    return record.accuser === record.member
      ? `left gracefully at ${at}`
      : `left at ${at}, heard from ${record.accuser} (a forced leave, or its own leave relayed)`;
  }
  const by = outcome?.kind === 'failed' ? outcome.by : record.accuser;
  const note = by === view.observer ? 'no suspicion on record here' : 'no suspicion here';
  return `declared failed at ${at}, incarnation ${record.incarnation}, by ${byWhom(by, view)} (${note})`;
}

/** The first part of an episode: how it was raised, with the observer's own evidence. */
function openingPart(record: VerdictRecord, view: VerdictView): string {
  if (record.suspectedAt === null) return unsuspectedPhrase(record, record.outcome ? view.time(record.outcome.at) : '?', view);
  const at = view.time(record.suspectedAt);
  const health = String(record.healthScore);
  if (record.own) return `${suspectedPhrase(at, record.incarnation, `by ${nameOf(view)}`, health)}: ${ownEvidenceText(record)}`;
  return suspectedPhrase(at, record.incarnation, `on a rumour from ${record.accuser}`, health);
}

/** `suspicion timeout 4.0 s–24.0 s, 2 confirmations expected`. */
function timeoutPhrase(timeout: NonNullable<VerdictRecord['timeout']>): string {
  return `suspicion timeout ${duration(timeout.minMs)}–${duration(timeout.maxMs)}, ${plural(timeout.confirmationsExpected, 'confirmation')} expected`;
}

/** Who confirmed: `h2`, or `this node’s own probe`. */
function confirmerName(confirmation: Confirmation, view: VerdictView): string {
  return confirmation.from === view.observer ? `${nameOf(view)}’s own probe` : confirmation.from;
}

/** `confirmed by h2, n5 and 3 more`, or `no confirmation`. */
function confirmedPhrase(confirmers: readonly string[], shown: number): string {
  if (confirmers.length === 0) return 'no confirmation';
  const more = confirmers.length - shown;
  return `confirmed by ${confirmers.slice(0, shown).join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/**
 * The timeout and the confirmations: `suspicion timeout …; confirmed by h2 at +1.2 s (deadline
 * now +9.8 s)`; the observer's own probe as a confirmation is followed by what it saw.
 */
function timeoutPart(record: VerdictRecord, view: VerdictView): string | undefined {
  if (record.suspectedAt === null) return undefined;
  const start = record.suspectedAt;
  const confirmers = record.confirmations.map((c) => {
    const text = `${confirmerName(c, view)} at +${duration(c.at - start)} (deadline now +${duration(c.deadline - start)})`;
    return c.probe ? `${text}: ${probeEvidenceText(c.probe)}` : text;
  });
  if (!record.timeout && confirmers.length === 0) return undefined;
  const confirmed = confirmedPhrase(confirmers, 6);
  return record.timeout ? `${timeoutPhrase(record.timeout)}; ${confirmed}` : confirmed;
}

/** How a suspicion ended, `after` how long (a span in groups). */
function endingPhrase(
  outcome: NonNullable<VerdictRecord['outcome']>,
  after: string,
  view: VerdictView,
  incarnation = outcome.kind === 'refuted' ? String(outcome.incarnation) : '',
): string {
  switch (outcome.kind) {
    case 'refuted':
      return `refuted after ${after}: the member answered with incarnation ${incarnation}`;
    case 'failed':
      return `declared failed after ${after} by ${byWhom(outcome.by, view)}`;
    case 'left':
      return `left after ${after}`;
    case 'dropped':
      return `suspicion dropped after ${after}: ${outcome.reason}`;
  }
}

/** How a suspicion ended, or that it runs still. */
function outcomePart(record: VerdictRecord, view: VerdictView): string | undefined {
  const { outcome, suspectedAt } = record;
  if (suspectedAt === null) return undefined; // the opening said it
  if (outcome === null) return view.now === undefined ? 'still suspected' : `still suspected (${duration(view.now - suspectedAt)} so far)`;
  return endingPhrase(outcome, duration(outcome.at - suspectedAt), view);
}

const returnedPhrase = (at: string) => `came back alive at ${at}`;

/**
 * One episode in parts: how it was raised (with the observer's own evidence), the timeout and
 * confirmations, how it ended, and when the member came back. `hearsay why` prints a line each.
 */
export function episodeParts(record: VerdictRecord, view: VerdictView): string[] {
  const parts = [openingPart(record, view), timeoutPart(record, view), outcomePart(record, view)];
  if (record.returnedAt !== null) parts.push(returnedPhrase(view.time(record.returnedAt)));
  return parts.filter((part): part is string => part !== undefined);
}

/** One episode on one line, its parts joined by ` — ` (what `sim --trace` prints after the observer). */
export function explainVerdict(record: VerdictRecord, view: VerdictView): string {
  return episodeParts(record, view).join(' — ');
}

/** What GET /v1/members/{name}/history answers (the records keep their epoch-millisecond times). */
export interface MemberHistory {
  readonly member: string;
  /** The agent that answered: its verdicts. */
  readonly node: string;
  readonly status: string | null;
  readonly degradedSince: string | null;
  readonly history: readonly VerdictRecord[];
}

/** How a live agent tells its records: `this node`, in UTC. */
function agentView(node: string, now: number): VerdictView {
  return { observer: node, observerName: 'this node', time: isoTime, now };
}

/** Who raised it, as the agent sees it: `this node`, or `a rumour from h3`. */
function accuserText(record: VerdictRecord, node: string): string {
  return record.own ? 'this node' : byWhom(record.accuser, agentView(node, 0));
}

/** How the evidence behind a verdict reads in the summary. */
function groundsText(record: VerdictRecord, node: string): string {
  if (record.suspectedAt === null) return 'no suspicion here';
  if (record.own)
    return record.probe ? 'after its own probes failed' : record.heartbeat ? 'after the member’s heartbeat went silent' : 'on a suspicion of its own';
  return `after ${accuserText(record, node)} raised the suspicion`;
}

/** `web-3 is failed: declared failed by this node at … after its own probes failed`. */
export function verdictSummary(answer: MemberHistory, now = Date.now()): string {
  const { member, node, status, history } = answer;
  const last = history.at(-1);
  const where = status === null ? `${member} is no longer listed at ${node}` : `${member} is ${status}`;
  if (!last) return `${where}: ${node} has no suspicion or verdict about it on record`;
  const outcome = last.outcome;
  if (status === 'suspect' || (outcome === null && last.suspectedAt !== null && status !== 'alive')) {
    return `${where}: suspected since ${isoTime(last.suspectedAt!)} (${duration(now - last.suspectedAt!)}) by ${accuserText(last, node)}, ${plural(last.confirmations.length, 'confirmation')} so far`;
  }
  if (outcome?.kind === 'failed') {
    const by = outcome.by === node ? 'this node' : `${outcome.by} (its rumour reached this node)`;
    const back = last.returnedAt !== null ? `; it ${returnedPhrase(isoTime(last.returnedAt))}` : '';
    return `${where}: declared failed by ${by} at ${isoTime(outcome.at)}, ${groundsText(last, node)}${back}`;
  }
  if (outcome?.kind === 'left')
    return `${where}: it left at ${isoTime(outcome.at)}${last.accuser === member ? ' (gracefully)' : `, heard from ${last.accuser}`}`;
  if (outcome?.kind === 'refuted') {
    return `${where}: last suspected ${isoTime(last.suspectedAt!)} by ${accuserText(last, node)}, refuted after ${duration(outcome.at - last.suspectedAt!)} (incarnation ${outcome.incarnation})`;
  }
  if (outcome?.kind === 'dropped') return `${where}: its last suspicion was dropped (${outcome.reason})`;
  return `${where}: last suspected ${isoTime(last.suspectedAt!)} by ${accuserText(last, node)}`;
}

/** `hearsay why`: the verdict, the degraded pair if any, then the episodes oldest first (newest last), a line per part. */
export function whyText(answer: MemberHistory, now = Date.now()): string {
  const lines = [verdictSummary(answer, now)];
  if (answer.degradedSince) {
    lines.push(`degraded: ${answer.node} reaches ${answer.member} only through helpers or TCP since ${answer.degradedSince} (its direct pings fail)`);
  }
  const view = agentView(answer.node, now);
  answer.history.forEach((record, index) => {
    const [first, ...rest] = episodeParts(record, view);
    lines.push('', `${index + 1}. ${first}`, ...rest.map((line) => `   ${line}`));
  });
  return `${lines.join('\n')}\n`;
}

/** Episodes of many observers about one member, those that tell the same story together. */
export interface VerdictGroup {
  /** The explanation they share (without subject). */
  readonly text: string;
  /** The observers, in the order first seen. */
  readonly observers: string[];
}

type Episode = { readonly observer: string; readonly record: VerdictRecord };

/** Whether the episode is the observer's own doing: its own suspicion, or a failure it declared. */
function ownVerdict({ observer, record }: Episode): boolean {
  return record.own || (record.outcome?.kind === 'failed' && record.outcome.by === observer);
}

/**
 * Episodes heard from the same accuser about the same incarnation, ending the same way, told once
 * with the same phrases as one episode and the spans of their times and health scores.
 */
function hearsayText(episodes: readonly Episode[], time: (at: number) => string): string {
  const { record: first, observer } = episodes[0]!;
  const records = episodes.map((e) => e.record);
  // A failure declared by another: the same `by` for all (part of the group's key).
  const view: VerdictView = { observer, time };
  const endings = records.flatMap((r) => (r.outcome ? [r.outcome.at] : []));
  if (first.suspectedAt === null) {
    const parts = [unsuspectedPhrase(first, span(endings, time), view)];
    const returns = records.flatMap((r) => (r.returnedAt === null ? [] : [r.returnedAt]));
    if (returns.length > 0) parts.push(returnedPhrase(span(returns, time)));
    return parts.join(' — ');
  }
  const starts = records.map((r) => r.suspectedAt!);
  const parts = [
    suspectedPhrase(
      span(starts, time),
      first.incarnation,
      `on a rumour from ${first.accuser}`,
      span(
        records.map((r) => r.healthScore),
        String,
      ),
    ),
  ];
  const confirmers = [...new Set(episodes.flatMap((e) => e.record.confirmations.map((c) => confirmerName(c, { observer: e.observer, time }))))];
  const confirmed = confirmedPhrase(confirmers, 4);
  parts.push(first.timeout ? `${timeoutPhrase(first.timeout)}; ${confirmed}` : confirmed);
  const outcome = first.outcome;
  if (outcome === null) parts.push('still suspected');
  else {
    const after = span(
      records.map((r) => r.outcome!.at - r.suspectedAt!),
      duration,
    );
    const incarnations = records.flatMap((r) => (r.outcome?.kind === 'refuted' ? [r.outcome.incarnation] : []));
    parts.push(endingPhrase(outcome, after, view, incarnations.length > 0 ? span(incarnations, String) : undefined));
  }
  return parts.join(' — ');
}

/**
 * Groups many observers' episodes about one member, keeping the order of first appearance: an
 * observer's own suspicion or verdict keeps a line with its whole evidence; verdicts taken from
 * others are grouped by accuser, incarnation, timeout and ending, with the spans of their times.
 */
export function groupVerdicts(episodes: readonly Episode[], time: (at: number) => string, now?: number): VerdictGroup[] {
  const groups = new Map<string, Episode[]>();
  episodes.forEach((episode, index) => {
    const { record } = episode;
    const key = ownVerdict(episode)
      ? `own ${index}`
      : JSON.stringify([
          record.accuser,
          record.incarnation,
          record.suspectedAt !== null,
          record.timeout,
          record.outcome?.kind ?? 'open',
          record.outcome?.kind === 'failed' ? record.outcome.by : null,
          record.outcome?.kind === 'dropped' ? record.outcome.reason : null,
        ]);
    const group = groups.get(key) ?? [];
    group.push(episode);
    groups.set(key, group);
  });
  return [...groups.values()].map((members) => ({
    // A story told once is told whole.
    text: members.length === 1 ? explainVerdict(members[0]!.record, { observer: members[0]!.observer, time, now }) : hearsayText(members, time),
    observers: members.map((e) => e.observer),
  }));
}

/** A group as a line: `n2, n5 and n9: suspected at …`, naming at most `shown` observers. */
export function groupLine(group: VerdictGroup, shown = 6): string {
  const { observers } = group;
  let subject: string;
  if (observers.length === 1) subject = observers[0]!;
  else if (observers.length <= shown) subject = `${observers.slice(0, -1).join(', ')} and ${observers.at(-1)}`;
  else subject = `${observers.slice(0, shown).join(', ')} and ${observers.length - shown} more`;
  return `${subject}: ${group.text}`;
}
