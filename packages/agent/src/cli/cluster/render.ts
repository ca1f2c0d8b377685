import Table from 'cli-table3';
import pc from 'picocolors';
import { terminalText } from '../terminal-text.js';
import type { Member } from './api.js';
import { byName } from './state.js';

export type Colors = ReturnType<typeof pc.createColors>;

/** Colours for stdout: on for a terminal (and FORCE_COLOR), off for pipes (and NO_COLOR). */
export const defaultColors: Colors = pc;

/** The colour of a member status. */
export function paintStatus(status: string, c: Colors): (text: string) => string {
  switch (status) {
    case 'alive':
      return c.green;
    case 'suspect':
      return c.yellow;
    case 'failed':
      return c.red;
    case 'left':
      return c.blue;
    default:
      return c.dim;
  }
}

/** A alive, S suspect, F failed, L left, ? anything else (or not listed). */
export function statusLetter(status: string | undefined): string {
  switch (status) {
    case 'alive':
      return 'A';
    case 'suspect':
      return 'S';
    case 'failed':
      return 'F';
    case 'left':
      return 'L';
    default:
      return '?';
  }
}

/** `role=web,dc=x`, or `-`; safe for a terminal. */
export function formatTags(tags: Record<string, string> | undefined): string {
  const entries = Object.entries(tags ?? {});
  return entries.length === 0 ? '-' : terminalText(entries.map(([k, v]) => `${k}=${v}`).join(','));
}

/** How long ago `since` was (epoch milliseconds or an ISO date); `-` if unknown. */
export function formatSince(since: unknown, now: number): string {
  const at = typeof since === 'number' ? since : typeof since === 'string' ? Date.parse(since) : Number.NaN;
  if (!Number.isFinite(at)) return '-';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** A round-trip time as `0.42ms` or `12ms`; `-` while unmeasured. */
export function formatRtt(rttMs: unknown): string {
  if (typeof rttMs !== 'number' || !Number.isFinite(rttMs)) return '-';
  return rttMs < 10 ? `${rttMs.toFixed(2)}ms` : `${Math.round(rttMs)}ms`;
}

/** Columns a command adds after the standard ones: headers and, per member, the cells (already terminal-safe). */
export interface ExtraColumns {
  head: string[];
  cells: (member: Member) => string[];
}

/**
 * One node's view as a table: name, address, status (coloured), incarnation, tags, since, RTT, then any extra columns.
 * Every field an agent gave is shown through terminalText: peers choose their names and tags.
 */
export function membersTable(members: Member[], c: Colors = defaultColors, now = Date.now(), extra?: ExtraColumns): string {
  const table = new Table({
    head: ['Name', 'Address', 'Status', 'Incarnation', 'Tags', 'Since', 'RTT', ...(extra?.head ?? [])].map((h) => c.bold(h)),
    style: { head: [], border: [], compact: true },
  });
  for (const m of [...members].sort((a, b) => byName(a.name, b.name))) {
    table.push([
      terminalText(m.name),
      terminalText(`${m.address}:${m.port}`),
      paintStatus(m.status, c)(terminalText(m.status)),
      terminalText(String(m.incarnation)),
      formatTags(m.tags),
      formatSince(m.since, now),
      formatRtt(m.rttMs),
      ...(extra?.cells(m) ?? []),
    ]);
  }
  return table.toString();
}

/** One observer's view: up with its members, or down (and why). */
export interface ObserverView {
  node: string;
  up: boolean;
  members: Member[];
  /** Why it is down: killed, not running, not answering. */
  reason?: string;
}

/** `Node: NAME`, a rule, then the node's table (or that it is down), for each node. */
export function clusterTables(views: ObserverView[], c: Colors = defaultColors, now = Date.now()): string {
  return views
    .map((view) => {
      const title = `Node: ${terminalText(view.node)}`;
      const body = view.up ? membersTable(view.members, c, now) : c.red(downText(view));
      const width = Math.max(
        title.length,
        ...stripAnsi(body)
          .split('\n')
          .map((line) => line.length),
      );
      return `${c.bold(title)}\n${'─'.repeat(width)}\n${body}\n`;
    })
    .join('\n');
}

/** `down (why)` for an observer that is down; the why may quote an agent's error. */
export function downText(view: ObserverView): string {
  return terminalText(`down${view.reason ? ` (${view.reason})` : ''}`);
}

/** Text without ANSI escape sequences. */
export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

/**
 * The footer of `cluster members`: whether the agents' view digests agree. `views: all 3 agents
 * agree (digest 0x1a2b3c4d)`, or `views: 2 distinct digests across 5 agents (node-3, node-4 differ)`,
 * the agents that differ being those outside the most common digest. Empty without digests.
 */
export function viewsFooter(digests: readonly { node: string; digest: number }[]): string {
  if (digests.length === 0) return '';
  const byDigest = new Map<number, string[]>();
  for (const { node, digest } of digests) byDigest.set(digest, [...(byDigest.get(digest) ?? []), node]);
  const hex = (digest: number) => `0x${digest.toString(16).padStart(8, '0')}`;
  const agents = `${digests.length} agent${digests.length === 1 ? '' : 's'}`;
  if (byDigest.size === 1) return `views: ${digests.length === 1 ? `1 agent` : `all ${agents} agree`} (digest ${hex(digests[0]!.digest)})\n`;
  // The most common digest is taken as the cluster's; ties go to the one first seen.
  let common = digests[0]!.digest;
  for (const [digest, nodes] of byDigest) if (nodes.length > byDigest.get(common)!.length) common = digest;
  const differ = digests.filter((d) => d.digest !== common).map((d) => terminalText(d.node));
  return `views: ${byDigest.size} distinct digests across ${agents} (${differ.join(', ')} differ${differ.length === 1 ? 's' : ''})\n`;
}
