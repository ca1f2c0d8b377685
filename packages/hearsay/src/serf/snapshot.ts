import { formatAddress, parseAddress } from '../wire/host-port.js';

/*
 * Serf's snapshot file, pure: the lines an agent appends as members come and go and its Lamport
 * clocks move, read back at a restart, and the compacted content that replaces them. The format
 * is Serf's (serf/snapshot.go), so that an operator moving from Serf keeps their file:
 *
 *   alive: NAME HOST:PORT     a member seen alive at that address (the name may hold spaces)
 *   not-alive: NAME           it failed or left
 *   clock: N                  the last member (intent) Lamport time seen; event-clock, query-clock alike
 *   leave                     this node left gracefully: forget the members, do not rejoin
 *   coordinate: …             Serf 0.7's; ignored, as Serf ≥ 0.8 ignores it
 *   # …                       a comment
 */

/** Serf's three Lamport clocks, each as the last time it has seen (the clock's time − 1, as Serf saves them). */
export interface SerfClocks {
  /** The member clock: join and leave intents. */
  readonly member: bigint;
  /** The user event clock. */
  readonly event: bigint;
  /** The query clock. */
  readonly query: bigint;
}

/** What a snapshot file says at a restart. */
export interface RestoredSnapshot {
  /** Members last seen alive, by name: `host:port` as `parseAddress` reads it. */
  readonly alive: ReadonlyMap<string, string>;
  /** The latest clocks the file records. */
  readonly clocks: SerfClocks;
  /** The last word was a graceful leave (no member seen alive since): not to rejoin. */
  readonly left: boolean;
  /** What was skipped, each naming the file and the line (at most {@link MAX_SNAPSHOT_WARNINGS}). */
  readonly warnings: readonly string[];
  /** Lines skipped: unknown, malformed, too long or cut short. */
  readonly skippedLines: number;
}

/** A member's line holds a name of up to 255 characters and an address: anything much longer was never written by Serf or hearsay. */
export const MAX_SNAPSHOT_LINE = 1024;
/** Members a restart remembers: a file grown by a fault or by hand cannot fill the memory. */
export const MAX_SNAPSHOT_MEMBERS = 20_000;
/** Skipped lines reported one by one; the others are only counted. */
export const MAX_SNAPSHOT_WARNINGS = 20;
/** Serf's estimate of a member's bytes in the file, and the growth over it that triggers a compaction. */
const BYTES_PER_MEMBER = 128;
const COMPACTION_FACTOR = 2;
/** Below this a file is never compacted (Serf's default snapshot size limit). */
export const MIN_COMPACT_BYTES = 128 * 1024;

const UINT64_MAX = (1n << 64n) - 1n;
const CLOCK_LINES = { 'clock: ': 'member', 'event-clock: ': 'event', 'query-clock: ': 'query' } as const;

/**
 * Reads a snapshot fed in chunks, in bounded memory whatever the file holds: a line past
 * {@link MAX_SNAPSHOT_LINE} is dropped as it streams, members stop at {@link MAX_SNAPSHOT_MEMBERS},
 * and what cannot be read is skipped with a warning naming `source` and the line, never thrown.
 */
export class SnapshotReader {
  readonly #source: string;
  readonly #rejoinAfterLeave: boolean;
  readonly #alive = new Map<string, string>();
  readonly #clocks = { member: 0n, event: 0n, query: 0n };
  readonly #warnings: string[] = [];
  #left = false;
  #skipped = 0;
  #line = 0;
  #pending = '';
  #overlong = false;

  /** `source` names the file in warnings; with `rejoinAfterLeave`, a `leave` line forgets nothing (Serf's rejoin_after_leave). */
  constructor(source: string, options: { rejoinAfterLeave?: boolean } = {}) {
    this.#source = source;
    this.#rejoinAfterLeave = options.rejoinAfterLeave ?? false;
  }

