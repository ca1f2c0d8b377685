/**
 * Failure provenance: for each member, the verdicts this node reached or took from others, with
 * the evidence it had at the time (issue: "why was it declared failed?"). The prober and the
 * membership rules report to it; nothing here changes the protocol. Bounded: a few records per
 * member, and as many members as the table may hold, least recently touched forgotten first.
 */

/** How an indirect helper answered one of this node's probes. */
export type HelperAnswer = 'ack' | 'nack' | 'none';

/** What this node's own failed probe of a member saw. */
export interface ProbeEvidence {
  /** When the ping went out. */
  readonly sentAt: number;
  /** How long it waited for a direct ack before asking helpers. */
  readonly directTimeoutMs: number;
  /** How long the probe waited for any ack (the health-scaled probe interval). */
  readonly waitedMs: number;
  /** The helpers asked to ping it, and what each said. */
  readonly helpers: readonly { readonly name: string; readonly answer: HelperAnswer }[];
  /** The TCP ping beside the indirect probe: not tried, failed (with why) or unanswered in time. */
  readonly tcp: string;
}

/** Evidence of a heartbeat detector: how long the member's heartbeat had not risen. */
export interface HeartbeatEvidence {
  /** Time since the member's heartbeat last rose, when this node suspected it. */
  readonly silentForMs: number;
}

/** A confirmation of a running suspicion by another accuser (Lifeguard shortens the timeout). */
export interface Confirmation {
  /** The member that suspected it too. */
  readonly from: string;
  /** When its suspicion reached this node. */
  readonly at: number;
  /** When the suspicion was due to expire after it. */
  readonly deadline: number;
  /** What this node's own failed probe saw, when that probe was the confirmation. */
  readonly probe?: ProbeEvidence;
}

/** How an episode ended: refuted by a newer incarnation, failed (by whom), left, or dropped unjudged. */
export type VerdictOutcome =
  | { readonly kind: 'refuted'; readonly at: number; readonly incarnation: number }
  | { readonly kind: 'failed'; readonly at: number; readonly by: string; readonly incarnation: number }
  | { readonly kind: 'left'; readonly at: number }
  | { readonly kind: 'dropped'; readonly at: number; readonly reason: string };

/**
 * One episode: a suspicion and how it ended, or a failure or departure heard of without one.
 * Times are the node's clock (epoch milliseconds in the real runtime).
 */
export interface VerdictRecord {
  /** The member the verdict is about. */
  readonly member: string;
  /** The member's incarnation the verdict was about. */
  readonly incarnation: number;
  /** When this node marked it suspect (null: it heard of the failure or departure directly). */
  readonly suspectedAt: number | null;
  /** Who raised it: this node's name for its own probe, else the rumour's sender of record. */
  readonly accuser: string;
  /** Whether this node's own detector raised it. */
  readonly own: boolean;
  /** This node's Lifeguard health score when it happened (0 is healthy). */
  readonly healthScore: number;
  /** The suspicion timeout's bounds, and how many confirmations would bring it to the minimum. */
  readonly timeout: { readonly minMs: number; readonly maxMs: number; readonly confirmationsExpected: number } | null;
  /** This node's failed probe that raised it (SWIM), if it was this node's own. */
  readonly probe: ProbeEvidence | null;
  /** The heartbeat detectors' evidence, if one of them raised it. */
  readonly heartbeat: HeartbeatEvidence | null;
  /** Other accusers that confirmed the suspicion, in order. */
  readonly confirmations: readonly Confirmation[];
  /** How it ended; null while the suspicion runs. */
  readonly outcome: VerdictOutcome | null;
  /** When a failed or departed member was heard alive again, if it was. */
  readonly returnedAt: number | null;
}

type MutableRecord = { -readonly [K in keyof VerdictRecord]: VerdictRecord[K] } & { confirmations: Confirmation[] };

/** How many episodes are kept per member. */
export const RECORDS_PER_MEMBER = 16;
/** Probes of a member answered only through helpers or TCP, in a row, that make a degraded pair. */
export const DEGRADED_AFTER = 2;

/** What a suspicion looks like when it opens. */
export interface SuspicionOpening {
  readonly member: string;
  readonly incarnation: number;
  readonly accuser: string;
  readonly own: boolean;
  readonly healthScore: number;
  readonly timeout: VerdictRecord['timeout'];
  readonly at: number;
}

/** A change of a degraded pair: this node reaches the member only indirectly, or directly again. */
export interface DegradedChange {
  readonly member: string;
  readonly degraded: boolean;
}

export class VerdictLog {
  readonly #maxMembers: number;
  readonly #records = new Map<string, MutableRecord[]>();
  /** Evidence of this node's last failed probe per member, waiting for the suspicion it causes. */
  readonly #evidence = new Map<string, ProbeEvidence | HeartbeatEvidence>();
  readonly #indirectStreak = new Map<string, number>();
  readonly #degraded = new Map<string, number>();

  constructor(maxMembers: number) {
    this.#maxMembers = maxMembers;
  }

