/**
 * What the lab reads in the agents' logs: member events as each agent saw them, and (Serf's,
 * whose counters are not exported) the probes that failed and the refutations. hearsay's agent
 * logs JSON lines (`member failed`, with `member`; `degraded pair: …`, with `member`, when a
 * member answers its probes only through helpers or TCP); Serf's logs text lines
 * (`serf: EventMemberFailed: n3 10.213.0.4`, memberlist's `Suspect n3 has failed, no acks received`).
 */

/** Member event types, as hearsay names them; Serf's are mapped onto them. */
export type MemberFactType = 'join' | 'alive' | 'suspect' | 'failed' | 'left' | 'update' | 'reap';

export type LineFact =
  | { readonly kind: 'member'; readonly type: MemberFactType; readonly member: string }
  | { readonly kind: 'failedProbe'; readonly member: string }
  | { readonly kind: 'refutation' }
  | { readonly kind: 'degraded'; readonly member: string };

const HEARSAY_EVENTS = new Set<string>(['join', 'alive', 'suspect', 'failed', 'left', 'update', 'reap']);

export function parseHearsayLine(line: string): LineFact | undefined {
  if (!line.startsWith('{')) return undefined;
  const degraded = line.includes('"msg":"degraded pair: ');
  if (!degraded && !line.includes('"msg":"member ')) return undefined;
  try {
    const record = JSON.parse(line) as { event?: unknown; member?: unknown };
    if (degraded) return typeof record.member === 'string' ? { kind: 'degraded', member: record.member } : undefined;
    if (typeof record.event !== 'string' || !HEARSAY_EVENTS.has(record.event) || typeof record.member !== 'string') return undefined;
    return { kind: 'member', type: record.event as MemberFactType, member: record.member };
  } catch {
    return undefined;
  }
}

/** Serf's event names; a failed member that comes back is a join to Serf, as it is to its handlers. */
const SERF_EVENTS: Readonly<Record<string, MemberFactType>> = {
  EventMemberJoin: 'join',
  EventMemberLeave: 'left',
  EventMemberFailed: 'failed',
  EventMemberUpdate: 'update',
  EventMemberReap: 'reap',
};

export function parseSerfLine(line: string): LineFact | undefined {
  const event = /serf: (EventMember\w+): (\S+)/.exec(line);
  if (event) {
    const type = SERF_EVENTS[event[1]!];
    return type ? { kind: 'member', type, member: event[2]! } : undefined;
  }
  const suspect = /memberlist: Suspect (\S+) has failed, no acks received/.exec(line);
  if (suspect) return { kind: 'failedProbe', member: suspect[1]! };
  if (/memberlist: Refuting a suspect message/.test(line)) return { kind: 'refutation' };
  return undefined;
}