  /** Reads the next piece of the file; a line may span pieces. */
  push(chunk: string): void {
    let start = 0;
    for (let newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', start)) {
      this.#take(chunk.slice(start, newline));
      start = newline + 1;
      this.#line++;
      if (this.#overlong) this.#skip('is over 1024 characters');
      else this.#read(this.#pending.endsWith('\r') ? this.#pending.slice(0, -1) : this.#pending);
      this.#pending = '';
      this.#overlong = false;
    }
    this.#take(chunk.slice(start));
  }

  /** What the file said; a last line without its newline was cut short by a crash and is skipped. */
  end(): RestoredSnapshot {
    if (this.#pending.length > 0 || this.#overlong) {
      this.#line++;
      this.#skip('is cut short (no newline: the write was interrupted)');
    }
    return { alive: this.#alive, clocks: { ...this.#clocks }, left: this.#left, warnings: this.#warnings, skippedLines: this.#skipped };
  }

  #take(part: string): void {
    if (this.#overlong) return;
    this.#pending += part;
    if (this.#pending.length > MAX_SNAPSHOT_LINE) {
      this.#overlong = true;
      this.#pending = '';
    }
  }

  #read(line: string): void {
    if (line.trim() === '' || line.startsWith('#') || line.startsWith('coordinate: ')) return;
    if (line === 'leave') {
      if (this.#rejoinAfterLeave) return;
      this.#alive.clear();
      this.#left = true;
    } else if (line.startsWith('alive: ')) {
      this.#readAlive(line.slice('alive: '.length));
    } else if (line.startsWith('not-alive: ')) {
      this.#alive.delete(line.slice('not-alive: '.length));
    } else {
      const prefix = Object.keys(CLOCK_LINES).find((key) => line.startsWith(key)) as keyof typeof CLOCK_LINES | undefined;
      if (prefix) this.#readClock(CLOCK_LINES[prefix], line.slice(prefix.length));
      else this.#skip('is not a snapshot line');
    }
  }

  #readAlive(rest: string): void {
    const space = rest.lastIndexOf(' ');
    const name = rest.slice(0, Math.max(space, 0));
    if (space <= 0 || name.length > 255) {
      this.#skip('is not "alive: NAME HOST:PORT"');
      return;
    }
    let address: string;
    try {
      address = formatAddress(parseAddress(rest.slice(space + 1), -1));
    } catch {
      this.#skip(`has no address "${rest.slice(space + 1, space + 61)}"`);
      return;
    }
    if (!this.#alive.has(name) && this.#alive.size >= MAX_SNAPSHOT_MEMBERS) this.#skip(`is past ${MAX_SNAPSHOT_MEMBERS} members`);
    else {
      this.#alive.set(name, address);
      this.#left = false;
    }
  }

  #readClock(clock: keyof SerfClocks, text: string): void {
    const value = /^\d{1,20}$/.test(text) ? BigInt(text) : undefined;
    if (value === undefined || value > UINT64_MAX) this.#skip('has no clock value (a uint64)');
    // The greatest wins: a clock restored never goes back, whatever order the lines come in.
    else if (value > this.#clocks[clock]) this.#clocks[clock] = value;
  }

  #skip(why: string): void {
    this.#skipped++;
    if (this.#warnings.length < MAX_SNAPSHOT_WARNINGS) this.#warnings.push(`${this.#source}:${this.#line}: line ${why}: skipped`);
  }
}

/** Reads a whole snapshot held in memory (see {@link SnapshotReader}). */
export function parseSnapshot(text: string, source: string, options: { rejoinAfterLeave?: boolean } = {}): RestoredSnapshot {
  const reader = new SnapshotReader(source, options);
  reader.push(text);
  return reader.end();
}

/**
 * Whether a name can go in the file: a control character (a newline above all) would let a peer
 * that names itself so write lines of its own, a `leave` or a clock far ahead.
 */
export function writableName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !/[\u0000-\u001f\u007f]/.test(name);
}

/** The line that records `name` alive at `address` (`host:port`). */
export const aliveLine = (name: string, address: string): string => `alive: ${name} ${address}\n`;
/** The line that records `name` failed or left. */
export const notAliveLine = (name: string): string => `not-alive: ${name}\n`;
/** The line that records this node's graceful leave. */
export const LEAVE_LINE = 'leave\n';

/** The clock lines for the clocks that moved past `written`. */
export function clockLines(written: SerfClocks, now: SerfClocks): string {
  let lines = '';
  for (const [prefix, clock] of Object.entries(CLOCK_LINES)) {
    if (now[clock] > written[clock]) lines += `${prefix}${now[clock]}\n`;
  }
  return lines;
}

/** The compacted file: one line per member alive, the clocks, and the leave if this node left. */
export function renderSnapshot(state: { alive: ReadonlyMap<string, string>; clocks: SerfClocks; left: boolean }): string {
  let text = '';
  for (const [name, address] of state.alive) text += aliveLine(name, address);
  text += clockLines({ member: -1n, event: -1n, query: -1n }, state.clocks);
  return state.left ? text + LEAVE_LINE : text;
}

/** Serf's rule: compact once the file grew past twice the members' estimated size, and past the floor. */
export function shouldCompact(fileBytes: number, members: number): boolean {
  return fileBytes > Math.max(MIN_COMPACT_BYTES, members * BYTES_PER_MEMBER * COMPACTION_FACTOR);
}
