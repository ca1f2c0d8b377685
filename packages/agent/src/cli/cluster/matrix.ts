import { terminalText } from '../terminal-text.js';
import type { MemberEvent } from './events.js';
import { defaultColors, downText, paintStatus, statusLetter, type Colors, type ObserverView } from './render.js';
import { byName } from './state.js';

/** What one frame of `cluster watch` shows. */
export interface WatchFrame {
  /** One view per recorded node (observer), in the state's order. */
  views: ObserverView[];
  /** Recent events, oldest first. */
  events: MemberEvent[];
  now: number;
  intervalMs: number;
  /** How many groups of recent events to show; 0 (--once) shows no events and no Ctrl-C hint. */
  eventLines: number;
}

const LEGEND: [string, string][] = [
  ['A', 'alive'],
  ['S', 'suspect'],
  ['F', 'failed'],
  ['L', 'left'],
  ['?', 'unknown'],
];

const clock = (at: number): string => new Date(at).toTimeString().slice(0, 8);

/** Every name some observer lists or the state records, in natural order: the columns. */
export function matrixColumns(views: ObserverView[]): string[] {
  const names = new Set<string>(views.map((v) => v.node));
  for (const view of views) if (view.up) for (const m of view.members) names.add(m.name);
  return [...names].sort(byName);
}

/** The status letter each observer gives each member: rows of letters, or null for a down observer. */
export function matrixLetters(views: ObserverView[], columns: string[]): (string[] | null)[] {
  return views.map((view) => {
    if (!view.up) return null;
    const status = new Map(view.members.map((m) => [m.name, m.status]));
    return columns.map((name) => statusLetter(status.get(name)));
  });
}

const STATUS_OF: Record<string, string> = { A: 'alive', S: 'suspect', F: 'failed', L: 'left', '?': 'unknown' };

/**
 * Events close in time about the same member and change, grouped: `node-2 failed` seen by four
 * observers within two seconds is one line naming them.
 */
export function groupEvents(events: MemberEvent[], windowMs = 2_000): { at: number; type: string; member: string; observers: string[] }[] {
  const groups: { at: number; type: string; member: string; observers: string[] }[] = [];
  for (const event of events) {
    const group = groups.find((g) => g.type === event.type && g.member === event.member && event.at - g.at <= windowMs);
    if (group) {
      if (!group.observers.includes(event.observer)) group.observers.push(event.observer);
    } else {
      groups.push({ at: event.at, type: event.type, member: event.member, observers: [event.observer] });
    }
  }
  return groups;
}

/**
 * One frame: a title, the matrix (rows: observers, columns: members), a legend and recent events.
 * Names and events come from the agents, so they are shown through terminalText.
 */
export function renderMatrix(frame: WatchFrame, c: Colors = defaultColors): string[] {
  const { views } = frame;
  const names = matrixColumns(views);
  const columns = names.map(terminalText);
  const letters = matrixLetters(views, names);
  const up = views.filter((v) => v.up).length;
  const live = frame.eventLines > 0;
  const lines: string[] = [
    `${c.bold('hearsay cluster watch')}  ${views.length} nodes (${up} up)  ${clock(frame.now)}` +
      (live ? `  every ${frame.intervalMs}ms  ${c.dim('Ctrl-C to stop')}` : ''),
    '',
  ];
  const corner = 'observer \\ member';
  const labels = views.map((v) => terminalText(v.node));
  const labelWidth = Math.max(corner.length, ...labels.map((label) => label.length)) + 2;
  const widths = columns.map((name) => name.length + 2);
  lines.push(c.dim(corner.padEnd(labelWidth)) + columns.map((name, i) => c.bold(name.padStart(widths[i]!))).join(''));
  views.forEach((view, row) => {
    const cells = letters[row];
    const label = labels[row]!.padEnd(labelWidth);
    if (!cells) {
      lines.push(c.dim(label) + c.red(downText(view)));
      return;
    }
    lines.push(
      label +
        cells
          .map((letter, i) => {
            // Under the middle of the column's name (names are right-aligned after two spaces).
            const width = widths[i]!;
            const pad = 2 + Math.floor((columns[i]!.length - 1) / 2);
            return ' '.repeat(pad) + paintStatus(STATUS_OF[letter]!, c)(letter) + ' '.repeat(width - 1 - pad);
          })
          .join(''),
    );
  });
  lines.push('', LEGEND.map(([letter, status]) => `${paintStatus(status, c)(letter)} ${status}`).join('  '));
  if (!live) return lines;
  const groups = groupEvents(frame.events).slice(-frame.eventLines);
  if (groups.length === 0) {
    lines.push(`${c.bold('Recent events:')} ${c.dim('none yet')}`);
  } else {
    lines.push(c.bold('Recent events:'));
    for (const g of groups) {
      const type = ['join', 'update', 'alive'].includes(g.type) ? 'alive' : g.type;
      const seenBy = terminalText(g.observers.sort(byName).join(', '));
      lines.push(`  ${c.dim(clock(g.at))}  ${terminalText(g.member)} ${paintStatus(type, c)(terminalText(g.type))}  ${c.dim(`(seen by ${seenBy})`)}`);
    }
  }
  return lines;
}
