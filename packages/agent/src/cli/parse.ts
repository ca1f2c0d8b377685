import ms from 'ms';
import { InvalidArgumentError } from 'commander';
import { PROTOCOLS, type Protocol } from 'hearsay/core';

/**
 * A duration with its unit — `500ms`, `1s`, `2m`, `1.5h` — in milliseconds. A bare number is
 * refused, as Serf's flags refuse it: `3` could mean 3 ms or 3 s. Only `0` needs no unit.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d*\.?\d+$/.test(trimmed)) {
    if (Number(trimmed) === 0) return 0;
    throw new InvalidArgumentError(`"${text}" has no unit: use a unit, like ${trimmed}s or ${trimmed}ms`);
  }
  // ms() throws a plain Error on empty text, and answers undefined for what it cannot read.
  const value = trimmed === '' ? undefined : ms(trimmed as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`"${text}" is not a duration: use a number with a unit, like 500ms, 1s, 2m`);
  }
  return value;
}

export function parseCount(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`"${text}" is not a whole number`);
  }
  return value;
}

export function parsePositiveCount(text: string): number {
  const value = parseCount(text);
  if (value < 1) throw new InvalidArgumentError(`"${text}" must be at least 1`);
  return value;
}

export function parseProbability(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidArgumentError(`"${text}" is not a probability: use a number from 0 to 1, like 0.05`);
  }
  return value;
}

export function parseSeed(text: string): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`"${text}" is not an integer seed`);
  }
  return value;
}

/** Adds one more value to a repeatable option. */
export function collect<T>(parse: (text: string) => T): (text: string, previous: T[] | undefined) => T[] {
  return (text, previous) => [...(previous ?? []), parse(text)];
}

/** `NAME@AT+FOR`, e.g. `n3@10s+3s`: pause n3 at 10 s for 3 s. */
export function parsePause(text: string): { name: string; atMs: number; forMs: number } {
  const match = /^([^@\s]+)@([^+]+)\+(.+)$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`"${text}" is not a pause: use NAME@AT+FOR, like n3@10s+3s`);
  return { name: match[1]!, atMs: parseDuration(match[2]!), forMs: parseDuration(match[3]!) };
}

/** `NAME@AT`, e.g. `n3@60s`: restart n3 at 60 s. */
export function parseRestart(text: string): { name: string; atMs: number } {
  const match = /^([^@\s]+)@(.+)$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`"${text}" is not a restart: use NAME@AT, like n3@60s`);
  return { name: match[1]!, atMs: parseDuration(match[2]!) };
}

/**
 * `AT+FOR` cuts the cluster into two halves (n0 … n{N/2−1} and the rest) at AT and heals it
 * FOR later; `AT+FOR=n1,n2,…` cuts the listed nodes off from the others instead.
 */
export function parsePartition(text: string): { atMs: number; forMs: number; names: string[] | null } {
  const match = /^([^+=]+)\+([^=]+)(?:=(.+))?$/.exec(text.trim());
  if (!match) {
    throw new InvalidArgumentError(`"${text}" is not a partition: use AT+FOR or AT+FOR=n1,n2,…, like 30s+20s`);
  }
  const names = match[3]
    ? match[3]
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean)
    : null;
  return { atMs: parseDuration(match[1]!), forMs: parseDuration(match[2]!), names };
}

/** A whole number of nodes to crash, or a comma-separated list of names. */
export function parseCrash(text: string): number | string[] {
  if (/^\d+$/.test(text.trim())) return Number(text);
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0 || names.some((name) => !/^n\d+$/.test(name))) {
    throw new InvalidArgumentError(`"${text}" is not a crash list: use a count (3) or names (n5,n9)`);
  }
  return names;
}

/** `A:B:LOSS[:DELAY[:JITTER]]`, e.g. `n1:n2:0.3:20ms`: the link between n1 and n2 loses 30% and takes 20 ms. */
export function parseLink(text: string): { between: [string, string]; loss: number; delayMs?: number; jitterMs?: number } {
  const parts = text.trim().split(':');
  if (parts.length < 3 || parts.length > 5 || !parts[0] || !parts[1]) {
    throw new InvalidArgumentError(`"${text}" is not a link: use A:B:LOSS[:DELAY[:JITTER]], like n1:n2:0.3:20ms`);
  }
  const link: { between: [string, string]; loss: number; delayMs?: number; jitterMs?: number } = {
    between: [parts[0], parts[1]],
    loss: parseProbability(parts[2]!),
  };
  if (parts[3] !== undefined) link.delayMs = parseDuration(parts[3]);
  if (parts[4] !== undefined) link.jitterMs = parseDuration(parts[4]);
  return link;
}

/** `PROTOCOL@AT[=NAME]`, e.g. `heartbeat@30s=n3`: at 30 s, n3 switches the cluster to heartbeat gossip. */
export function parseSwitch(text: string): { protocol: Protocol; atMs: number; via?: string } {
  const match = /^([^@\s]+)@([^=]+)(?:=(.+))?$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`"${text}" is not a switch: use PROTOCOL@AT[=NAME], like heartbeat@30s`);
  const protocol = match[1] as Protocol;
  if (!PROTOCOLS.includes(protocol)) {
    throw new InvalidArgumentError(`"${match[1]}" is not a protocol: use ${PROTOCOLS.join(', ')}`);
  }
  const change: { protocol: Protocol; atMs: number; via?: string } = { protocol, atMs: parseDuration(match[2]!) };
  if (match[3] !== undefined) change.via = match[3].trim();
  return change;
}

/** `NAME@AT[=NODE]`, e.g. `deploy@5s=n3`: at 5 s, n3 sends a user event (or asks a query) called deploy. */
function parseSerfSpec(text: string, what: string, example: string): { name: string; atMs: number; from?: string } {
  const match = /^([^@=\s]+)@([^=]+)(?:=(.*))?$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`"${text}" is not ${what}: use NAME@AT[=NODE], like ${example}`);
  const spec: { name: string; atMs: number; from?: string } = { name: match[1]!, atMs: parseDuration(match[2]!) };
  if (match[3] !== undefined) {
    const from = match[3].trim();
    if (from === '') throw new InvalidArgumentError(`"${text}" names no node after "=": use NAME@AT=NODE, like ${example}=n3`);
    spec.from = from;
  }
  return spec;
}

/** `--event NAME@AT[=NODE]`: a Serf user event sent at AT by NODE (default: the first running node). */
export function parseEvent(text: string): { name: string; atMs: number; from?: string } {
  return parseSerfSpec(text, 'an event', 'deploy@5s');
}

/** `--query NAME@AT[=NODE]`: a Serf query asked at AT by NODE (default: the first running node). */
export function parseQuery(text: string): { name: string; atMs: number; from?: string } {
  return parseSerfSpec(text, 'a query', 'uptime@10s');
}