  /** A member's episodes, oldest first (copies). */
  history(member: string): VerdictRecord[] {
    return (this.#records.get(member) ?? []).map((record) => ({ ...record, confirmations: [...record.confirmations] }));
  }

  /** Members reached only through helpers or TCP lately, with when that was first seen. */
  degraded(): { member: string; since: number }[] {
    return [...this.#degraded].map(([member, since]) => ({ member, since }));
  }

  /** Evidence for the suspicion this node is about to raise itself. */
  noteEvidence(member: string, evidence: ProbeEvidence | HeartbeatEvidence): void {
    this.#evidence.set(member, evidence);
  }

  suspected(opening: SuspicionOpening): void {
    const evidence = opening.own ? this.#evidence.get(opening.member) : undefined;
    this.#evidence.delete(opening.member);
    this.#append({
      member: opening.member,
      incarnation: opening.incarnation,
      suspectedAt: opening.at,
      accuser: opening.accuser,
      own: opening.own,
      healthScore: opening.healthScore,
      timeout: opening.timeout,
      probe: evidence && 'helpers' in evidence ? evidence : null,
      heartbeat: evidence && 'silentForMs' in evidence ? evidence : null,
      confirmations: [],
      outcome: null,
      returnedAt: null,
    });
  }

  /** Evidence no suspicion took (this node's probe failed again while it already suspected the member). */
  discardEvidence(member: string): void {
    this.#evidence.delete(member);
  }

  /** Another accuser (or this node's own failed probe, `own`) confirmed the running suspicion. */
  confirmed(member: string, confirmation: Confirmation, own: boolean): void {
    const evidence = own ? this.#evidence.get(member) : undefined;
    if (own) this.#evidence.delete(member);
    const open = this.#open(member);
    if (!open) return;
    open.confirmations.push(evidence && 'helpers' in evidence ? { ...confirmation, probe: evidence } : confirmation);
  }

  /** The member answered the suspicion with a newer incarnation (or its heartbeat rose again). */
  refuted(member: string, incarnation: number, at: number): void {
    const open = this.#open(member);
    if (open) open.outcome = { kind: 'refuted', at, incarnation };
  }

  /** The member was declared failed, by this node (`by` its name) or by a rumour from `by`. */
  failed(member: string, incarnation: number, by: string, at: number, healthScore: number): void {
    const outcome: VerdictOutcome = { kind: 'failed', at, by, incarnation };
    const open = this.#open(member);
    if (open) open.outcome = outcome;
    else this.#append(this.#unsuspected(member, incarnation, by, healthScore, outcome));
  }

  /** The member left (its own announcement, or a leave forced on it). */
  left(member: string, incarnation: number, by: string, at: number, healthScore: number): void {
    const outcome: VerdictOutcome = { kind: 'left', at };
    const open = this.#open(member);
    if (open) open.outcome = outcome;
    else this.#append(this.#unsuspected(member, incarnation, by, healthScore, outcome));
  }

  /** A running suspicion ended without a verdict (the member was forgotten, the detector changed). */
  dropped(member: string, reason: string, at: number): void {
    const open = this.#open(member);
    if (open) open.outcome = { kind: 'dropped', at, reason };
  }

  /** A failed or departed member is alive again. */
  returned(member: string, at: number): void {
    const last = this.#records.get(member)?.at(-1);
    if (last?.outcome && last.outcome.kind !== 'refuted' && last.returnedAt === null) last.returnedAt = at;
  }

  /**
   * How this node's probe of a member was answered. Answers that came only through helpers or
   * TCP, DEGRADED_AFTER times in a row, make a degraded pair; a direct ack ends it.
   */
  probeAnswered(member: string, direct: boolean, at: number): DegradedChange | undefined {
    if (direct) {
      this.#indirectStreak.delete(member);
      return this.#degraded.delete(member) ? { member, degraded: false } : undefined;
    }
    const streak = (this.#indirectStreak.get(member) ?? 0) + 1;
    this.#indirectStreak.set(member, streak);
    if (streak < DEGRADED_AFTER || this.#degraded.has(member)) return undefined;
    this.#degraded.set(member, at);
    return { member, degraded: true };
  }

  /** The member left the table: its probes' state goes, its history stays (bounded). */
  forget(member: string): DegradedChange | undefined {
    this.#evidence.delete(member);
    this.#indirectStreak.delete(member);
    return this.#degraded.delete(member) ? { member, degraded: false } : undefined;
  }

  #unsuspected(member: string, incarnation: number, by: string, healthScore: number, outcome: VerdictOutcome): MutableRecord {
    return {
      member,
      incarnation,
      suspectedAt: null,
      accuser: by,
      own: false,
      healthScore,
      timeout: null,
      probe: null,
      heartbeat: null,
      confirmations: [],
      outcome,
      returnedAt: null,
    };
  }

  #open(member: string): MutableRecord | undefined {
    const last = this.#records.get(member)?.at(-1);
    return last && last.outcome === null ? last : undefined;
  }

  #append(record: MutableRecord): void {
    const { member } = record;
    const records = this.#records.get(member) ?? [];
    // Re-inserted so that the map's order is least recently touched first.
    this.#records.delete(member);
    this.#records.set(member, records);
    records.push(record);
    if (records.length > RECORDS_PER_MEMBER) records.shift();
    if (this.#records.size > this.#maxMembers) this.#records.delete(this.#records.keys().next().value!);
  }
}
