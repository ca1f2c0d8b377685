import type { Member } from 'hearsay';
import type { HandlerEvent } from './event-handler-invocation.js';

type MemberEvent = Extract<HandlerEvent, { kind: 'member' }>;
type UserEvent = Extract<HandlerEvent, { kind: 'user' }>;

/** User event names held in one coalescing window. */
const MAX_HELD_NAMES = 1024;

/**
 * Serf's coalescing window (serf/coalesce.go): the first event opens a period of `periodMs`, and
 * every event restarts a quiet timer of `quiescentMs`; whichever ends first flushes.
 */
class Window {
  readonly #periodMs: number;
  readonly #quiescentMs: number;
  readonly #flush: () => void;
  #period: NodeJS.Timeout | undefined;
  #quiet: NodeJS.Timeout | undefined;

  constructor(periodMs: number, flush: () => void) {
    this.#periodMs = periodMs;
    this.#quiescentMs = Math.max(1, Math.round(periodMs / 2));
    this.#flush = flush;
  }

  touch(): void {
    this.#period ??= setTimeout(() => this.flushNow(), this.#periodMs);
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.flushNow(), this.#quiescentMs);
  }

  flushNow(): void {
    this.cancel();
    this.#flush();
  }

  cancel(): void {
    clearTimeout(this.#period);
    clearTimeout(this.#quiet);
    this.#period = this.#quiet = undefined;
  }
}

/** Whether two snapshots of a member would give a handler the same line. */
function sameLine(a: Member, b: Member): boolean {
  return a.address === b.address && a.port === b.port && JSON.stringify(a.tags) === JSON.stringify(b.tags);
}

/**
 * Member events coalesced as Serf's (serf/coalesce_member.go): within a window only a member's
 * latest event counts (except that an update folds into a join held, which hearsay adds); an
 * event of the type last delivered for that member is dropped (an update only when nothing a
 * handler sees changed); what remains goes out as one event per type, in the
 * order the types first came, each listing its members. `periodMs` 0 passes every event at once.
 */
export class MemberCoalescer {
  readonly #deliver: (event: MemberEvent) => void;
  readonly #window: Window | undefined;
  /** Per member, the last event delivered: bounded by the members known, since a reap forgets one. */
  readonly #last = new Map<string, { type: MemberEvent['type']; member: Member }>();
  #pending = new Map<string, { type: MemberEvent['type']; member: Member }>();

  constructor(periodMs: number, deliver: (event: MemberEvent) => void) {
    this.#deliver = deliver;
    this.#window = periodMs > 0 ? new Window(periodMs, () => this.#flush()) : undefined;
  }

  push(type: MemberEvent['type'], member: Member): void {
    if (!this.#window) {
      this.#deliver({ kind: 'member', type, members: [member] });
      return;
    }
    // An update folds into a join still held (the join then shows the new tags): a handler is never left without the join.
    const held = this.#pending.get(member.name);
    const latest = type === 'member-update' && held?.type === 'member-join' ? 'member-join' : type;
    // Re-inserted, so that the member is listed where its latest event came.
    this.#pending.delete(member.name);
    this.#pending.set(member.name, { type: latest, member });
    this.#window.touch();
  }

  stop(): void {
    this.#window?.cancel();
  }

  #flush(): void {
    const batches = new Map<MemberEvent['type'], Member[]>();
    for (const [name, latest] of this.#pending) {
      const last = this.#last.get(name);
      if (last?.type === latest.type && (latest.type !== 'member-update' || sameLine(last.member, latest.member))) continue;
      if (latest.type === 'member-reap') this.#last.delete(name);
      else this.#last.set(name, latest);
      const batch = batches.get(latest.type) ?? [];
      batch.push(latest.member);
      batches.set(latest.type, batch);
    }
    this.#pending = new Map();
    for (const [type, members] of batches) this.#deliver({ kind: 'member', type, members });
  }
}

/**
 * User events coalesced as Serf's (serf/coalesce_user.go): those sent with `coalesce` set are held
 * for the window, and only the newest of each name (the highest Lamport time, all of them on a
 * tie) is delivered; the others pass at once.
 */
export class UserEventCoalescer {
  readonly #deliver: (event: UserEvent) => void;
  readonly #window: Window | undefined;
  #latest = new Map<string, UserEvent[]>();

  constructor(periodMs: number, deliver: (event: UserEvent) => void) {
    this.#deliver = deliver;
    this.#window = periodMs > 0 ? new Window(periodMs, () => this.#flush()) : undefined;
  }

  push(event: UserEvent, coalesce: boolean): void {
    const held = this.#latest.get(event.name);
    // Names held are bounded: past the bound (a flood of names from peers) an event passes uncoalesced, to the handlers' bounded queues.
    if (!coalesce || !this.#window || (!held && this.#latest.size >= MAX_HELD_NAMES)) {
      this.#deliver(event);
      return;
    }
    const heldTime = held?.[0]?.ltime;
    if (heldTime === undefined || heldTime < event.ltime) this.#latest.set(event.name, [event]);
    else if (heldTime === event.ltime) held!.push(event);
    this.#window.touch();
  }

  stop(): void {
    this.#window?.cancel();
  }

  #flush(): void {
    const latest = this.#latest;
    this.#latest = new Map();
    for (const events of latest.values()) for (const event of events) this.#deliver(event);
  }
}
